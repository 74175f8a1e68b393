"""The one exception type that means "the user gave bad input".

The CLI prints a ``CkganError`` as one line on stderr and exits non-zero;
anything else is a bug and keeps its traceback.
"""


class CkganError(Exception):
    """Bad input or missing files: the message names the problem and the fix."""


class CkganWarning(UserWarning):
    """Something the user should know, printed by the CLI as one ``Warning:`` line."""


class PluginWarning(CkganWarning):
    """A third-party plugin was skipped (it failed to import, or a hook raised)."""


class DataWarning(CkganWarning):
    """The data can be used but is unlikely to give a good model (e.g. very few rows)."""


class TrainingWarning(CkganWarning):
    """Training met trouble it mended itself (e.g. it went back to a healthy checkpoint)."""
