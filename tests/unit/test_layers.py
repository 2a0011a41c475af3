"""The library's floors, checked instead of remembered (import-linter's idea, on the AST).

- ``red_app.method`` works on arrays: it imports neither ``duckdb`` nor ``red_app.project``;
- only ``red_app.project`` runs SQL (no ``.execute`` / ``.sql`` call anywhere else);
- pages import no ``duckdb``; only pages import ``streamlit``;
- no import circles inside ``red_app`` (imports inside functions count too).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SQL_CALLS = {"execute", "executemany", "sql"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _sources(folder: str) -> dict[str, tuple[Path, ast.Module]]:
    return {_module_name(p): (p, ast.parse(p.read_text(), str(p))) for p in sorted((ROOT / folder).rglob("*.py"))}


def _imports(name: str, path: Path, tree: ast.Module) -> set[str]:
    """Every module a file imports, relative imports resolved, at any depth of the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)  # `from . import engine`
    return out


LIB = _sources("red_app")
PAGES = _sources("pages")
APP = {"app": (ROOT / "app.py", ast.parse((ROOT / "app.py").read_text()))}


def _imports_of(sources) -> dict[str, set[str]]:
    return {n: _imports(n, p, t) for n, (p, t) in sources.items()}


def _hits(imported: set[str], prefix: str) -> set[str]:
    return {m for m in imported if m == prefix or m.startswith(prefix + ".")}


def test_the_floors_are_where_the_rules_look():
    # a rename that empties a floor would make the rules below pass vacuously
    assert any(n.startswith("red_app.method.") for n in LIB)
    assert any(n.startswith("red_app.project.") for n in LIB)
    assert len(PAGES) >= 6


def test_method_imports_neither_duckdb_nor_the_project():
    for name, imported in _imports_of(LIB).items():
        if name.startswith("red_app.method"):
            assert not _hits(imported, "duckdb"), name
            assert not _hits(imported, "red_app.project"), name
            assert not _hits(imported, "streamlit"), name


def test_only_the_project_runs_sql():
    offenders = []
    for name, (path, tree) in {**LIB, **PAGES, **APP}.items():
        if name.startswith("red_app.project"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"SQL outside red_app/project: {offenders}"


def test_pages_import_no_duckdb_and_only_ui_imports_streamlit():
    for name, imported in _imports_of({**PAGES, **APP}).items():
        assert not _hits(imported, "duckdb"), name
    for name, imported in _imports_of(LIB).items():
        assert not _hits(imported, "streamlit"), name


def test_no_import_circles_in_the_library():
    graph = {}
    for name, imported in _imports_of(LIB).items():
        graph[name] = {m for m in imported if m in LIB and m != name}
    # a package's __init__ re-exporting its own modules is not a circle between rooms
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                raise AssertionError("import circle: " + " → ".join(stack[stack.index(m):] + [m]))
            if m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
