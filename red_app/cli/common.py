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


def short(text: str, width: int) -> str:
    """``text`` made terminal-safe (:func:`clean`) and cut to ``width`` characters."""
    text = clean(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def clean(value) -> str:
    """``value`` as text safe for a terminal: control characters (newlines and tabs
    included, since in data they would break our layout) are shown escaped, e.g. ``\\x1b``."""
    return str(value).translate(_ESCAPES)


MAX_ANSWER_FILE = 20 * 1024 * 1024  # bytes: a file of answers, not a dataset


def read_rows(path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[dict]:
    """The rows of a CSV or TSV file (by its extension; a header row names the columns) with
    the ``required`` columns, as dicts of strings. A clear RedError for anything else."""
    import csv
    from pathlib import Path

    from ..errors import RedError

    p = Path(path)
    if not p.is_file():
        raise RedError(f"no file at {p}")
    if p.stat().st_size > MAX_ANSWER_FILE:
        raise RedError(f"{p} is larger than {MAX_ANSWER_FILE // 2**20} MB; split it")
    delimiter = "\t" if p.suffix.lower() in (".tsv", ".tab") else ","
    try:
        with p.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f, delimiter=delimiter)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise RedError(f"{p} has no column {missing[0]!r}: its first line must name the columns "
                               f"{', '.join(required + optional)}")
            if len(set(header)) != len(header):
                raise RedError(f"{p} names a column twice in its first line: {', '.join(header)}")
            rows = []
            for k, row in enumerate(reader, start=2):
                if None in row or any(row.get(c) is None for c in required):
                    raise RedError(f"{p}, line {k}: the row has {'more' if None in row else 'fewer'} fields than "
                                   "the header")
                if "\0" in "".join(row.values()):
                    raise RedError(f"{p}, line {k}: a NUL character; the file is not plain text")
                rows.append({c: (row.get(c) or "").strip() for c in required + optional})
    except UnicodeDecodeError as exc:
        raise RedError(f"{p} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise RedError(f"{p} is not a readable CSV/TSV file: {exc}") from None
    if not rows:
        raise RedError(f"{p} has a header but no rows")
    return rows
