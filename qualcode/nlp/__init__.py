"""Language processing: spaCy pipelines (loaded lazily), suggestions, evaluation."""
