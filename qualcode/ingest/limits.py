"""Size limits that keep hostile files (zip bombs, enormous lines) from exhausting memory."""

MAX_FILE_BYTES = 200 * 1024 * 1024         # a transcript bigger than this is not a transcript
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024     # total of all members read from a .docx/.odt/.qdpx
MAX_COMPRESSION_RATIO = 200                # zip bombs compress thousands to one
MAX_LINE_CHARS = 1_000_000                 # one line longer than this is not a transcript
MAX_XML_DEPTH = 200
