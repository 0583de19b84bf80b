"""Reading transcripts: formats, encodings, front matter, speaker turns, sentences."""
