"""Exchange and agreement speed on the demo project (66 transcripts, 888 codings by 2 coders).

1. REFI-QDA: export the project as .qdpx, import it into a new project. Baseline in the same
   run: importing the same transcripts from their files (`store_documents` of parsed files),
   which does the same segmentation work.
2. Agreement, all codes: qualcode's pattern-count path against agreement_stats on the expanded
   coders × units matrices (the reference implementation), at sentence and character level;
   and the bootstrap (1000 resamples) for one code against agreement_stats.bootstrap_ci.

    .venv/bin/python bench/bench_exchange.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    import numpy as np

    from qualcode.analysis import agreement as agr
    from qualcode.analysis import agreement_stats as ref
    from qualcode.demo import build_demo
    from qualcode.documents import store_documents
    from qualcode.export.refi import export_qdpx
    from qualcode.export.refi_import import read_refi
    from qualcode.ingest.importer import parse_file
    from qualcode.merge import apply_incoming
    from qualcode.store.project import Project

    tmp = Path(tempfile.mkdtemp())
    demo = tmp / "demo.db"
    build_demo(demo)
    project = Project(demo)
    n_docs = project.one("SELECT COUNT(*) AS n FROM documents")["n"]

    t_export, _ = timed(lambda: export_qdpx(project, tmp / "demo.qdpx"))
    def do_import():
        with Project(tmp / "fresh.db", create=True) as fresh:
            apply_incoming(fresh, read_refi(tmp / "demo.qdpx"))
    t_import, _ = timed(do_import)
    files = sorted(p for p in (REPO / "transcripts").iterdir() if p.is_file())
    def baseline_import():
        with Project(tmp / "base.db", create=True) as base:
            store_documents(base, [parse_file(f) for f in files])
    t_base, _ = timed(baseline_import)

    rows = []
    for unit in ("sentence", "character"):
        t_ours, rel = timed(lambda: (agr.agreement(project, unit=unit, bootstrap_n=0),
                                     agr.reliability(project, unit=unit)))
        result, rel = rel
        pat = agr.Patterns(len(rel.coders))
        def expanded():
            out = []
            for c in rel.codes:
                if unit == "character":
                    counts = rel.doc_counts[c["id"]].sum(axis=0).astype(int)
                    ids = np.repeat(np.arange(pat.size), counts)
                else:
                    ids = rel.patterns[c["id"]]
                digits = pat.digits[ids].T
                data = [[None if v == 0 else int(v == 2) for v in row] for row in digits]
                out.append((ref.percent_agreement(data), ref.cohen_kappa(*data), ref.fleiss_kappa_from_data(data),
                            ref.krippendorff_alpha_nominal(data)))
            return out
        t_ref, values = timed(expanded)
        for row, want in zip(result["codes"], values):
            got = (row["percent_agreement"], row["cohen_kappa"], row["fleiss_kappa"], row["krippendorff_alpha"])
            for g, w in zip(got, want):
                assert (g is None and w != w) or abs(g - w) < 1e-9, (row["code"], g, w)
        rows.append((unit, len(rel.codes), result["overall"]["n_units"], t_ref, t_ours))

    code = max(rel.codes, key=lambda c: rel.applied[c["id"]]["aysel"] if "aysel" in rel.applied[c["id"]] else 0)
    rel_s = agr.reliability(project, unit="sentence", codes=[code["path"]])
    ids = rel_s.patterns[code["id"]]
    data = [[None if v == 0 else int(v == 2) for v in row] for row in pat.digits[ids].T]
    t_boot_ref, _ = timed(lambda: ref.bootstrap_ci(ref.krippendorff_alpha_nominal, data, n=1000))
    t_boot, _ = timed(lambda: agr.agreement(project, unit="sentence", codes=[code["path"]], bootstrap_n=1000))
    project.close()

    lines = [f"Corpus: the demo project, {n_docs} documents, 888 codings by 2 coders, 48 codes.", "",
             "| what | baseline (s) | qualcode (s) |", "|---|---:|---:|",
             f"| REFI-QDA import of the exported .qdpx (baseline: importing the transcript files) | {t_base:.2f} | {t_import:.2f} |",
             f"| REFI-QDA export (.qdpx, {n_docs} sources) | — | {t_export:.2f} |"]
    for unit, n_codes, n_units, t_ref, t_ours in rows:
        lines.append(f"| agreement, {n_codes} codes, {unit} ({n_units:,} unit×code decisions; baseline: "
                     f"agreement_stats on the expanded matrices) | {t_ref:.2f} | {t_ours:.2f} |")
    lines.append(f"| bootstrap, 1000 resamples, one code, sentence (baseline: bootstrap_ci of alpha alone; qualcode: "
                 f"all four statistics and the figures) | {t_boot_ref:.2f} | {t_boot:.2f} |")
    lines += ["", "Every figure of the qualcode path equals the reference to 1e-9 (checked in the run)."]
    record("Exchange and agreement", lines)


if __name__ == "__main__":
    main()
