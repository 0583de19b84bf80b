"""Import speed: words per second of qualcode's import against bare spaCy on the same texts.

Baseline: spaCy's blank English pipeline with a sentencizer, `nlp.pipe` over the same
transcripts (no reading, no turns, no storing). Target: import at least half that speed.
Also `qualcode --help` start-up against a bare `python -c pass` (target under 0.3 s).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import best_of, record  # noqa: E402

from qualcode.demo import transcript_files  # noqa: E402
from qualcode.documents import store_documents  # noqa: E402
from qualcode.ingest.importer import parse_file, parse_text  # noqa: E402
from qualcode.nlp.pipeline import sentencizer  # noqa: E402
from qualcode.store.project import Project  # noqa: E402

COPIES = 3


def main() -> None:
    files = transcript_files()
    raw = [parse_file(p, segment=False) for p in files]
    texts = [d.text for d in raw] * COPIES
    words = sum(len(t.split()) for t in texts)
    nlp = sentencizer("en")
    list(nlp.pipe(texts[:2]))  # warm up

    def spacy_only():
        for doc in nlp.pipe(texts, batch_size=64):
            list(doc.sents)

    def qualcode_import():
        with tempfile.TemporaryDirectory() as tmp:
            parsed = []
            for copy in range(COPIES):
                for p in files:
                    parsed.append(parse_file(p, name=f"{p.stem}-{copy}"))
            with Project(Path(tmp) / "b.db", create=True) as project:
                store_documents(project, parsed)

    base = best_of(spacy_only)
    ours = best_of(qualcode_import)
    help_times, bare = [], []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qualcode.cli", "--help"], capture_output=True, check=True)
        help_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        bare.append(time.perf_counter() - t)
    ratio = (words / ours) / (words / base)
    record("Import", [
        f"Corpus: the {len(files)} demo transcripts × {COPIES} = {len(texts)} documents, {words:,} words.",
        "",
        "| what | seconds | words/s |",
        "|---|---:|---:|",
        f"| baseline: bare spaCy (blank `en` + sentencizer, `nlp.pipe`) | {base:.2f} | {words / base:,.0f} |",
        f"| `qualcode import` path (read, decode, front matter, turns, sentences, store in one transaction) | {ours:.2f} | {words / ours:,.0f} |",
        "",
        f"qualcode import runs at **{ratio:.0%}** of bare spaCy speed (target ≥ 50%).",
        "",
        f"`qualcode --help`: {min(help_times):.3f} s best of 5 (bare `python -c pass`: {min(bare):.3f} s); target < 0.3 s.",
    ])


if __name__ == "__main__":
    main()
