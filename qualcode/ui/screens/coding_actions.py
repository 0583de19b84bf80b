"""Coding in the transcript: apply, remove, in-vivo, memos, undo/redo and suggestions.

Every action goes straight through the store's write path (one change, one event), then the
screen re-reads what it shows. Nothing is kept only in memory.
"""

from __future__ import annotations

from rich.text import Text

from qualcode.coding import apply_code, remove_coding
from qualcode.errors import QualcodeError
from qualcode.suggestions import accept_suggestion, reject_suggestion
from qualcode.ui.screens.dialogs import NEW, Choice, FavouriteScreen, PickerScreen, PromptScreen
from qualcode.ui.suggestion_runs import suggest_in_background


class CodingActions:
    """Mixed into TranscriptScreen, which provides view, data, codes and after_change()."""

    # --- the span an action works on -----------------------------------------------------

    def target_span(self) -> tuple[int, int] | None:
        """The selection (without surrounding blanks), else the sentence under the cursor."""
        if self.data is None:
            return None
        span = self.view.selected_span
        if span:
            s, e = self.data.trim(*span)
            return (s, e) if e > s else None
        return self.data.sentence_at(self.view.cursor_offset)

    def codings_here(self) -> list:
        if self.data is None:
            return []
        visible = self.data.visible_codings(self.app.coder, self.app.show_others)
        span = self.view.selected_span
        if span:
            return self.data.overlapping(visible, *span)
        return self.data.overlapping(visible, self.view.cursor_offset)

    # --- applying codes ------------------------------------------------------------------

    def apply(self, code_path: str) -> None:
        span = self.target_span()
        if span is None:
            self.say("Nothing to code here: move to a sentence or select some text", error=True)
            return
        try:
            apply_code(self.app.project, self.data.name, span[0], span[1], code_path, self.app.coder)
        except QualcodeError as exc:
            self.say(str(exc), error=True)
            return
        self.after_change(f"Coded {code_path}")

    def action_apply_favourite(self, number: int) -> None:
        code = self.favourites.get(number)
        if code is None:
            self.say(f"No code has favourite number {number}: highlight a code and press f to assign one",
                     error=True)
            return
        self.apply(code["path"])

    def code_choices(self) -> list[Choice]:
        return [Choice(c["path"], Text.assemble((f"{c['shortcut']} " if c.get("shortcut") else "  ", "bold"),
                                                ("● ", c.get("color") or "grey50"), c["path"],
                                                (f"  {c['codings']}" if c["codings"] else "", "dim")), c["path"])
                for c in self.codes]

    def action_pick_code(self) -> None:
        if self.data is None:
            return

        def chosen(value: str | None) -> None:
            if not value:
                return
            if value.startswith(NEW):
                self.create_and_apply(value[len(NEW):])
            else:
                self.apply(value)

        self.app.push_screen(PickerScreen("Code with…", self.code_choices(), new_label="New code"), chosen)

    def create_and_apply(self, path: str) -> None:
        from qualcode.codebook import add_code
        try:
            add_code(self.app.project, path, self.app.coder)
        except QualcodeError as exc:
            self.say(str(exc), error=True)
            return
        self.after_change(f"New code {path}")
        self.apply(path)

    def action_in_vivo(self) -> None:
        if self.data is None:
            return
        span = self.view.selected_span or self.data.word_at(self.view.cursor_offset)
        if not span:
            return
        s, e = self.data.trim(*span)
        name = " ".join(self.data.text[s:e].split()).replace("/", "-").strip(" .,;:!?\"'“”«»")[:60]
        self.view.select_span(s, e)

        def chosen(value: str | None) -> None:
            if value:
                self.create_and_apply(value)

        self.app.push_screen(PromptScreen("New code from the selection (write Theme/Name to place it)", name,
                                          "enter create and apply · esc cancel"), chosen)

    # --- removing --------------------------------------------------------------------------

    def action_remove_code(self) -> None:
        here = self.codings_here()
        if not here:
            self.say("No coding here to remove", error=True)
            return
        if len(here) == 1:
            self._remove([here[0].id])
            return
        choices = [Choice(c.id, Text.assemble(("● ", c.color or "grey50"), c.path, (f"  {c.coder}", "dim")),
                          f"{c.path} {c.coder}") for c in here]
        choices.append(Choice("*", Text("All of these", style="bold"), "all"))

        def chosen(value: str | None) -> None:
            if value:
                self._remove([c.id for c in here] if value == "*" else [value])

        self.app.push_screen(PickerScreen("Remove which coding?", choices), chosen)

    def _remove(self, ids: list[str]) -> None:
        try:
            if len(ids) == 1:
                remove_coding(self.app.project, ids[0], self.app.coder)
            else:
                with self.app.project.change("uncode", f"Removed {len(ids)} codings from {self.data.name}",
                                             self.app.coder) as ch:
                    for coding_id in ids:
                        ch.delete("codings", coding_id)
        except QualcodeError as exc:
            self.say(str(exc), error=True)
            return
        self.after_change("Removed " + ("a coding" if len(ids) == 1 else f"{len(ids)} codings"))

    # --- memos -----------------------------------------------------------------------------

    def action_memo(self) -> None:
        if self.data is None:
            return
        choices = []
        for c in self.codings_here():
            quote = " ".join(self.data.text[c.start:c.end].split())
            quote = quote if len(quote) <= 40 else quote[:39] + "…"
            label = Text.assemble(("✎ " if c.memo else "  ", "dim"), "Coding ", (c.path, "bold"),
                                  (f"  “{quote}”", "dim"))
            label.no_wrap, label.overflow = True, "ellipsis"
            choices.append(Choice(f"coding:{c.id}", label, f"coding {c.path}"))
        choices.append(Choice(f"document:{self.data.id}", Text.assemble("  Document ", (self.data.name, "bold")),
                              f"document {self.data.name}"))
        code_ids = []
        for c in self.codings_here():
            if c.code_id not in code_ids:
                code_ids.append(c.code_id)
        highlighted = self.query_one("#codes").highlighted_code()
        if highlighted and highlighted not in code_ids:
            code_ids.append(highlighted)
        paths = {c["id"]: c["path"] for c in self.codes}
        for code_id in code_ids:
            choices.append(Choice(f"code:{code_id}", Text.assemble("  Code ", (paths.get(code_id, "?"), "bold")),
                                  f"code {paths.get(code_id, '')}"))

        def chosen(value: str | None) -> None:
            if value:
                kind, target = value.split(":", 1)
                label = {"coding": "a coding", "document": f"document {self.data.name}",
                         "code": f"code {paths.get(target, '')}"}[kind]
                self.app.edit_memo(kind, target, f"Memo on {label}")

        if len(choices) == 1:
            chosen(choices[0].value)
        else:
            self.app.push_screen(PickerScreen("Write a memo on…", choices), chosen)

    # --- favourites ------------------------------------------------------------------------

    def set_favourite(self, code_id: str) -> None:
        from qualcode.codebook import update_code
        path = next((c["path"] for c in self.codes if c["id"] == code_id), None)
        if path is None:
            return

        def chosen(number: int | None) -> None:
            if number is None:
                return
            try:
                update_code(self.app.project, path, self.app.coder, shortcut=number or None)
            except QualcodeError as exc:
                self.say(str(exc), error=True)
                return
            self.after_change(f"{path} is favourite {number}" if number else f"{path} is no longer a favourite")

        self.app.push_screen(FavouriteScreen(path), chosen)

    def action_pick_favourite(self) -> None:
        def chosen(value: str | None) -> None:
            if value and not value.startswith(NEW):
                code = next(c for c in self.codes if c["path"] == value)
                self.set_favourite(code["id"])

        self.app.push_screen(PickerScreen("Make which code a favourite?", self.code_choices()), chosen)

    # --- undo / redo -----------------------------------------------------------------------

    def action_undo(self) -> None:
        self._history(self.app.project.undo, "Undid", "Nothing to undo")

    def action_redo(self) -> None:
        self._history(self.app.project.redo, "Redid", "Nothing to redo")

    def _history(self, step, done: str, nothing: str) -> None:
        try:
            event = step()
        except QualcodeError as exc:
            self.say(str(exc), error=True)
            return
        if event is None:
            self.say(nothing)
            return
        self.after_change(f"{done}: {event['summary']}")

    # --- suggestions -----------------------------------------------------------------------

    def current_suggestion(self):
        if self.data is None or not self.data.suggestions or self.suggestion_index is None:
            return None
        if self.suggestion_index >= len(self.data.suggestions):
            return None
        return self.data.suggestions[self.suggestion_index]

    def action_next_suggestion(self, step: int = 1) -> None:
        if self.data is None or not self.data.suggestions:
            self.say("No open suggestions here: press g to ask for some")
            return
        items = self.data.suggestions
        if self.suggestion_index is None:
            here = self.view.cursor_offset
            later = [i for i, s in enumerate(items) if s.start >= here]
            self.suggestion_index = later[0] if later and step > 0 else (len(items) - 1 if step < 0 else 0)
        else:
            self.suggestion_index = (self.suggestion_index + step) % len(items)
        self.show_suggestion()

    def show_suggestion(self) -> None:
        s = self.current_suggestion()
        self.view.focus_span = (s.start, s.end) if s else None
        if s:
            self.view.move_to(s.start, center=True)
        self.view.restyle()
        self.update_side()
        self._refresh_footer()

    def _decide(self, accept: bool) -> None:
        s = self.current_suggestion()
        if s is None:
            return
        try:
            if accept:
                accept_suggestion(self.app.project, s.id, self.app.coder)
            else:
                reject_suggestion(self.app.project, s.id, self.app.coder)
        except QualcodeError as exc:
            self.say(str(exc), error=True)
            return
        self.after_change(("Accepted " if accept else "Rejected ") + s.path)
        if self.data.suggestions:
            self.suggestion_index = min(self.suggestion_index, len(self.data.suggestions) - 1)
        else:
            self.suggestion_index = None
        self.show_suggestion()

    def action_accept_suggestion(self) -> None:
        self._decide(True)

    def action_reject_suggestion(self) -> None:
        self._decide(False)

    def action_suggest(self) -> None:
        if self.data is None:
            return
        if suggest_in_background(self, [self.data.name], self._suggest_progress, self._suggest_done):
            self.query_one("#work").start(f"Suggesting codes for {self.data.name}…")
        else:
            self.say("Still suggesting — the results appear when it finishes.")

    def _suggest_progress(self, fraction, note: str) -> None:
        self.query_one("#work").step(fraction, note)

    def _suggest_done(self, n: int | None, error: str) -> None:
        self.query_one("#work").stop()
        if n is None:
            self.say(error, error=True)
            return
        self.after_change(f"{n} open suggestion{'s' * (n != 1)} for this document")
        self.suggestion_index = None
        if n:
            self.action_next_suggestion()
