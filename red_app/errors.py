"""Named errors. Every message says what went wrong *and* what to do about it."""

import re


# A setting named inside a message: each front end phrases it its own way (the CLI as a
# flag, a page as its field), so the library never tells a page's user to "pass --x".
_OPTION = re.compile("\x00([a-z_]+)\x00")
CLI_NAMES = {"text": "--text COLUMN", "label": "--label COLUMN", "id": "--id COLUMN", "format": "--format",
             "where": "--where", "max_chars": "--max-chars", "min_examples": "--min-examples",
             "merge_case": "--merge-case", "delimiter": "--delimiter"}


def option(name: str) -> str:
    """A setting's place in an error message, phrased by :meth:`RedError.phrased`."""
    return f"\x00{name}\x00"


class RedError(Exception):
    """Base class of every error red reports to a user (CLI exits 1 with one line).

    ``str(exc)`` names settings as CLI flags; a page calls ``exc.phrased(names)`` with its
    own field names (``{"min_examples": "the 'Minimum examples per label' field"}``).
    """

    def phrased(self, names: dict[str, str] | None = None) -> str:
        names = {**CLI_NAMES, **(names or {})}
        return _OPTION.sub(lambda m: names.get(m.group(1), m.group(1)), super().__str__())

    @property
    def options(self) -> list[str]:
        """The settings this message names (e.g. ``["min_examples"]``)."""
        return _OPTION.findall(super().__str__())

    def __str__(self) -> str:
        return self.phrased()


class ImportValidationError(RedError):
    """The input file cannot be imported; nothing was written to the project."""


class ProjectError(RedError):
    """The project file is missing, locked, or of an unknown schema."""


class UnknownLabelError(RedError):
    """A label that the project does not know was named."""


class JudgeError(RedError):
    """A judge could not produce a verdict (server down, model missing, garbage)."""


class JudgeUnavailableError(JudgeError):
    """The judge's backend cannot be reached or lacks the model; the run stops cleanly."""


class ConfigError(RedError, ValueError):
    """A setting out of range or not one of its choices (a ValueError for library callers)."""
