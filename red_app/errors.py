"""Named errors. Every message says what went wrong *and* what to do about it."""


class RedError(Exception):
    """Base class of every error red reports to a user (CLI exits 1 with one line)."""


class ImportValidationError(RedError):
    """The input file cannot be imported; nothing was written to the project."""


class ProjectError(RedError):
    """The project file is missing, locked, or of an unknown schema."""


class UnknownLabelError(RedError):
    """A label that the project does not know was named."""


class PoolExhaustedError(RedError):
    """No unlabeled samples are left to select from."""


class JudgeError(RedError):
    """A judge could not produce a verdict (server down, model missing, garbage)."""


class JudgeUnavailableError(JudgeError):
    """The judge's backend cannot be reached or lacks the model; the run stops cleanly."""


class ConfigError(RedError, ValueError):
    """A setting out of range or not one of its choices (a ValueError for library callers)."""
