"""The codebook as a tree: colour, favourite number, name and how often each code is used."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree


class CodePanel(Tree[str]):
    """Enter (or a click while text is selected) applies the highlighted code."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Apply code", show=False),
        Binding("f", "favourite", "Set favourite number", show=False),
        Binding("space", "toggle_node", "Fold/unfold", show=False),
    ]

    class CodeChosen(Message):
        def __init__(self, code_id: str, by_mouse: bool) -> None:
            super().__init__()
            self.code_id = code_id
            self.by_mouse = by_mouse

    class FavouriteRequested(Message):
        def __init__(self, code_id: str) -> None:
            super().__init__()
            self.code_id = code_id

    def __init__(self, **kwargs) -> None:
        super().__init__("Codes", **kwargs)
        self.show_root = False
        self.auto_expand = False
        self.guide_depth = 2
        self._signature: tuple = ()
        self._code_nodes: dict = {}
        self._clicking = False

    def show_codes(self, codes: list[dict]) -> None:
        """Rebuild when the tree changed; otherwise only relabel (keeps the cursor in place)."""
        signature = tuple((c["id"], c["parent_id"], c["path"]) for c in codes)
        if signature != self._signature or not codes:
            highlighted = self.cursor_node.data if self.cursor_node else None
            self.clear()
            self._code_nodes = {}
            for c in codes:
                parent = self._code_nodes.get(c["parent_id"], self.root)
                has_children = any(o["parent_id"] == c["id"] for o in codes)
                node = parent.add(_label(c), data=c["id"], expand=True, allow_expand=has_children)
                self._code_nodes[c["id"]] = node
            self._signature = signature
            if not codes:
                self.root.add_leaf(Text("No codes yet: press c and type a name to create one, or "
                                        "import a codebook (qualcode codebook import FILE)", style="dim italic"))
            if highlighted in self._code_nodes:
                self.move_cursor(self._code_nodes[highlighted])
        else:
            for c in codes:
                label = _label(c)
                node = self._code_nodes[c["id"]]
                if node.label != label:
                    node.set_label(label)

    def highlighted_code(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None and node.data else None

    def highlight(self, code_id: str) -> None:
        node = self._code_nodes.get(code_id)
        if node is not None:
            self.move_cursor(node)

    async def _on_click(self, event: events.Click) -> None:
        # Textual would also run Tree._on_click for this event; run it once here, flagged as a click
        event.prevent_default()
        self._clicking = True
        try:
            await super()._on_click(event)
        finally:
            self._clicking = False

    def action_select_cursor(self) -> None:
        code_id = self.highlighted_code()
        if code_id:
            self.post_message(self.CodeChosen(code_id, self._clicking))

    def action_favourite(self) -> None:
        code_id = self.highlighted_code()
        if code_id:
            self.post_message(self.FavouriteRequested(code_id))


def _label(code: dict) -> Text:
    label = Text(no_wrap=True, overflow="ellipsis")
    # the favourite number stands where the colour dot would be, in the code's colour
    mark = str(code["shortcut"]) if code.get("shortcut") else "●"
    label.append(mark, style=f"bold {code.get('color') or 'grey50'}")
    label.append(" ")
    label.append(code["name"])
    if code.get("codings"):
        label.append(f" {code['codings']}", style="dim")
    return label
