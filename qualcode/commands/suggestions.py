"""CLI commands: suggest codes, evaluate the suggester, and find emerging themes in uncoded text."""

from __future__ import annotations

import sys

import click

from qualcode.errors import QualcodeError


def _ctx():
    return click.get_current_context().find_root().obj


def _emit(value):
    from qualcode.cli import emit_json
    emit_json(value)


class _Progress:
    """A click progress bar on stderr, driven by progress(done, total) callbacks."""

    def __init__(self, label: str, quiet: bool):
        self.label, self.quiet, self.bar, self.done = label, quiet, None, 0

    def __call__(self, done, total):
        if self.quiet or not total:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=int(total), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(max(0, int(done) - self.done))
        self.done = max(self.done, int(done))

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("documents", nargs=-1, metavar="[DOC]...")
    @click.option("--top", "-k", default=3, show_default=True, type=int, help="At most this many codes per unit.")
    @click.option("--unit", type=click.Choice(["sentence", "paragraph", "turn"]), default="sentence",
                  show_default=True, help="What a suggestion covers.")
    @click.option("--min-score", type=float, default=None, metavar="P",
                  help="Leave out scores below P (default: the threshold `evaluate` found, else 0.3).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def suggest(documents, top, unit, min_score, as_json):
        """Propose codes for uncoded text (all documents, or DOC...); writes no codings.

        Suggestions are stored as proposals to accept or reject in the app. Each has a score
        in [0, 1], the evidence behind it (matched keywords, nearest coded examples) and the
        model version. Before anything is coded, suggestions come from the codebook alone.
        """
        from qualcode.nlp.suggest import generate_suggestions

        if min_score is not None and not 0 <= min_score <= 1:
            raise QualcodeError("--min-score takes a value between 0 and 1")
        project = _ctx().project()
        bar = _Progress("Suggesting", quiet=False)
        try:
            results = generate_suggestions(project, list(documents) or None, unit=unit, top=top, progress=bar,
                                           min_score=min_score)
        finally:
            bar.close()
        if as_json:
            _emit([{"document": s["document"], "start": s["start"], "end": s["end"], "code": s["code"],
                    "score": s["score"], "evidence": s["evidence"], "unit": s["unit"],
                    "model_version": s["model_version"]} for s in results])
            return
        if not results:
            click.echo("No suggestions above the threshold.")
            return
        for s in results:
            text = " ".join(s["text"].split())
            text = text if len(text) <= 70 else text[:67] + "…"
            click.echo(f"{s['document']}  {s['start']}-{s['end']}  {s['score']:.2f}  {s['code']}  «{text}»")
        click.echo(f"{len(results)} suggestions stored for review.", err=True)

    @cli.command()
    @click.option("--unit", type=click.Choice(["sentence", "paragraph", "turn"]), default="sentence",
                  show_default=True, help="The unit suggestions are made and judged on.")
    @click.option("--folds", default=5, show_default=True, type=int, help="Cross-validation folds (by document).")
    @click.option("--curve/--no-curve", default=True, show_default=True,
                  help="Also measure a learning curve (quality against the number of coded examples).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def evaluate(unit, folds, curve, as_json):
        """Estimate suggestion quality on the project's own codings.

        Cross-validation keeps each document whole: a document's units are scored by a model
        that never saw that document. Reports precision, recall and F1 per code and overall,
        and remembers them so the app can show each code's reliability beside its suggestions.
        """
        from qualcode.nlp.evaluate import evaluate as run

        if folds < 2:
            raise QualcodeError("--folds must be at least 2")
        project = _ctx().project()
        bar = _Progress("Cross-validating", quiet=False)
        try:
            result = run(project, unit=unit, folds=folds, curve=curve, progress=bar)
        finally:
            bar.close()
        if as_json:
            _emit(result)
            return
        o = result["overall"]
        click.echo(f"Suggestion quality, {result['folds']}-fold cross-validation by document "
                   f"({result['documents']} coded documents, {o['units']} {unit}s, threshold {result['threshold']:.2f})")
        click.echo(f"{'code':48s} {'n':>5s} {'prec':>6s} {'rec':>6s} {'F1':>6s}")
        for c in sorted(result["codes"], key=lambda c: -c["n"]):
            click.echo(f"{c['code'][:48]:48s} {c['n']:5d} {c['precision']:6.2f} {c['recall']:6.2f} {c['f1']:6.2f}")
        click.echo(f"{'overall (micro)':48s} {o['n']:5d} {o['precision']:6.2f} {o['recall']:6.2f} {o['f1']:6.2f}")
        click.echo(f"macro F1 {o['macro_f1']:.2f}; a right code in the top 3 for {o['top3']:.0%} of coded {unit}s")
        for p in result.get("learning_curve", []):
            click.echo(f"  learning curve: {p['examples']:5d} coded examples → F1 {p['f1']:.2f}, top-3 {p['top3']:.0%}")

    @cli.command()
    @click.option("--topics", "-n", default=8, show_default=True, type=int, help="How many candidate themes.")
    @click.option("--unit", type=click.Choice(["sentence", "paragraph", "turn"]), default="sentence",
                  show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def themes(topics, unit, as_json):
        """Emerging themes: topics in the text nobody has coded yet, as candidate new codes."""
        from qualcode.nlp.themes import emerging_themes

        if not 1 <= topics <= 50:
            raise QualcodeError("--topics takes a number from 1 to 50")
        result = emerging_themes(_ctx().project(), topics=topics, unit=unit)
        if as_json:
            _emit(result)
            return
        if not result:
            click.echo("Not enough uncoded text to find themes.")
            return
        for i, t in enumerate(result, 1):
            near = f"  (close to {t['nearest_code']} {t['nearest_similarity']:.2f})" if t.get("nearest_code") else ""
            click.echo(f"{i}. {', '.join(t['terms'][:8])}  — {t['units']} uncoded {unit}s{near}")
            for ex in t["examples"][:2]:
                text = " ".join(ex["text"].split())
                click.echo(f"     {ex['document']} {ex['start']}-{ex['end']}: «{text[:100]}»")
