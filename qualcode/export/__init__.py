"""Writers: quotes, tables, charts and the report (python-docx / openpyxl loaded lazily)."""
