"""How reliable each code's suggestions are: measured when it is worth it, told in words.

`evaluate` measures precision, recall and F1 per code by cross-validation on the project's own
codings and stores, beside the figures, what they were measured on (`measured_now`). This module
decides when a measurement is missing or out of date, has one made (an "evaluate" change, which
leaves the model's training key alone), and tells a code's figures and a score's meaning in words.
"""

from __future__ import annotations

from qualcode.store.project import Project

MEASURED_SETTING = "suggest.reliability_measured"   # measured_now(): codings, documents, key, unit, codebook
MIN_DOCUMENTS = 2          # cross-validation tests on documents the model has not seen
MIN_NEW = 5                # re-measure after this many codings more (or fewer) …
SHARE = 0.1                # … or this share of those measured on, whichever is larger


def coded(project: Project) -> tuple[int, int]:
    """(codings, documents with codings) now."""
    r = project.one("SELECT COUNT(*) AS n, COUNT(DISTINCT document_id) AS d FROM codings")
    return int(r["n"]), int(r["d"])


def codebook_fingerprint(project: Project) -> str:
    """Changes when a code is added, removed, renamed or moved: figures are kept by code path."""
    import hashlib

    rows = project.query("SELECT id, path FROM codes ORDER BY id")
    return hashlib.sha1("|".join(f"{r['id']}:{r['path']}" for r in rows).encode()).hexdigest()[:16]


def measured_now(project: Project, unit: str, key: str) -> dict:
    """What a measurement is made on, stored beside its figures (by every `evaluate`)."""
    codings, documents = coded(project)
    return {"codings": codings, "documents": documents, "key": key, "unit": unit,
            "codebook": codebook_fingerprint(project)}


def needs_measuring(project: Project, unit: str = "sentence") -> bool:
    """True when there is enough coding to measure and the stored figures are missing, were measured
    on another unit or another codebook (a code renamed, moved or merged), or on noticeably fewer
    (or more) codings than there are now."""
    from qualcode.nlp.suggest import RELIABILITY_SETTING

    codings, documents = coded(project)
    if documents < MIN_DOCUMENTS:
        return False
    if not project.setting(RELIABILITY_SETTING):
        return True
    measured = project.setting(MEASURED_SETTING)
    if not isinstance(measured, dict) or measured.get("unit") != unit \
            or measured.get("codebook") != codebook_fingerprint(project):
        return True
    then = int(measured.get("codings") or 0)
    return abs(codings - then) >= max(MIN_NEW, SHARE * then)


def measure(project: Project, unit: str = "sentence", progress=None) -> dict | None:
    """Cross-validate (no learning curve) and store per-code reliability, the threshold, the summary
    and what it was measured on, in one "evaluate" change. None when fewer than two documents are
    coded. `progress(done, total)` is called after each fold; it may raise to stop."""
    from qualcode.nlp.evaluate import evaluate

    if coded(project)[1] < MIN_DOCUMENTS:
        return None
    return evaluate(project, unit, curve=False, progress=progress)


# --- at display time ---------------------------------------------------------------------------

def for_code(project: Project, code: str, evidence=None) -> dict | None:
    """A code's figures (precision, recall, f1, n): the stored measurement, else the copy the
    suggestion was made with, else None."""
    from qualcode.nlp.suggest import RELIABILITY_SETTING

    stored = project.setting(RELIABILITY_SETTING) or {}
    entry = stored.get(code) if isinstance(stored, dict) else None
    if not _usable(entry) and isinstance(evidence, dict):
        entry = evidence.get("reliability")
    return entry if _usable(entry) else None


def measured_unit(project: Project) -> str:
    from qualcode.nlp.evaluate import SUMMARY_SETTING

    summary = project.setting(SUMMARY_SETTING)
    return (summary.get("unit") if isinstance(summary, dict) else None) or "sentence"


def describe(entry: dict, unit: str = "sentence", short: bool = False) -> str:
    """The figures in words a researcher reads: right of suggested, found of coded, F1.
    `short`: counts only, for a narrow column."""
    n = int(entry.get("n") or 0)
    p, r, f1 = (float(entry.get(k) or 0.0) for k in ("precision", "recall", "f1"))
    # counts are stored since they were measured; older figures only have rates to work them out from
    right = int(entry["right"]) if "right" in entry else round(r * n)
    suggested = int(entry["suggested"]) if "suggested" in entry else (round(right / p) if p else 0)
    units = f"{unit}{'s' * (n != 1)}"
    if short:
        said = f"{right} of {suggested} right" if right and suggested else "none right"
        return f"{said}, found {right} of {n} coded"
    if right and suggested:
        said = f"{right} of {suggested} past suggestions right (precision {p:.2f})"
    else:
        said = f"no past suggestion right (precision {p:.2f})"
    if n:
        found = f"found {right} of {n} coded {units} (recall {r:.2f})"
    else:
        found = f"no coded {unit}s to find yet"
    return f"{said}, {found}, F1 {f1:.2f}"


def score_meaning(project: Project, score: float) -> str | None:
    """What a score has meant on this project: how often suggestions in its band were right when
    tested (the calibration of the last measurement), or None before one."""
    from qualcode.nlp.evaluate import SUMMARY_SETTING

    summary = project.setting(SUMMARY_SETTING)
    bins = summary.get("calibration") if isinstance(summary, dict) else None
    for b in bins or ():
        lo, hi = (float(x) for x in str(b.get("bin", "0-0")).split("-"))
        if lo <= score < hi or (hi >= 1.0 and score >= lo):
            n, rate = int(b.get("n") or 0), float(b.get("observed") or 0.0)
            if n:
                return (f"suggestions scored {lo:.1f}–{hi:.1f} were right {rate:.0%} of the time when tested "
                        f"({round(rate * n)} of {n})")
    return None


def not_measured(project: Project) -> str:
    """Why a code has no figures yet, in words."""
    from qualcode.nlp.suggest import RELIABILITY_SETTING

    _, documents = coded(project)
    if documents < MIN_DOCUMENTS:
        return f"not measured yet — needs codings in {MIN_DOCUMENTS} documents"
    if project.setting(RELIABILITY_SETTING):
        return "not measured yet — this code had no codings when suggestions were last tested"
    return "not measured yet — it is measured in the background as you code"


def _usable(entry) -> bool:
    return isinstance(entry, dict) and all(k in entry for k in ("precision", "recall", "n"))
