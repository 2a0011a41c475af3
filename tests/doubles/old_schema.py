"""A DuckDB file as an older version of red left it: the migrations up to ``version`` only."""

from __future__ import annotations

import duckdb

from red_app.project.schema import MIGRATIONS


def old_schema_file(path, version: int) -> duckdb.DuckDBPyConnection:
    """Create ``path`` at schema ``version``; the open connection, for the test's own rows."""
    con = duckdb.connect(str(path))
    for step in MIGRATIONS[:version]:
        for sql in step:
            con.execute(sql)
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(version)])
    return con
