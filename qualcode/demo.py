"""The bundled demo: the fictional remittances study in transcripts/ and codebooks/.

`qualcode demo` imports every transcript, loads the codebook, applies the demo coding by two
fictional coders and opens the app. The demo coding is authored as quotes in
transcripts/coding/*.yaml; `python -m qualcode.demo` turns them into exact offsets in
transcripts/coding/demo-codings.jsonl, which is what the demo loads.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from qualcode.errors import QualcodeError

ROOT = Path(__file__).resolve().parents[1]
TRANSCRIPTS = ROOT / "transcripts"
CODEBOOK = ROOT / "codebooks" / "remittances.yaml"
CODINGS = TRANSCRIPTS / "coding" / "demo-codings.jsonl"
FAVOURITES = ["Barriers/Fees and exchange rates", "Barriers/Trust", "Digitalization/Cards and card-to-card",
              "Digitalization/Mobile and online transfers", "Gender/Control over use of money",
              "Gender/Women as receivers", "Regulation/ID and KYC rules", "Channels/Money transfer operators",
              "Use of remittances/Daily consumption"]


def transcript_files() -> list[Path]:
    if not TRANSCRIPTS.is_dir():
        raise QualcodeError(f"the demo transcripts are not here ({TRANSCRIPTS}); run from a clone of the repository")
    return sorted(p for p in TRANSCRIPTS.iterdir()
                  if p.suffix.lower() in (".txt", ".md", ".docx", ".odt") and p.name.lower() != "readme.md")


def build_demo(target: Path, fresh: bool = True, progress=None) -> dict:
    from qualcode.codebook import import_specs, update_code
    from qualcode.codebook_files import load
    from qualcode.coding import import_codings
    from qualcode.documents import store_documents
    from qualcode.ingest.importer import parse_file
    from qualcode.store.project import Project

    say = progress or (lambda msg: None)
    started = time.perf_counter()
    if fresh and target.exists():
        from qualcode.store import backup
        from qualcode.store.project import Project as _P
        with _P(target) as old:
            backup.rotate(old, "before rebuilding the demo")
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(target) + suffix)
            if p.exists():
                p.unlink()
    files = transcript_files()
    say(f"Reading {len(files)} transcripts …")
    parsed = [parse_file(p) for p in files]
    project = Project(target, create=True)
    try:
        store_documents(project, parsed, coder="demo")
        say("Loading the codebook …")
        meta, specs = load(CODEBOOK)
        import_specs(project, specs, "demo", "Loaded the study codebook")
        if meta:
            with project.change("codebook", "Codebook metadata", "demo") as ch:
                ch.set_setting("codebook_meta", meta)
        for n, path in enumerate(FAVOURITES, 1):
            if project.one("SELECT 1 FROM codes WHERE path = ?", (path,)) and \
                    not project.one("SELECT 1 FROM codes WHERE shortcut IS NOT NULL AND path = ?", (path,)):
                update_code(project, path, "demo", shortcut=n)
        requests = demo_codings()
        if requests:
            say(f"Applying {len(requests)} demo codings …")
            import_codings(project, requests, "demo", "Demo coding by aysel and rashad")
        stats = project_stats(project)
    finally:
        project.close()
    stats["seconds"] = round(time.perf_counter() - started, 2)
    stats["path"] = str(target)
    return stats


def open_stats(target: Path) -> dict:
    """Summary of an existing demo project (opened, not rebuilt)."""
    from qualcode.store.project import Project

    with Project(target) as project:
        stats = project_stats(project)
    stats.update(seconds=0.0, path=str(target))
    return stats


def demo_codings():
    from qualcode.coding import SpanRequest

    if not CODINGS.exists():
        return []
    out = []
    for line in CODINGS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out.append(SpanRequest(r["document"], r["start"], r["end"], r["code"], r.get("coder"), r.get("memo")))
    return out


def project_stats(project) -> dict:
    types = {r["type"] or "(none)": r["n"] for r in project.query(
        "SELECT type, COUNT(*) AS n FROM documents GROUP BY type")}
    coders = {r["name"]: r["n"] for r in project.query(
        "SELECT k.name, COUNT(*) AS n FROM codings c JOIN coders k ON k.id = c.coder_id GROUP BY k.name")}
    return {"documents": sum(types.values()), "types": types,
            "codes": project.one("SELECT COUNT(*) AS n FROM codes")["n"],
            "codings": sum(coders.values()), "coders": coders,
            "sentences": project.one("SELECT COUNT(*) AS n FROM sentences")["n"],
            "turns": project.one("SELECT COUNT(*) AS n FROM turns")["n"],
            "coded_documents": project.one("SELECT COUNT(DISTINCT document_id) AS n FROM codings")["n"]}


def summary_lines(stats: dict) -> list[str]:
    types = ", ".join(f"{n} {t}" for t, n in sorted(stats["types"].items()))
    coders = ", ".join(f"{n} by {c}" for c, n in sorted(stats["coders"].items()))
    built = f"built in {stats['seconds']} s" if stats["seconds"] else "existing project; --fresh rebuilds it"
    return [f"Demo project: {stats['path']}  ({built})",
            f"  {stats['documents']} documents ({types}); {stats['turns']} turns, {stats['sentences']} sentences",
            f"  {stats['codes']} codes; {stats['codings']} codings in {stats['coded_documents']} documents ({coders or 'none'})",
            f"Open it:  qualcode --project {stats['path']} tui"]


# --- authoring: quotes → offsets ------------------------------------------------------------

def anchor_quote_files() -> list[dict]:
    """Resolve transcripts/coding/*.yaml (start_quote/end_quote) against the stored texts."""
    import yaml

    from qualcode.ingest.importer import parse_file

    texts = {}
    for p in transcript_files():
        d = parse_file(p, segment=False)
        texts[d.name] = d.text
    records = []
    for qf in sorted((TRANSCRIPTS / "coding").glob("*.yaml")):
        data = yaml.safe_load(qf.read_text(encoding="utf-8"))
        doc = data["document"]
        if doc not in texts:
            raise QualcodeError(f"{qf.name}: no transcript named {doc}")
        text = texts[doc]
        for i, c in enumerate(data.get("codings") or []):
            start = text.find(c["start_quote"])
            if start < 0 or text.find(c["start_quote"], start + 1) >= 0:
                raise QualcodeError(f"{qf.name} #{i}: start_quote not found exactly once")
            end = start + len(c["start_quote"])
            if c.get("end_quote"):
                e = text.find(c["end_quote"], start)
                if e < 0:
                    raise QualcodeError(f"{qf.name} #{i}: end_quote not found after start_quote")
                end = e + len(c["end_quote"])
            rec = {"document": doc, "start": start, "end": end, "code": c["code"], "coder": data["coder"]}
            if c.get("memo"):
                rec["memo"] = c["memo"]
            rec["text"] = text[start:end]
            records.append(rec)
    return records


def write_codings_file() -> int:
    records = anchor_quote_files()
    CODINGS.parent.mkdir(exist_ok=True)
    with open(CODINGS, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(records)


if __name__ == "__main__":
    print(f"wrote {write_codings_file()} codings to {os.path.relpath(CODINGS)}")
