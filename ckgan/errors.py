"""The one exception type that means "the user gave bad input".

The CLI prints a ``CkganError`` as one line on stderr and exits non-zero;
anything else is a bug and keeps its traceback.
"""


class CkganError(Exception):
    """Bad input or missing files: the message names the problem and the fix."""


class PluginWarning(UserWarning):
    """A third-party plugin was skipped (it failed to import)."""
