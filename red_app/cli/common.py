"""What every command of the CLI shares."""

from __future__ import annotations

import sys

REVIEWER_HELP = ("who decides (default: this computer's user, as the app records it in local mode; "
                 "pass an account's name where the app has accounts)")


def add_reviewer(p, what: str = "recorded with the decision") -> None:
    """``--reviewer``, optional: the operating-system user unless given (see :func:`reviewer`)."""
    p.add_argument("--reviewer", default=None, metavar="NAME", help=f"your name, {what}; " + REVIEWER_HELP)


def reviewer(a) -> str:
    """The person a command acts for: ``--reviewer``, else the OS user — the name the app
    records in local single-user mode (:func:`red_app.workflows.accounts.local_user`)."""
    from ..workflows.accounts import local_user

    given = (getattr(a, "reviewer", None) or "").strip()
    return given or local_user()


def progress_bar(desc: str):
    from tqdm import tqdm

    bar = {"b": None}

    def update(done: int, total: int) -> None:
        if bar["b"] is None:
            bar["b"] = tqdm(total=total, desc=desc, unit="text", file=sys.stderr, disable=total == 0)
        bar["b"].n = done
        bar["b"].refresh()
        if done >= total:
            bar["b"].close()

    return update


# C0 and C1 controls (ESC starts ANSI sequences), DEL, and the bidi overrides that
# reorder what a terminal shows: data never reaches the terminal as them.
_UNSAFE = [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _UNSAFE}


def clean(value) -> str:
    """``value`` as text safe for a terminal: control characters (newlines and tabs
    included, since in data they would break our layout) are shown escaped, e.g. ``\\x1b``."""
    return str(value).translate(_ESCAPES)
