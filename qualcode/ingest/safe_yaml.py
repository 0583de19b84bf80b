"""YAML for front matter and codebooks: safe_load, plus limits on nesting and alias expansion.

yaml.safe_load builds no objects but still (a) recurses once per nesting level, so
`[[[[…]]]]` 5,000 deep raises RecursionError, and (b) shares aliased nodes, so nine lines
of `&a`/`*a` describe 9⁹ strings that any later str() or join() expands (the YAML
"billion laughs": 35 s and gigabytes for a 500-byte front matter). Here the composer counts
every node including what each alias stands for, and stops at the limits with a one-line error.
"""

from __future__ import annotations

from qualcode.errors import QualcodeError
from qualcode.ingest import limits


def load(text: str, source: str):
    """yaml.safe_load(text) within the limits; yaml.YAMLError passes through for the caller."""
    import yaml
    from yaml.events import AliasEvent

    class LimitedLoader(yaml.SafeLoader):
        def __init__(self, stream):
            super().__init__(stream)
            self._depth = 0
            self._nodes = 0
            self._sizes: dict[int, int] = {}

        def compose_node(self, parent, index):
            if self.check_event(AliasEvent):
                node = super().compose_node(parent, index)
                self._grow(self._sizes.get(id(node), 1))
                return node
            self._depth += 1
            if self._depth > limits.MAX_YAML_DEPTH:
                raise QualcodeError(f"{source}: the YAML nests more than {limits.MAX_YAML_DEPTH} levels deep; refused")
            before = self._nodes
            node = super().compose_node(parent, index)
            self._depth -= 1
            self._grow(1)
            self._sizes[id(node)] = self._nodes - before
            return node

        def _grow(self, n: int) -> None:
            self._nodes += n
            if self._nodes > limits.MAX_YAML_NODES:
                raise QualcodeError(f"{source}: the YAML expands to more than {limits.MAX_YAML_NODES:,} values "
                                    "(aliases repeating aliases?); refused")

    loader = LimitedLoader(text)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise QualcodeError(f"{source}: the YAML nests too deeply; refused") from None
    finally:
        loader.dispose()
