"""Codebook files: YAML and REFI-QDA .qdc round trips, the .qdc checked against the XSD."""

import json

import pytest
import yaml

from support import REPO, SHARED, qc

XSD = SHARED / "refi-qda" / "schemas" / "Codebook-mrt2019.xsd"


def _show(project):
    return json.loads(qc("--project", project, "codebook", "show", "--json").out)


def test_study_codebook_is_complete(project):
    codes = _show(project)
    themes = [c for c in codes if c["parent"] is None]
    assert {"Regulation", "Digitalization", "Barriers", "Gender"} <= {c["name"] for c in themes}
    for c in codes:
        assert c["description"] and c["when_to_use"] and c["when_not_to_use"], c["path"]
        assert 2 <= len(c["examples"]) <= 3 and c["keywords"], c["path"]
    for t in ("Regulation", "Digitalization", "Barriers", "Gender"):
        assert 4 <= sum(1 for c in codes if c["parent"] == t) <= 8


@pytest.mark.parametrize("suffix", [".yaml", ".qdc"])
def test_round_trip_preserves_every_field(project, tmp_path, suffix):
    qc("--project", project, "codebook", "add", "Regulation/Other")
    qc("--project", project, "codebook", "add", "Barriers/Other")   # same name, other parent
    out = tmp_path / f"cb{suffix}"
    assert qc("--project", project, "codebook", "export", out).code == 0
    fresh = tmp_path / "fresh.db"
    assert qc("--project", fresh, "codebook", "import", out).code == 0
    keep = ("path", "parent", "description", "when_to_use", "when_not_to_use", "examples", "keywords", "color")
    a = [{k: c[k] for k in keep} for c in _show(project)]
    b = [{k: c[k] for k in keep} for c in _show(fresh)]
    assert a == b


def test_qdc_export_is_valid_against_the_refi_schema(project, tmp_path):
    if not XSD.exists():
        pytest.skip("../shared/refi-qda is absent")
    import xmlschema

    out = tmp_path / "cb.qdc"
    qc("--project", project, "codebook", "export", out)
    xmlschema.XMLSchema(str(XSD)).validate(str(out))


def test_qdc_from_atlas_ti_imports(tmp_path):
    sample = SHARED / "refi-qda" / "samples" / "atlasti-win-23.4.0_codebook.qdc"
    if not sample.exists():
        pytest.skip("../shared/refi-qda is absent")
    project = tmp_path / "p.db"
    assert qc("--project", project, "codebook", "import", sample).code == 0
    codes = _show(project)
    assert codes[0]["name"] == "code1" and codes[0]["description"] == "description"


def test_import_merges_by_path(project, tmp_path):
    f = tmp_path / "extra.yaml"
    f.write_text(yaml.safe_dump({"codes": [{"name": "Barriers", "children": [
        {"name": "Trust", "description": "Revised definition."}, {"name": "Language"}]}]}), encoding="utf-8")
    r = qc("--project", project, "codebook", "import", f)
    assert "1 code(s) added, 1 updated" in r.out, r.out
    codes = {c["path"]: c for c in _show(project)}
    assert codes["Barriers/Trust"]["description"] == "Revised definition."
    assert codes["Barriers/Trust"]["examples"]       # fields the file did not give are kept


def test_flat_codebook_with_paths(tmp_path):
    f = tmp_path / "flat.yaml"
    f.write_text("codes:\n  - {path: Barriers/Fees, description: money}\n  - {path: Barriers}\n", encoding="utf-8")
    project = tmp_path / "p.db"
    assert qc("--project", project, "codebook", "import", f).code == 0
    assert [c["path"] for c in _show(project)] == ["Barriers", "Barriers/Fees"]


def test_export_docx_and_csv(project, tmp_path):
    import csv

    import docx

    qc("--project", project, "codebook", "export", tmp_path / "cb.docx")
    text = "\n".join(p.text for p in docx.Document(tmp_path / "cb.docx").paragraphs)
    assert "Barriers › Trust" in text and "When not to use" in text
    qc("--project", project, "codebook", "export", tmp_path / "cb.csv")
    rows = list(csv.DictReader(open(tmp_path / "cb.csv", encoding="utf-8")))
    assert any(r["path"] == "Gender/Female migrants" for r in rows)


def test_favourite_numbers_are_unique(project):
    qc("--project", project, "codebook", "favourite", "1", "Barriers/Trust")
    qc("--project", project, "codebook", "favourite", "1", "Barriers/Documents")
    fav = [c["path"] for c in _show(project) if c["shortcut"] == 1]
    assert fav == ["Barriers/Documents"]
