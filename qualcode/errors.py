"""The one exception type a user can cause. The CLI prints it as `error: …` and exits 1."""


class QualcodeError(Exception):
    """A problem with the user's input or project, explained in one line."""

    def __init__(self, message: str):
        super().__init__(message.splitlines()[0] if message else "unknown error")
