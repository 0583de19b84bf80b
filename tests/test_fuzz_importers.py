"""Fuzzing the importers: whatever the bytes, the answer is a document or one QualcodeError.

Two sources of input: hypothesis-built files (structured transcripts, front matter, codebooks,
codings files, raw bytes), and mutations of real files (the demo transcripts and codebook,
and ../shared/fixtures when present): bit flips, truncations, insertions, corrupted zip
members and corrupted zip structure. Any exception other than QualcodeError fails the test;
a parsed document must also be internally consistent (spans inside the text, in order).

Runs derandomized (the same examples every time) so CI is stable; for a real hunt:
    QUALCODE_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_fuzz_importers.py
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import REPO, SHARED
from qualcode.errors import QualcodeError

HUNT = int(os.environ.get("QUALCODE_FUZZ_EXAMPLES", "0"))


def fuzz_settings(examples: int):
    return settings(max_examples=HUNT or examples, deadline=None, derandomize=not HUNT, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# --- the importers under test, and what a clean answer is ----------------------------------------

def parse(path: Path):
    from qualcode.ingest.importer import parse_file

    try:
        doc = parse_file(path)
    except QualcodeError:
        return None
    check_document(doc)
    return doc


def check_document(doc) -> None:
    n = len(doc.text)
    assert doc.text and "\x00" not in doc.text and "\x1b" not in doc.text
    last = 0
    for t in doc.turns:
        assert 0 <= t.start <= t.text_start <= t.end <= n, t
        assert t.start >= last
        last = t.start
    for spans in (doc.paragraphs, doc.sentences):
        prev = 0
        for s, e, turn in spans:
            assert 0 <= s < e <= n and s >= prev and 0 <= turn < max(len(doc.turns), 1)
            prev = s


def load_codebook(path: Path):
    from qualcode.codebook_files import load

    try:
        meta, specs = load(path)
    except QualcodeError:
        return None
    paths = [s.path for s in specs]
    assert len(paths) == len(set(paths))
    assert all(p and all(part for part in p.split("/")) for p in paths), paths
    return specs


def read_codings(path: Path):
    from qualcode.coding import read_coding_file

    try:
        rows = read_coding_file(path)
    except QualcodeError:
        return None
    assert all(isinstance(r.start, int) and isinstance(r.end, int) for r in rows)
    return rows


# --- seeds: real files to mutate ------------------------------------------------------------------

def _synthetic_docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("Interviewer: How do you send money?")
    d.add_paragraph("Respondent: By card, [laughs] mostly. Fees are 1%.")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "P1", "Through Zolotaya Korona."
    t.cell(1, 0).text, t.cell(1, 1).text = "P2", "Cash, with a bus driver."
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _synthetic_odt() -> bytes:
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        z.writestr("content.xml", f'<office:document-content {ns}><office:body><office:text>'
                                  '<text:p>Moderator: Who sends?</text:p><text:p>P1: My son<text:s text:c="3"/>'
                                  'from Moscow.<text:line-break/>Every month.</text:p>'
                                  '</office:text></office:body></office:document-content>')
    return buf.getvalue()


def _seed_files(suffixes: tuple[str, ...]) -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    folders = [REPO / "transcripts", SHARED / "fixtures" / "docx", SHARED / "fixtures" / "qualcoder"]
    for folder in folders:
        if folder.is_dir():
            for f in sorted(folder.iterdir()):
                if f.suffix.lower() in suffixes and f.stat().st_size < 200_000:
                    seeds[f"{folder.name}/{f.name}"] = f.read_bytes()
    if ".docx" in suffixes:
        seeds["synthetic.docx"] = _synthetic_docx()
    if ".odt" in suffixes:
        seeds["synthetic.odt"] = _synthetic_odt()
    # keep the run short: a handful of each kind, always the same ones
    by_kind: dict[str, list[str]] = {}
    for name in sorted(seeds):
        by_kind.setdefault(Path(name).suffix.lower(), []).append(name)
    keep = {n for names in by_kind.values() for n in names[:6]}
    return {n: seeds[n] for n in sorted(keep)}


TEXT_SEEDS = _seed_files((".txt", ".md"))
ZIP_SEEDS = _seed_files((".docx", ".odt"))


def _codebook_seeds() -> dict[str, bytes]:
    """A slice of the study codebook (the whole one is 83 KB: slow to parse hundreds of times)."""
    import yaml

    seeds = {"tiny.yaml": b"name: t\ncodes:\n  - name: Barriers\n    color: '#E15759'\n    shortcut: 3\n"
                          b"    children: [{name: Fees, keywords: [fee, commission]}]\n"
                          b"  - {path: Use/Food}\n"}
    book = REPO / "codebooks" / "remittances.yaml"
    if book.exists():
        data = yaml.safe_load(book.read_text(encoding="utf-8"))
        data["codes"] = data["codes"][:2]
        seeds["remittances-slice.yaml"] = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()
        from qualcode.codebook_files import load, to_qdc
        _, specs = load(book)
        codes = [{"id": f"{i:032x}", "parent_id": None, "name": s.path.replace("/", "-"), "color": s.color,
                  "description": s.description, "when_to_use": s.when_to_use, "when_not_to_use": None,
                  "examples": s.examples[:1], "keywords": s.keywords[:3]} for i, s in enumerate(specs[:12])]
        seeds["remittances.qdc"] = to_qdc(codes)
    seeds["tiny.qdc"] = (b'<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="x">'
                         b'<Codes><Code guid="3F2504E0-4F89-11D3-9A0C-0305E82C3301" name="A" isCodable="true" '
                         b'color="#FF0000"><Description>d</Description><Code name="B" isCodable="true"/></Code>'
                         b'</Codes></CodeBook>')
    return seeds


CODEBOOK_SEEDS = _codebook_seeds()
CODINGS_SEEDS = {
    "c.csv": b"document,start,end,code,coder,memo\nEI01,0,10,Barriers/Fees,aysel,\"a, memo\"\nEI01,5,20,Use,,\n",
    "c.jsonl": b'{"document": "EI01", "start": 0, "end": 10, "code": "Barriers/Fees"}\n'
               b'{"document": "EI01", "start": 3, "end": 9, "code": "Use", "coder": "rashad", "memo": "m"}\n',
    "c.json": b'[{"document": "EI01", "start": 0, "end": 10, "code": "Barriers/Fees"}]',
}
demo_codings = REPO / "transcripts" / "coding" / "demo-codings.jsonl"
if demo_codings.exists():
    CODINGS_SEEDS["demo.jsonl"] = b"\n".join(demo_codings.read_bytes().splitlines()[:30])


# --- mutations -------------------------------------------------------------------------------------

INTERESTING = [b"\x00", b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\x1b[31m", b"\r", b"\r\n", b"\n---\n",
               b"---\n", b":", b"[", b"]", b"&", b"&amp;", b"&#0;", b"&#x9b;", b"<", b"</", b"<!DOCTYPE x>",
               b"<![CDATA[", b"]]>", b"<?xml", b'"', b"'", b"*a", b"&a ", b"{", b"}", b"\t", b"\\", b"%",
               b"\xef\xbb\xbf", "İ".encode(), "ß".encode(), "\u0301".encode(), "\U0001F600".encode(),
               b"=" * 300, b"P1 (female, 52):", b"[00:12:31] ", b"Interviewer:", b"speakers:", b"name: "]


@st.composite
def mutated_bytes(draw, seed: bytes, max_ops: int = 4) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate", "overwrite"]))
        pos = draw(st.integers(0, max(len(data), 1) - 1)) if data else 0
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=16)))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "duplicate":
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 256))]
        elif op == "overwrite" and data:
            piece = draw(st.sampled_from(INTERESTING))
            data[pos:pos + len(piece)] = piece
    return bytes(data)


@st.composite
def mutated_zip(draw, seed: bytes) -> bytes:
    """Either a member's bytes are mutated and the archive rebuilt (exercising the XML
    readers), or the archive bytes themselves are damaged (exercising the zip checks)."""
    if draw(st.booleans()):
        return draw(mutated_bytes(seed, max_ops=3))
    with zipfile.ZipFile(io.BytesIO(seed)) as zin:
        members = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    xml_members = [n for n, d in members if n.endswith((".xml", ".rels"))] or [members[0][0]]
    target = draw(st.sampled_from(sorted(xml_members)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members:
            if name == target:
                data = draw(mutated_bytes(data))
            zout.writestr(name, data)
        if draw(st.integers(0, 9)) == 0:
            zout.writestr(draw(st.sampled_from(["../x.xml", "word/extra.xml", "/abs.xml"])), b"<x/>")
    return out.getvalue()


# --- hypothesis-built inputs ------------------------------------------------------------------------

LABELS = st.sampled_from(["Interviewer", "Respondent", "Moderator", "P1", "P12 (female, 52)", "Q", "A",
                          "AYTAN", "Speaker 2", "[00:12:31] Moderator", "Интервьюер", "Aparıcı", ""])
WORDS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@st.composite
def transcripts(draw) -> str:
    lines = []
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(["type", "city", "language", "name", "date", "sector", "x", "speakers"]),
                             max_size=5))
        fm = []
        for k in keys:
            if k == "speakers":
                fm.append("speakers:")
                for label in draw(st.lists(LABELS, max_size=3)):
                    fm.append(f"  {json.dumps(label)}: {{gender: {json.dumps(draw(WORDS))}, age: {draw(st.integers(-5, 200))}}}")
            else:
                fm.append(f"{k}: {json.dumps(draw(WORDS), ensure_ascii=draw(st.booleans()))}")
        lines += ["---", *fm, draw(st.sampled_from(["---", "...", "--", ""]))]
    for _ in range(draw(st.integers(0, 12))):
        label = draw(LABELS)
        said = draw(WORDS)
        lines.append(f"{label}: {said}" if label else said)
        if draw(st.booleans()):
            lines.append("")
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)


ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1251", "cp1252", "koi8_r"])


@st.composite
def encoded_transcripts(draw) -> bytes:
    text = draw(transcripts())
    return text.encode(draw(ENCODINGS), errors="replace")


YAML_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                         WORDS, st.sampled_from(["#E15759", "#abc", "red", "/", "a/b", "", " ", "~"]))
YAML_VALUES = st.recursive(YAML_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                  st.dictionaries(WORDS, inner, max_size=4)),
                           max_leaves=12)
CODE_KEYS = st.sampled_from(["name", "path", "parent", "color", "colour", "description", "definition",
                             "when_to_use", "examples", "keywords", "shortcut", "children", "codes", "guid"])


@st.composite
def code_entries(draw, depth: int = 0):
    entry = draw(st.dictionaries(CODE_KEYS, YAML_VALUES, max_size=5))
    if depth < 3 and draw(st.booleans()):
        entry["children"] = draw(st.lists(code_entries(depth + 1), max_size=3))
    if draw(st.integers(0, 4)):
        entry["name"] = draw(st.one_of(WORDS, st.sampled_from(["Barriers", "Fees", "A/B", "x"])))
    return entry


@st.composite
def codebook_yaml(draw) -> bytes:
    import yaml

    top = draw(st.one_of(st.lists(code_entries(), max_size=5), YAML_VALUES))
    data = {"name": draw(WORDS), "codes": top} if draw(st.integers(0, 5)) else top
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans())).encode("utf-8")


XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)


@st.composite
def qdc_codes(draw, depth: int = 0) -> str:
    from xml.sax.saxutils import quoteattr

    parts = []
    for _ in range(draw(st.integers(0, 3))):
        attrs = {"name": draw(XML_TEXT), "isCodable": draw(st.sampled_from(["true", "false", "x"]))}
        if draw(st.booleans()):
            attrs["guid"] = draw(st.one_of(st.uuids().map(str), XML_TEXT))
        if draw(st.booleans()):
            attrs["color"] = draw(st.one_of(st.just("#FF00AA"), XML_TEXT))
        attr_text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
        desc = ""
        if draw(st.booleans()):
            from xml.sax.saxutils import escape
            desc = f"<Description>{escape(draw(XML_TEXT))}\n\nWhen to use: {escape(draw(XML_TEXT))}</Description>"
        kids = draw(qdc_codes(depth + 1)) if depth < 3 else ""
        parts.append(f"<Code {attr_text}>{desc}{kids}</Code>")
    return "".join(parts)


@st.composite
def codebook_qdc(draw) -> bytes:
    body = f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{draw(qdc_codes())}</Codes></CodeBook>'
    text = draw(st.sampled_from(['<?xml version="1.0" encoding="utf-8"?>', ""])) + body
    return text.encode("utf-8", errors="surrogatepass")


FIELD = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True), WORDS,
                  st.lists(st.integers(), max_size=2), st.dictionaries(WORDS, st.integers(), max_size=2))


@st.composite
def codings_file(draw) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".csv", ".jsonl", ".json"]))
    rows = draw(st.lists(st.dictionaries(st.sampled_from(["document", "start", "end", "code", "coder", "memo", "x"]),
                                         FIELD, max_size=7), max_size=5))
    if suffix == ".csv":
        import csv
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["document", "start", "end", "code", "coder", "memo"])
        for r in rows:
            w.writerow([r.get(k, "") for k in ("document", "start", "end", "code", "coder", "memo")][:draw(st.integers(0, 7))])
        return suffix, buf.getvalue().encode("utf-8", errors="replace")
    if suffix == ".json":
        payload = draw(st.one_of(st.just(rows), FIELD))
        return suffix, json.dumps(payload).encode()
    return suffix, "\n".join(json.dumps(r) if draw(st.integers(0, 9)) else draw(WORDS) for r in rows).encode(
        "utf-8", errors="replace")


# --- the tests ----------------------------------------------------------------------------------------

@fuzz_settings(250)
@given(data=encoded_transcripts(), suffix=st.sampled_from([".txt", ".md"]))
def test_generated_transcripts(work, data, suffix):
    parse(write(work, "gen" + suffix, data))


@fuzz_settings(150)
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".md", ".docx", ".odt"]))
def test_random_bytes_as_transcripts(work, data, suffix):
    parse(write(work, "raw" + suffix, data))


@pytest.mark.skipif(not TEXT_SEEDS, reason="no text seeds")
@fuzz_settings(200)
@given(st.data())
def test_mutated_real_transcripts(work, data):
    name = data.draw(st.sampled_from(sorted(TEXT_SEEDS)))
    mutated = data.draw(mutated_bytes(TEXT_SEEDS[name]))
    parse(write(work, "mut" + Path(name).suffix, mutated))


@fuzz_settings(250)
@given(st.data())
def test_mutated_word_and_opendocument_files(work, data):
    name = data.draw(st.sampled_from(sorted(ZIP_SEEDS)))
    mutated = data.draw(mutated_zip(ZIP_SEEDS[name]))
    parse(write(work, "mut" + Path(name).suffix, mutated))


@fuzz_settings(200)
@given(data=st.one_of(codebook_yaml(), st.binary(max_size=500)))
def test_generated_yaml_codebooks(work, data):
    load_codebook(write(work, "gen.yaml", data))


@fuzz_settings(150)
@given(data=codebook_qdc())
def test_generated_qdc_codebooks(work, data):
    load_codebook(write(work, "gen.qdc", data))


@fuzz_settings(200)
@given(st.data())
def test_mutated_codebooks(work, data):
    name = data.draw(st.sampled_from(sorted(CODEBOOK_SEEDS)))
    mutated = data.draw(mutated_bytes(CODEBOOK_SEEDS[name]))
    load_codebook(write(work, "mut" + Path(name).suffix, mutated))


@fuzz_settings(250)
@given(file=codings_file())
def test_generated_codings_files(work, file):
    suffix, data = file
    read_codings(write(work, "gen" + suffix, data))


@fuzz_settings(150)
@given(st.data())
def test_mutated_codings_files(work, data):
    name = data.draw(st.sampled_from(sorted(CODINGS_SEEDS)))
    mutated = data.draw(mutated_bytes(CODINGS_SEEDS[name]))
    read_codings(write(work, "mut" + Path(name).suffix, mutated))


@pytest.fixture(scope="module")
def qdpx_seed(work) -> bytes:
    """A small REFI-QDA project exported by qualcode: sources, codes, codings, a memo."""
    from support import INTERVIEW, qc

    src = work / "EI01.md"
    src.write_text(INTERVIEW, encoding="utf-8")
    db = work / "seed.db"
    steps = [("import", src), ("codebook", "add", "Barriers/Fees"), ("code", "EI01", "10", "40", "Barriers/Fees"),
             ("memo", "document", "EI01", "a memo"), ("export", "qdpx", work / "seed.qdpx")]
    for step in steps:
        r = qc("--project", db, *step)
        if r.code != 0:
            pytest.skip(f"cannot build a .qdpx seed: {r.err.strip()}")
    return (work / "seed.qdpx").read_bytes()


@fuzz_settings(100)
@given(st.data())
def test_mutated_qdpx_projects(work, qdpx_seed, data):
    """Not in the brief's list of importers, but it opens the same zip and XML: fuzz it too."""
    try:
        from qualcode.export.refi_import import read_refi
    except ImportError:
        pytest.skip("no REFI-QDA importer")
    path = write(work, "mut.qdpx", data.draw(mutated_zip(qdpx_seed)))
    try:
        read_refi(path)
    except QualcodeError:
        pass
