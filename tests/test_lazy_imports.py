"""The CLI and the core start without Textual, spaCy or scikit-learn (Harlequin's rule)."""

import subprocess
import sys

import pytest

CORE = ["qualcode.cli", "qualcode.store.project", "qualcode.documents", "qualcode.codebook", "qualcode.coding",
        "qualcode.suggestions", "qualcode.analysis.retrieval", "qualcode.demo",
        "qualcode.anonymize"]


@pytest.mark.parametrize("module", CORE)
def test_core_module_loads_no_heavy_library(module):
    code = (f"import sys, {module}; heavy = [m for m in ('textual', 'spacy', 'sklearn', 'rich', 'docx', 'openpyxl') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"{module} imported {out}"


def test_every_command_has_help_text():
    import click

    from qualcode.cli import cli

    def walk(group, prefix):
        for name, cmd in group.commands.items():
            assert (cmd.help or "").strip(), f"`qualcode {prefix}{name}` has no help text"
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix}{name} ")

    walk(cli, "")


def test_every_command_is_documented_in_docs_cli():
    import click

    from qualcode.cli import cli
    from support import REPO

    doc = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")

    def walk(group, prefix):
        for name, cmd in group.commands.items():
            assert f"## `qualcode {prefix}{name}`" in doc, f"`qualcode {prefix}{name}` is missing from docs/cli.md"
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix}{name} ")

    walk(cli, "")
