"""Import and export of samples and labels, through DuckDB's own file readers.

Import validates everything first, then writes samples, labels and seed annotations in
one transaction: a file that fails any check leaves the project exactly as it was.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ImportValidationError, option
from .filters import apply_filter, check_filter
from .names import checked_label
from .schema import EXPORT_ORIGINS, EXPORT_SQL
from .store import Event, Project, utcnow

FORMATS = ("csv", "tsv", "jsonl", "parquet")
MODES = ("labeled", "hidden-gold", "holdout")
DEFAULT_MAX_CHARS = 50_000
DEFAULT_MIN_EXAMPLES = 3


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def is_blank(text: str | None) -> bool:
    """True for None and for texts made only of whitespace and invisible characters
    (zero-width space/joiners, word joiner, BOM, soft hyphen: Unicode categories Cf, Z*, Cc)."""
    if text is None:
        return True
    return all(c.isspace() or unicodedata.category(c) in ("Cf", "Cc", "Zs", "Zl", "Zp") for c in text)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ImportValidationError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = path.suffix.lower().lstrip(".")
    aliases = {"ndjson": "jsonl", "json": "jsonl", "pq": "parquet", "txt": "tsv"}
    suffix = aliases.get(suffix, suffix)
    if suffix not in FORMATS:
        raise ImportValidationError(
            f"cannot tell the format of {path.name} from its extension; choose it with {option('format')} "
            f"({', '.join(FORMATS)})"
        )
    return suffix


DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def detect_delimiter(path: str | Path) -> str:
    """The delimiter of a CSV/TSV file, guessed from its first lines (comma when unsure).

    A ``;``-separated file read as comma-separated becomes one column named ``a;b``; the
    header line decides: the candidate that splits it into the most fields, and splits the
    next lines into as many, wins.
    """
    with Path(path).open("rb") as fh:
        head = fh.read(64 * 1024).decode("utf-8", errors="replace")
    lines = [ln for ln in head.splitlines()[:20] if ln.strip()]
    if not lines:
        return ","
    import csv
    import io

    best, best_n = ",", 1
    for d in DELIMITERS:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=d))
        n = len(rows[0])
        # every complete line below the header splits the same way (the last may be cut off)
        consistent = all(len(r) == n for r in rows[1:-1]) if len(rows) > 2 else True
        if n > best_n and consistent:
            best, best_n = d, n
    return best


def _reader_sql(path: Path, fmt: str, delimiter: str | None = None) -> str:
    quoted = "'" + str(path).replace("'", "''") + "'"
    if fmt in ("csv", "tsv"):
        if delimiter is None:
            delimiter = "\t" if fmt == "tsv" else detect_delimiter(path)
        if delimiter not in DELIMITERS:
            raise ImportValidationError(
                f"unknown delimiter {delimiter!r}; use one of {', '.join(DELIMITERS.values())} ({option('delimiter')})")
        delim = {"\t": "\\t", "'": "''"}.get(delimiter, delimiter)
        # all_varchar: ids like 007 stay strings; a large max_line_size lets our own,
        # clearer length check report an over-long text instead of the CSV sniffer.
        return (
            f"read_csv({quoted}, header = true, delim = E'{delim}', all_varchar = true, "
            "strict_mode = true, max_line_size = 67108864)"
        )
    if fmt == "jsonl":
        return f"read_json({quoted}, format = 'newline_delimited', maximum_object_size = 67108864)"
    return f"read_parquet({quoted})"


def file_columns(path: str | Path, fmt: str | None = None, delimiter: str | None = None) -> list[str]:
    """The column names of an input file (for choosing text/label columns and filters)."""
    return list(preview_file(path, 0, fmt, delimiter).columns)


def preview_file(path: str | Path, n: int = 5, fmt: str | None = None, delimiter: str | None = None):
    """The first ``n`` rows of an input file as read for import (a DataFrame of strings)."""
    path = Path(path)
    fmt = detect_format(path, fmt)
    con = duckdb.connect()
    try:
        return con.sql(f"SELECT * FROM {_reader_sql(path, fmt, delimiter)} LIMIT {int(n)}").df()
    except duckdb.Error as exc:
        raise ImportValidationError(_explain_read_error(path.name, fmt, exc)) from exc
    finally:
        con.close()


UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json", ".parquet", ".pq")


def save_upload(data: bytes, name: str) -> Path:
    """Write uploaded bytes to a fresh private folder under a generated name.

    Only the extension of ``name`` is kept (it picks the reader); the name itself is
    never part of the path, so ``../../x.csv`` cannot leave the folder.
    """
    import tempfile

    suffix = Path(str(name).replace("\\", "/")).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise ImportValidationError(
            f"cannot import a {suffix or 'file without an extension'}: upload a "
            f"{', '.join(UPLOAD_SUFFIXES)} file"
        )
    folder = Path(tempfile.mkdtemp(prefix="red-upload-"))
    out = folder / f"upload{suffix}"
    out.write_bytes(data)
    return out


@dataclass
class ImportReport:
    path: str
    mode: str
    rows: int
    seeds: int = 0
    pool: int = 0
    holdout: int = 0
    new_labels: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"imported {self.rows} rows from {Path(self.path).name}"]
        parts.append(f"{self.seeds} seed examples, {self.pool} into the pool, {self.holdout} held out")
        parts.append(f"{self.new_labels} new labels")
        return "; ".join(parts)


def _rows_list(rows: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def read_table(
    path: str | Path,
    text: str = "text",
    label: str | None = "label",
    id: str | None = None,
    fmt: str | None = None,
    where: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    name: str | None = None,
    id_prefix: str | None = None,
    delimiter: str | None = None,
) -> pa.Table:
    """Read and check one input file; returns columns row, id, text, label (strings).

    ``row`` is the 1-based data row in the file (before ``where`` filtering), the number
    every error message uses. ``name`` is the file's name as shown to people (an upload's
    original name; never used as a path); default ids are ``ID_PREFIX:ROW`` (default: name).
    """
    path = Path(path)
    name = name or path.name
    if not path.exists():
        raise ImportValidationError(f"no such file: {path}")
    if path.stat().st_size == 0:
        raise ImportValidationError(f"{name} is empty (0 bytes)")
    fmt = detect_format(path, fmt)
    if fmt in ("csv", "tsv"):
        _refuse_cut_off(path, name)
    _refuse_duplicate_headers(path, name, fmt, delimiter)
    tbl = _read_selected(path, name, fmt, delimiter, {"text": text, "label": label, "id": id}, where)
    if tbl.num_rows == 0:
        raise ImportValidationError(
            f"{name} has no rows" + (f" matching the row filter ({option('where')}) {where!r}" if where else "")
        )
    rows = tbl.column("_row").to_pylist()
    texts = tbl.column("text").to_pylist()
    _check_texts(name, rows, texts, max_chars)
    ids = tbl.column("id").to_pylist()
    if id:
        _check_ids(name, rows, ids, id)
    else:
        ids = [f"{id_prefix or name}:{r}" for r in rows]
    labels = _check_labels(name, rows, tbl.column("label").to_pylist())
    return pa.table(
        {
            "row": pa.array(rows, pa.int64()),
            "id": pa.array(ids, pa.string()),
            "text": pa.array(texts, pa.string()),
            "label": pa.array(labels, pa.string()),
        }
    )


def _refuse_cut_off(path: Path, name: str) -> None:
    """Refuse a CSV/TSV file whose last byte is not a line break."""
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        last = fh.read(1)
    # A reader cannot tell a cut-off last row (a label cut to "card_arr", a text cut
    # mid-word) from a complete one; a complete file ends its last row with a line break.
    if last not in (b"\n", b"\r"):
        raise ImportValidationError(
            f"{name} does not end with a line break, so its last row looks cut off (a truncated "
            "file). Check that the file is complete; if it is, add a final line break"
        )


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


# Types a text or a label may be read as: strings only. An id may also be a whole number.
_STRING_TYPES = ("VARCHAR",)
_ID_TYPES = _STRING_TYPES + ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                             "UINTEGER", "UBIGINT")


def _check_type(name: str, role: str, column: str, typ: str) -> None:
    """Refuse a column whose values are not strings (a JSONL file with one number among its
    texts is read as JSON values: each text would be stored with quotes and escapes)."""
    allowed = _ID_TYPES if role == "id" else _STRING_TYPES
    if typ in allowed:
        return
    what = {"JSON": "values of different kinds (strings mixed with numbers, lists or objects)",
            "BLOB": "bytes, not text"}.get(typ, f"{typ.lower()} values, not text")
    raise ImportValidationError(
        f"column {column!r} of {name} (the {role}) holds {what}; every {role} must be a string"
        + (" or a whole number" if role == "id" else "")
        + ". Fix those rows in the file (quote the numbers, e.g. \"42\") and import again; nothing was imported")


def _select_list(wanted: dict[str, str | None]) -> str:
    """The columns read_table keeps: the file row, then id, text and label as strings."""
    text, label, id = wanted["text"], wanted["label"], wanted["id"]
    return ", ".join([
        "_row",
        f"CAST({_quoted(id)} AS VARCHAR) AS id" if id else "NULL::VARCHAR AS id",
        f"CAST({_quoted(text)} AS VARCHAR) AS text",
        f"trim(CAST({_quoted(label)} AS VARCHAR)) AS label" if label else "NULL::VARCHAR AS label",
    ])


def _read_raw(path: Path, name: str, fmt: str, delimiter: str | None, wanted: dict[str, str | None],
              where: str | None) -> tuple[pa.Table, list[str], str | None]:
    """Every row of the file (numbered ``_row``), its column names and the checked filter.

    The columns chosen must exist, and the filter is checked, before anything is read.
    """
    con = duckdb.connect()
    try:
        reader = _reader_sql(path, fmt, delimiter)
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
        except duckdb.Error as exc:
            raise ImportValidationError(_explain_read_error(name, fmt, exc)) from exc
        cols = [r[0] for r in described]
        types = {r[0]: str(r[1]).upper() for r in described}
        for role, col in wanted.items():
            if col is not None and col not in cols:
                raise ImportValidationError(
                    f"{name} has no column {col!r} (for the {role}); its columns are "
                    f"{', '.join(repr(c) for c in cols)}. Choose one with {option(role)}"
                    + (" (or leave it out)" if role == "id" else "")
                )
            if col is not None:
                _check_type(name, role, col, types[col])
        expr = check_filter(where) if where else None
        try:
            raw = con.sql(f"SELECT row_number() OVER () AS _row, * FROM {reader}").to_arrow_table()
        except duckdb.Error as exc:
            raise ImportValidationError(_explain_read_error(name, fmt, exc)) from exc
    finally:
        con.close()
    return raw, cols, expr


def _read_selected(path: Path, name: str, fmt: str, delimiter: str | None, wanted: dict[str, str | None],
                   where: str | None) -> pa.Table:
    """The rows that pass the filter, in file order, with the columns of :func:`_select_list`."""
    raw, cols, expr = _read_raw(path, name, fmt, delimiter, wanted, where)
    # The filter is evaluated over the rows already in memory, in a connection that can
    # reach no file, network or setting.
    try:
        return apply_filter(raw, expr, select=_select_list(wanted), order_by="_row")
    except duckdb.Error as exc:
        if where:
            first = str(exc).strip().splitlines()[0]
            raise ImportValidationError(
                f"the row filter {where!r} cannot be applied to {name}: {first}. Its columns are "
                f"{', '.join(repr(c) for c in cols)}"
            ) from exc
        raise ImportValidationError(_explain_read_error(name, fmt, exc)) from exc


def _check_texts(name: str, rows: list[int], texts: list[str], max_chars: int) -> None:
    """Refuse blank texts, texts over ``max_chars`` characters and texts with a NUL byte."""
    empty = [rows[i] for i, t in enumerate(texts) if is_blank(t)]
    if empty:
        raise ImportValidationError(
            f"{name}: {len(empty)} row(s) have an empty or blank text (nothing but spaces or invisible "
            f"characters; row {_rows_list(empty)}); "
            "fill them in or remove them, then import again"
        )
    long_rows = [(rows[i], len(t)) for i, t in enumerate(texts) if len(t) > max_chars]
    if long_rows:
        r, n = long_rows[0]
        raise ImportValidationError(
            f"{name}: row {r} has a text of {n:,} characters, over the limit of "
            f"{max_chars:,} ({len(long_rows)} such row(s): {_rows_list([x[0] for x in long_rows])}). "
            f"Split or shorten it, or raise {option('max_chars')}"
        )
    bad = [rows[i] for i, t in enumerate(texts) if "\x00" in t]
    if bad:
        raise ImportValidationError(
            f"{name}: row {_rows_list(bad)} contains a NUL byte; is this a binary file?"
        )


def _refuse_duplicate_headers(path: Path, name: str, fmt: str, delimiter: str | None) -> None:
    """Refuse a file with two columns of one name: the reader would rename the second and
    the import would take the first without a word."""
    if fmt in ("csv", "tsv"):
        import csv

        with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            header = next(csv.reader(fh, delimiter=delimiter or ("," if fmt == "csv" else "\t")), [])
        names = [h.strip() for h in header]
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
        except (pa.ArrowException, OSError):
            return  # not readable as Parquet: the reader says so, with its own words
    else:
        return
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ImportValidationError(f"{name} has {len(dup)} column name(s) more than once ({', '.join(map(repr, dup))}); "
                                    "rename the columns so each name appears once; nothing was imported")


def _check_labels(name: str, rows: list[int], labels: list[str | None]) -> list[str | None]:
    """Every label as the project stores it (NFC; see :mod:`red_app.project.names`), or an
    error naming the first row whose label cannot be one; empty stays empty (no label)."""
    checked: dict[str, str] = {}
    out = []
    for r, lab in zip(rows, labels):
        if lab is None or lab == "":
            out.append(lab)
            continue
        if lab not in checked:
            try:
                checked[lab] = checked_label(lab)
            except ImportValidationError as exc:
                raise ImportValidationError(f"{name}: row {r}: {exc}; nothing was imported") from None
        out.append(checked[lab])
    return out


def _check_ids(name: str, rows: list[int], ids: list[str | None], id: str) -> None:
    """Refuse rows without an id in column ``id``, ids with a NUL byte and ids that appear twice."""
    missing = [rows[i] for i, v in enumerate(ids) if v is None or not str(v).strip()]
    if missing:
        raise ImportValidationError(
            f"{name}: {len(missing)} row(s) have no id in column {id!r} "
            f"(row {_rows_list(missing)}); give every row an id or leave out {option('id')}"
        )
    nul = [rows[i] for i, v in enumerate(ids) if "\x00" in str(v)]
    if nul:
        raise ImportValidationError(f"{name}: the id in row {_rows_list(nul)} contains a NUL byte; is this a "
                                    "binary file? Nothing was imported")
    seen: dict[str, int] = {}
    dups = []
    for r, v in zip(rows, ids):
        if v in seen:
            dups.append((v, seen[v], r))
        else:
            seen[v] = r
    if dups:
        v, first, again = dups[0]
        raise ImportValidationError(
            f"{name}: id {v!r} appears twice (rows {first} and {again}; "
            f"{len(dups)} duplicate id(s) in all); ids must be unique"
        )


def _explain_read_error(name: str, fmt: str, exc: Exception) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = str(exc).lower()
    if "invalid unicode" in low or "not utf-8 encoded" in low:
        return (
            f"{name} is not valid UTF-8 ({msg}). Re-save it as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8`) and import again"
        )
    return (
        f"cannot read {name} as {fmt.upper()}: {msg}. Check that the file is complete "
        "(not truncated) and really is " + fmt.upper() + (f" (or choose the format with {option('format')})" if fmt else "")
    )


def import_file(
    project: Project,
    path: str | Path,
    *,
    text: str = "text",
    label: str | None = "label",
    id: str | None = None,
    fmt: str | None = None,
    mode: str = "labeled",
    where: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    min_examples: int = DEFAULT_MIN_EXAMPLES,
    actor: str = "import",
    source_name: str | None = None,
    merge_case: bool = False,
    delimiter: str | None = None,
) -> ImportReport:
    """Import one file into the project, all or nothing.

    Modes
    -----
    labeled
        Rows with a label become seed examples (origin ``seed`` before the first run,
        ``import`` after); rows without one join the pool.
    hidden-gold
        Every row joins the pool; its label is kept apart as ``gold_label`` for
        evaluation and the simulated judge, never used for training.
    holdout
        Rows are kept out of the pool and training entirely (a test set); their label
        is the gold used for accuracy figures.

    ``source_name`` is the name recorded and shown for the file (an upload's original
    name); it is never used as a path.

    Refused: a CSV/TSV whose last row is cut off; texts that are blank or invisible only;
    labels that differ only by case or surrounding spaces (unless ``merge_case``, which maps
    them onto the existing or first-seen spelling); rows of a content (sha256 of the
    file's bytes) that an earlier import already took, under any file name. Another file
    under a name already used gets default ids ``NAME@HASH:ROW``.
    """
    if mode not in MODES:
        raise ImportValidationError(f"unknown import mode {mode!r}; use one of {', '.join(MODES)}")
    path = Path(path)
    name = source_name or path.name
    tbl = read_table(path, text=text, label=label, id=id, fmt=fmt, where=where, max_chars=max_chars, name=name,
                     delimiter=delimiter)
    report = ImportReport(path=str(path) if source_name is None else name, mode=mode, rows=tbl.num_rows)
    if mode != "labeled" and label is None:
        raise ImportValidationError(f"mode {mode} needs a label column holding the gold labels: choose it with {option('label')}")
    sha = file_sha256(path)

    with project.transaction() as cur:
        tbl = _rows_for_project(project, cur, tbl, name, sha, id is None, merge_case)
        _refuse_clashes(cur, tbl, name, mode, min_examples)
        _write_samples(project, cur, tbl, mode, name, actor, report)
        project.record_import(cur, name, sha, mode, check_filter(where) if where else None,
                              tbl.column("row").to_pylist())
    return report


def _rows_for_project(project: Project, cur, tbl: pa.Table, name: str, sha: str, default_ids: bool,
                      merge_case: bool) -> pa.Table:
    """The rows read, set against what the project holds: rows of a content already imported
    refused; with ``default_ids``, ids of their own for another file of a known name; labels
    that differ from another spelling only by case refused or folded (``merge_case``)."""
    _refuse_same_content(project, cur, name, sha, tbl.column("row").to_pylist())
    if default_ids:
        tbl = _ids_of_another_file(project, cur, tbl, name, sha)
    return _fold_label_case(cur, tbl, name, merge_case)


def _refuse_clashes(cur, tbl: pa.Table, name: str, mode: str, min_examples: int) -> None:
    """Refuse ids the project already has and, for a ``labeled`` import, labels with too few examples."""
    cur.register("_in", tbl)
    try:
        _refuse_known_ids(cur, name)
        if mode == "labeled":
            _refuse_thin_labels(cur, name, min_examples)
    finally:
        cur.unregister("_in")


def _ids_of_another_file(project: Project, cur, tbl: pa.Table, name: str, sha: str) -> pa.Table:
    """``tbl`` with ids of its own, NAME@HASH:ROW, when another file of the same name was
    imported before (its default ids NAME:ROW are taken)."""
    if name in {r[0] for r in cur.execute("SELECT DISTINCT source FROM samples").fetchall()} \
            and not project.imports(cur, sha256=sha, source=name):
        ids = pa.array([f"{name}@{sha[:8]}:{r}" for r in tbl.column("row").to_pylist()], pa.string())
        tbl = tbl.set_column(tbl.schema.get_field_index("id"), "id", ids)
    return tbl


def _refuse_known_ids(cur, name: str) -> None:
    """Refuse rows of the registered ``_in`` whose id is already a sample's."""
    clash = cur.execute(
        "SELECT i.id, i.row FROM _in i JOIN samples s ON s.id = i.id ORDER BY i.row LIMIT 1"
    ).fetchall()
    if clash:
        clash = clash[0]
        n = cur.execute("SELECT count(*) FROM _in i JOIN samples s ON s.id = i.id").fetchall()[0][0]
        raise ImportValidationError(
            f"{name}: id {clash[0]!r} (row {clash[1]}) is already in the project "
            f"({n} row(s) clash); was this file imported before? Use other ids or a new project"
        )


def _refuse_thin_labels(cur, name: str, min_examples: int) -> None:
    """Refuse labels of the registered ``_in`` with fewer than ``min_examples`` examples,
    counting the project's seed and imported examples of them."""
    counts = cur.execute(
        """SELECT label, count(*) + coalesce((SELECT count(*) FROM annotations a
                    WHERE a.label = i.label AND a.origin IN ('seed', 'import')
                      AND a.verdict = 'valid'), 0) AS n
           FROM _in i WHERE label IS NOT NULL AND label <> ''
           GROUP BY label HAVING n < ? ORDER BY n, label""",
        [min_examples],
    ).fetchall()
    if counts:
        shown = ", ".join(f"{lab!r} ({n})" for lab, n in counts[:5])
        raise ImportValidationError(
            f"{name}: {len(counts)} label(s) have fewer than {min_examples} examples: "
            f"{shown}{' …' if len(counts) > 5 else ''}. Add examples, merge those labels, "
            f"or lower {option('min_examples')}"
        )


def _samples_table(tbl: pa.Table, name: str, mode: str, has_label: pa.Array, seq0: int) -> pa.Table:
    """The ``samples`` rows of an import: labeled rows of a ``labeled`` import are seeds, the
    others join the pool; ``hidden-gold`` and ``holdout`` keep the label as the gold."""
    role = {"labeled": None, "hidden-gold": "pool", "holdout": "holdout"}[mode]
    hashes = [text_hash(t) for t in tbl.column("text").to_pylist()]
    if role is None:
        roles = pc.if_else(has_label, "seed", "pool")
        gold = pa.nulls(tbl.num_rows, pa.string())
    else:
        roles = pa.array([role] * tbl.num_rows, pa.string())
        gold = pc.if_else(has_label, tbl.column("label"), pa.scalar(None, pa.string()))
    return pa.table(
        {
            "id": tbl.column("id"),
            "text": tbl.column("text"),
            "text_hash": pa.array(hashes, pa.string()),
            "role": roles,
            "gold_label": gold,
            "source": pa.array([name] * tbl.num_rows, pa.string()),
            "source_row": tbl.column("row"),
            "seq": pa.array(range(seq0, seq0 + tbl.num_rows), pa.int64()),
            "imported_at": pa.array([utcnow()] * tbl.num_rows, pa.timestamp("us")),
        }
    )


def _write_samples(project: Project, cur, tbl: pa.Table, mode: str, name: str, actor: str,
                   report: ImportReport) -> None:
    """Write the checked rows as samples and, for a ``labeled`` import, their labels and
    seed events; count them in ``report``."""
    has_label = pc.fill_null(pc.not_equal(tbl.column("label"), ""), False)
    first_run_done = cur.execute("SELECT count(*) FROM runs").fetchall()[0][0] > 0
    rows_tbl = _samples_table(tbl, name, mode, has_label, project.next_seq(cur))
    cur.register("_rows", rows_tbl)
    cur.execute("INSERT INTO samples SELECT * FROM _rows")
    cur.unregister("_rows")
    if mode == "labeled":
        labeled = tbl.filter(has_label)
        report.new_labels = project.add_labels(cur, labeled.column("label").to_pylist())
        # after the first run, imported labels are no longer the seeds the run started from
        origin = "import" if first_run_done else "seed"
        events = [
            Event(sample_id=s, label=lab, origin=origin, verdict="valid", actor=actor, iteration=0)
            for s, lab in zip(labeled.column("id").to_pylist(), labeled.column("label").to_pylist())
        ]
        project.append_events(events, cur=cur)
        report.seeds = labeled.num_rows
        report.pool = tbl.num_rows - labeled.num_rows
    elif mode == "hidden-gold":
        report.pool = tbl.num_rows
        _warn_unknown_gold(cur, rows_tbl.column("gold_label").to_pylist(), report)
    else:
        report.holdout = tbl.num_rows


def _warn_unknown_gold(cur, gold: list[str | None], report: ImportReport) -> None:
    """Warn when gold labels are not project labels (those samples can never be right)."""
    known = set(r[0] for r in cur.execute("SELECT name FROM labels").fetchall())
    unknown = {g for g in gold if g and g not in known}
    if unknown and known:
        report.warnings.append(
            f"{len(unknown)} gold label(s) are not project labels (e.g. {sorted(unknown)[0]!r}); "
            "those samples can never be predicted correctly"
        )


def _refuse_same_content(project: Project, cur, name: str, sha: str, source_rows: list[int]) -> None:
    """Refuse rows of a content (by sha256 of the bytes) that an earlier import already took."""
    wanted = set(source_rows)
    for prev in project.imports(cur, sha256=sha):
        overlap = wanted & set(prev["source_rows"])
        if overlap:
            when = prev["imported_at"].strftime("%Y-%m-%d %H:%M")
            how = f" with filter {prev['filter']}" if prev["filter"] else ""
            raise ImportValidationError(
                f"{name}: this content (sha256 {sha[:12]}…) is already in the project: imported as "
                f"{prev['source']!r} on {when} UTC (import #{prev['import_id']}, {prev['mode']}{how}); "
                f"{len(overlap)} of the {len(wanted)} rows chosen now were imported then. Importing them "
                "again would duplicate samples; choose other rows with a filter, or import a changed file"
            )


def _fold_label_case(cur, tbl: pa.Table, name: str, merge_case: bool) -> pa.Table:
    """Refuse labels that differ only by case or surrounding whitespace (from each other or
    from the project's), or, with ``merge_case``, map them onto the existing / first spelling."""
    labels = tbl.column("label").to_pylist()
    rows = tbl.column("row").to_pylist()
    spelling: dict[str, tuple[str, str]] = {}  # key -> (spelling, where it was seen)
    for (existing,) in cur.execute("SELECT name FROM labels ORDER BY created_at, name").fetchall():
        spelling.setdefault(existing.strip().casefold(), (existing, "the project's label"))
    out, changed = [], False
    for lab, r in zip(labels, rows):
        if lab is None or lab == "":
            out.append(lab)
            continue
        key = lab.strip().casefold()
        first = spelling.setdefault(key, (lab, f"row {r}"))
        if first[0] != lab:
            if not merge_case:
                raise ImportValidationError(
                    f"{name}: label {lab!r} (row {r}) differs from {first[0]!r} ({first[1]}) only by case "
                    f"or surrounding spaces. Use one spelling in the file, or use {option('merge_case')} to map "
                    f"such labels onto the first or existing spelling ({first[0]!r})"
                )
            lab, changed = first[0], True
        out.append(lab)
    if not changed:
        return tbl
    return tbl.set_column(tbl.schema.get_field_index("label"), "label", pa.array(out, pa.string()))


EXPORT_FORMATS = ("csv", "parquet", "jsonl")



# Cells a spreadsheet would run as a formula (OWASP "CSV injection"): =, +, -, @, tab, CR.
FORMULA_START = "^[=+\\-@\t\r]"


def _csv_safe_on(cur, sql: str) -> str:
    """Wrap an export query so that every text cell a spreadsheet would read as a formula
    starts with a single quote (OWASP's advice)."""
    cols = cur.execute(f"DESCRIBE {sql}").fetchall()
    out = []
    for name, typ, *_ in cols:
        q = '"' + name.replace('"', '""') + '"'
        if typ.upper() in ("VARCHAR", "JSON"):
            v = f"CAST({q} AS VARCHAR)"
            out.append(f"CASE WHEN regexp_matches({v}, '{FORMULA_START}') THEN concat(chr(39), {v}) "
                       f"ELSE {v} END AS {q}")
        else:
            out.append(q)
    return f"SELECT {', '.join(out)} FROM ({sql})"


def _export_sql(project: Project, fmt: str, where: list[str], history: bool, review_below: float | None) -> str:
    """The export's query: its rows, and a model label out of scope written with no confidence."""
    if review_below is None:  # the threshold chosen with `red quality --review-below`
        saved = project.get_setting("review_below")
        review_below = float(saved) if saved else None
    rb = "NULL" if review_below is None else repr(float(review_below))
    decisions = "to_json(h.decisions)" if fmt == "csv" else "h.decisions"
    # CSV has no lists: they are written as JSON text there
    sql = EXPORT_SQL.format(decisions=decisions, review_below=rb,
                            where=" AND ".join(where), drop="" if history else ", decisions",
                            as_list="to_json" if fmt == "csv" else "")
    # a model label on a text unlike every label's known texts is a guess: written with no confidence
    return (f"SELECT * REPLACE (CASE WHEN out_of_scope AND origin = 'model' THEN NULL ELSE confidence END "
            f"AS confidence) FROM ({sql})")


def _none_label(project: Project, name: str | None) -> str | None:
    """The name written for texts that fit none of the labels, checked (None: an empty label)."""
    if name is None:
        return None
    name = name.strip()
    if not name:
        raise ImportValidationError("--none-label needs a name, e.g. other (leave it out for an empty label)")
    if name in set(project.labels()):
        raise ImportValidationError(f"--none-label {name!r} is one of the project's labels: choose a name no label "
                                    "has, so the texts that fit none stay apart")
    return name


def _export_where(include_unlabeled: bool, min_confidence: float | None, origins: list[str] | None) -> list[str]:
    """The export's row conditions; only checked numbers and known origin names reach the
    SQL, never a user's string. A text that fits no label is written by default."""
    where = ["TRUE" if include_unlabeled else "(label IS NOT NULL OR fits_none)"]
    if min_confidence is not None:
        mc = float(min_confidence)
        if not 0.0 <= mc <= 1.0:
            raise ImportValidationError(f"--min-confidence must be between 0 and 1, not {min_confidence!r}")
        # a model label out of scope has no confidence in the export: never a sure label
        where.append(f"confidence >= {mc!r} AND NOT (out_of_scope AND origin = 'model')")
    if origins:
        bad = sorted(set(origins) - set(EXPORT_ORIGINS))
        if bad:
            raise ImportValidationError(f"unknown origin {bad[0]!r}: use {', '.join(EXPORT_ORIGINS)}")
        where.append("origin IN (" + ", ".join(f"'{o}'" for o in origins) + ")")
    return where


def export_labels(project: Project, out: str | Path, fmt: str | None = None, include_unlabeled: bool = False,
                  min_confidence: float | None = None, origins: list[str] | None = None,
                  history: bool = True, review_below: float | None = None, none_label: str | None = None) -> int:
    """Write one row per sample (holdout aside): id, text, label, confidence, origin,
    needs_review, out_of_scope, p_in_scope, alternatives, who decided and — with
    ``history`` — every decision.

    A text decided to fit none of the labels (a person's "fits no label", a judge's "none of
    these") is written with an empty label — or ``none_label``, e.g. ``other`` — and
    ``out_of_scope`` true; a model label on a text unlike every label's known texts is
    out of scope too, needs review and has no confidence.

    A decided label (seed, import, judge, human) keeps its origin; every other text gets
    the newest model label (``origin = 'model'``, `red predict`) with its calibrated
    confidence. ``needs_review`` marks texts whose judge verdict waits for a person and,
    with ``review_below`` (default: the project's ``review_below`` setting), model labels
    less confident than that. Texts with no label at
    all are written only with ``include_unlabeled``. Returns the rows written.

    In CSV, text cells that start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return get a leading ``'`` so that a spreadsheet shows them instead of running them;
    Parquet and JSONL keep every text exactly.
    """
    out = Path(out)
    fmt = fmt or out.suffix.lower().lstrip(".")
    fmt = {"ndjson": "jsonl", "json": "jsonl", "pq": "parquet"}.get(fmt, fmt)
    if fmt not in EXPORT_FORMATS:
        raise ImportValidationError(
            f"cannot export to {out.name}: use a .csv, .parquet or .jsonl file name or --format"
        )
    where = _export_where(include_unlabeled, min_confidence, origins)
    none_label = _none_label(project, none_label)
    sql = _export_sql(project, fmt, where, history, review_below)
    cur = project.cursor()
    if none_label is not None:  # the name travels as data (a registered table), never as SQL
        cur.register("_none_label", pa.table({"name": [none_label]}))
        sql = (f"SELECT * REPLACE (CASE WHEN fits_none THEN (SELECT name FROM _none_label) "
               f"ELSE label END AS label) FROM ({sql})")
    if fmt == "csv":
        sql = _csv_safe_on(cur, sql)
    option = {"csv": "FORMAT csv, HEADER", "parquet": "FORMAT parquet", "jsonl": "FORMAT json"}[fmt]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    quoted = "'" + str(tmp).replace("'", "''") + "'"
    try:
        cur.execute(f"COPY ({sql}) TO {quoted} ({option})")
        n = cur.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
    finally:
        if none_label is not None:
            cur.unregister("_none_label")
    tmp.replace(out)  # never leave a half-written export under the real name
    return int(n)
