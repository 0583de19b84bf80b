"""The one exception type a user can cause. The CLI prints it as `error: …` and exits 1."""

import re

# control characters other than tab: a hostile file name must not drive the terminal
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class QualcodeError(Exception):
    """A problem with the user's input or project, explained in one line."""

    def __init__(self, message: str):
        line = next((part for part in (message or "").splitlines() if part.strip()), "unknown error")
        super().__init__(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", line))
