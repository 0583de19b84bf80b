"""qualcode: qualitative coding of transcripts, offline and keyboard-first.

The core (store, ingest, codebook, analysis) never imports Textual; spaCy and
scikit-learn load lazily, only where a command needs them.
"""

__version__ = "0.1.0"
