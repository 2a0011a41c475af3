"""The import row filter: one boolean expression over a file's columns, and nothing else.

A filter is user input that ends up in SQL, so it passes three gates:

1. DuckDB's own parser reads it as the WHERE clause of ``SELECT * FROM _t``; anything
   that is not exactly one such statement (a second statement, a closing parenthesis
   that escapes the clause, ORDER BY, UNION…) is refused.
2. The parsed expression is walked: only column references, constants, comparisons,
   AND/OR/NOT, IN lists, IS NULL, BETWEEN, CASE, casts and a short list of pure scalar
   functions are allowed — no subquery, no table function, no ``getenv``.
3. The SQL that runs is DuckDB's rendering of the checked expression (not the text as
   typed), evaluated in a connection with external access disabled and its
   configuration locked, over a table already read into memory.

The browser never takes a typed filter: :func:`build_filter` turns structured
conditions (column, operator, value) into an expression, quoting every value itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from ..errors import ImportValidationError

ALLOWED = (
    "one boolean expression over the file's columns: comparisons (=, <>, <, >, <=, >=), "
    "AND / OR / NOT, IN ('a', 'b'), IS [NOT] NULL, BETWEEN, LIKE / ILIKE, and the functions "
    "{functions}; no subqueries, no table functions, no second statement"
)

# Pure scalar functions on one row's values: no file, network, environment or settings.
SAFE_FUNCTIONS = frozenset({
    "length", "len", "strlen", "char_length", "length_grapheme", "lower", "upper", "lcase", "ucase",
    "trim", "ltrim", "rtrim", "contains", "starts_with", "ends_with", "prefix", "suffix",
    "regexp_matches", "regexp_full_match", "substr", "substring", "left", "right", "strpos", "instr",
    "position", "concat", "abs", "round", "floor", "ceil", "ceiling", "coalesce", "nullif", "ifnull",
    "split_part", "replace", "reverse", "isnan",
})
# LIKE, ILIKE, GLOB-pattern, arithmetic and concatenation operators (parsed as functions).
SAFE_OPERATORS = frozenset({
    "~~", "!~~", "~~*", "!~~*", "~~~", "!~~~", "+", "-", "*", "/", "//", "%", "||", "^", "**",
    "like_escape", "not_like_escape", "ilike_escape", "not_ilike_escape",
})
SAFE_CLASSES = frozenset({
    "COLUMN_REF", "CONSTANT", "COMPARISON", "CONJUNCTION", "OPERATOR", "FUNCTION", "CAST",
    "BETWEEN", "CASE", "COLLATE", "TYPE",
})
REFUSED_OPERATORS = frozenset({"SUBQUERY", "OPERATOR_UNPACK"})


def _allowed_text() -> str:
    return ALLOWED.format(functions=", ".join(sorted(SAFE_FUNCTIONS)))


def _refuse(where: str, why: str) -> ImportValidationError:
    return ImportValidationError(
        f"the row filter {where!r} is refused: {why}. A filter is {_allowed_text()}"
    )


def _serialize(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    return json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])


# Bounds on work, not only on reach (issue 23, row 12): a replace() inside a replace() can grow
# a string exponentially (7 nested on a 12-row file: 3.5 GB), and no filter needs deep nesting.
GROWING = frozenset({"replace"})
MAX_DEPTH = 40


def _has_column(node) -> bool:
    if isinstance(node, list):
        return any(_has_column(x) for x in node)
    if not isinstance(node, dict):
        return False
    return node.get("class") == "COLUMN_REF" or any(_has_column(v) for v in node.values())


def _walk(node, where: str, depth: int = 0, growing: bool = False) -> None:
    if depth > MAX_DEPTH:
        raise _refuse(where, f"it is nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, list):
        for x in node:
            _walk(x, where, depth, growing)
        return
    if not isinstance(node, dict):
        return
    cls = node.get("class")
    if cls is not None:
        if cls not in SAFE_CLASSES:
            what = {"SUBQUERY": "a subquery", "STAR": "a *", "WINDOW": "a window function",
                    "LAMBDA": "a lambda", "PARAMETER": "a parameter"}.get(cls, f"a {cls.lower()} expression")
            raise _refuse(where, f"it contains {what}")
        if node.get("type") in REFUSED_OPERATORS:
            raise _refuse(where, "it contains a subquery or an unpacking operator")
        if cls == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if node.get("schema") or node.get("catalog"):
                raise _refuse(where, f"it calls a qualified function {name!r}")
            ok = name in SAFE_OPERATORS if node.get("is_operator") else name in SAFE_FUNCTIONS
            if not ok:
                raise _refuse(where, f"it calls {name}(), which is not one of the allowed functions")
            if node.get("filter") is not None or node.get("distinct") or (node.get("order_bys") or {}).get("orders"):
                raise _refuse(where, f"it uses {name}() as an aggregate")
            if name in GROWING and growing:
                raise _refuse(where, f"it nests {name}() inside {name}(), which can grow a text without bound")
            if name in GROWING and any(_has_column(c) for c in (node.get("arguments") or node.get("children") or [])[1:]):
                raise _refuse(where, f"it gives {name}() a column as what to find or put in, which can grow a "
                                     "text with its own length; use constants there")
            growing = growing or name in GROWING
        if cls == "COLUMN_REF" and len(node.get("column_names", [])) != 1:
            raise _refuse(where, "it names a column of another table")
    for key, value in node.items():
        if key in ("subquery", "from_table") and value is not None:
            raise _refuse(where, "it contains a subquery")
        _walk(value, where, depth + 1, growing)


def check_filter(where: str) -> str:
    """Check a row filter and return DuckDB's rendering of it (the only SQL that runs).

    Raises
    ------
    ImportValidationError
        Saying what is allowed, when ``where`` is anything but one safe boolean expression.
    """
    where = (where or "").strip()
    if not where:
        raise _refuse(where, "it is empty")
    con = duckdb.connect()
    try:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        parsed = _serialize(con, f"SELECT * FROM _t WHERE {where}")
        if parsed.get("error"):
            msg = str(parsed.get("error_message", "")).strip()
            if "only select" in msg.lower():
                raise _refuse(where, "it holds another statement than an expression")
            raise _refuse(where, f"it does not parse ({msg})")
        statements = parsed.get("statements", [])
        if len(statements) != 1:
            raise _refuse(where, f"it holds {len(statements)} statements")
        node = statements[0]["node"]
        from_table = node.get("from_table") or {}
        plain = (
            node.get("type") == "SELECT_NODE"
            and not node.get("modifiers") and not (node.get("cte_map") or {}).get("map")
            and not node.get("group_expressions") and not node.get("group_sets")
            and node.get("having") is None and node.get("qualify") is None and node.get("sample") is None
            and from_table.get("type") == "BASE_TABLE" and from_table.get("table_name") == "_t"
            and len(node.get("select_list", [])) == 1 and node["select_list"][0].get("class") == "STAR"
        )
        if not plain:
            raise _refuse(where, "it reaches outside the WHERE clause")
        expr = node.get("where_clause")
        if expr is None:
            raise _refuse(where, "it is not an expression")
        _walk(expr, where)
        # Render the checked tree, not the typed text, so what runs is what was checked.
        skeleton = _serialize(con, "SELECT * FROM _t WHERE true")
        skeleton["statements"][0]["node"]["where_clause"] = expr
        rendered = con.execute("SELECT json_deserialize_sql(?::JSON)", [json.dumps(skeleton)]).fetchone()[0]
    except duckdb.Error as exc:
        raise _refuse(where, f"it does not parse ({str(exc).splitlines()[0]})") from exc
    except RecursionError:  # hundreds of nested calls or parentheses: no filter needs that
        raise _refuse(where, "it is nested too deeply") from None
    finally:
        con.close()
    prefix = "SELECT * FROM _t WHERE "
    if not rendered.startswith(prefix):  # pragma: no cover - DuckDB's rendering changed
        raise _refuse(where, "it could not be checked")
    return rendered[len(prefix):]


def apply_filter(table, expr: str, select: str = "*", order_by: str | None = None):
    """Evaluate a checked filter over an in-memory Arrow table, with no outside access.

    ``select`` and ``order_by`` are the caller's own SQL (never user input); ``expr``
    must come from :func:`check_filter`.
    """
    con = duckdb.connect()
    try:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        con.register("_in", table)
        sql = f"SELECT {select} FROM _in"
        if expr:
            sql += f" WHERE {expr}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


# -- structured filters (the browser's) ---------------------------------------------------

OPERATORS = ("equals", "is not", "is one of", "contains", "starts with", "is true", "is false",
             "is empty", "is not empty", "greater than", "less than")
NO_VALUE = ("is true", "is false", "is empty", "is not empty")


@dataclass(frozen=True)
class Condition:
    """One structured condition: a column, one of :data:`OPERATORS`, and a value as typed."""

    column: str
    op: str
    value: str = ""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def build_filter(conditions, columns) -> str | None:
    """AND together structured conditions into one checked filter (None when there are none).

    Values are always quoted here; ``is one of`` takes a comma-separated list. Columns
    must be among ``columns`` (the file's).
    """
    parts = []
    cols = list(columns)
    for c in conditions:
        if c.column not in cols:
            raise ImportValidationError(f"the file has no column {c.column!r}; its columns are {', '.join(map(repr, cols))}")
        if c.op not in OPERATORS:
            raise ImportValidationError(f"unknown filter operator {c.op!r}; use one of {', '.join(OPERATORS)}")
        col = quote_ident(c.column)
        v = quote_literal(c.value)
        text = f"CAST({col} AS VARCHAR)"
        part = {
            "equals": f"{text} = {v}",
            "is not": f"{text} IS DISTINCT FROM {v}",
            "contains": f"contains({text}, {v})",
            "starts with": f"starts_with({text}, {v})",
            "is true": f"CAST({col} AS BOOLEAN)",
            "is false": f"NOT CAST({col} AS BOOLEAN)",
            "is empty": f"({col} IS NULL OR trim({text}) = '')",
            "is not empty": f"({col} IS NOT NULL AND trim({text}) <> '')",
            "greater than": f"TRY_CAST({col} AS DOUBLE) > TRY_CAST({v} AS DOUBLE)",
            "less than": f"TRY_CAST({col} AS DOUBLE) < TRY_CAST({v} AS DOUBLE)",
        }.get(c.op)
        if c.op == "is one of":
            items = [x.strip() for x in c.value.split(",") if x.strip()]
            if not items:
                raise ImportValidationError(f"'is one of' on {c.column!r} needs comma-separated values")
            part = f"{text} IN ({', '.join(quote_literal(x) for x in items)})"
        parts.append(part)
    if not parts:
        return None
    return check_filter(" AND ".join(parts))
