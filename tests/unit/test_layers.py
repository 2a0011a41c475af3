"""The library's floors, checked instead of remembered (import-linter's idea, on the AST).

- ``red_app.method`` works on arrays: it imports neither ``duckdb`` nor ``red_app.project``;
- only ``red_app.project`` runs SQL (no ``.execute`` / ``.sql`` call anywhere else);
- pages import no ``duckdb``; only pages import ``streamlit``;
- pages import only ``red_app.workflows`` (and ``red_app.errors``): the CLI's floor is theirs;
- the floors go one way: ``method`` and ``judges`` never import ``project`` or ``workflows``,
  ``project`` never imports ``workflows``, and nothing below ``cli`` imports it;
- no call of a private name across modules (``loop._fit(`` from elsewhere, ``from .x import _y``);
- no probing of a judge with ``getattr``/``hasattr``: capabilities are declared on the judge;
- no class over 400 lines and no function over 60 in ``red_app`` (argparse tables and the
  benchmark's report writer aside, named below);
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
    assert any(n.startswith("red_app.workflows.") for n in LIB)
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


def test_pages_call_only_the_workflows():
    for name, imported in _imports_of({**PAGES, **APP}).items():
        below = {m for m in imported if m.startswith("red_app")
                 and not m.startswith(("red_app.workflows", "red_app.errors"))}
        assert not below, f"{name} imports {sorted(below)}: pages call red_app.workflows"


# floor → the floors above it, which it must never import
ABOVE = {
    "red_app.errors": ("red_app.method", "red_app.judges", "red_app.project", "red_app.workflows", "red_app.cli"),
    "red_app.method": ("red_app.project", "red_app.workflows", "red_app.cli"),
    "red_app.judges": ("red_app.method", "red_app.project", "red_app.workflows", "red_app.cli"),
    "red_app.project": ("red_app.workflows", "red_app.cli"),
    "red_app.workflows": ("red_app.cli",),
}


def test_no_floor_imports_a_floor_above_it():
    offenders = []
    for name, imported in _imports_of(LIB).items():
        for floor, above in ABOVE.items():
            if name == floor or name.startswith(floor + "."):
                offenders += [f"{name} → {m}" for m in imported if m.startswith(above)]
    assert not offenders, offenders


def _private_calls(path: Path, tree: ast.Module) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, owner = node.func.attr, node.func.value
            if attr.startswith("_") and not attr.startswith("__") and not (
                    isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}")
        elif isinstance(node, ast.ImportFrom):
            out += [f"{path.relative_to(ROOT)}:{node.lineno} imports {a.name}" for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")]
    return out


def test_no_private_name_is_used_across_modules():
    offenders = [hit for path, tree in {**LIB, **PAGES, **APP}.values() for hit in _private_calls(path, tree)]
    assert not offenders, offenders


def test_no_judge_is_probed_for_what_it_can_do():
    offenders = []
    for path, tree in {**LIB, **PAGES, **APP}.values():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("getattr", "hasattr") and node.args
                    and "judge" in ast.unparse(node.args[0]).lower()):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert not offenders, f"declare the capability on BaseJudge instead: {offenders}"


# Long on purpose: one argparse table per command group reads best as one block, and the
# benchmark's report writer is a template of the report.
LONG_ON_PURPOSE = {("red_app/cli/main.py", "build_parser"), ("red_app/cli/engine.py", "register"),
                   ("red_app/workflows/bench.py", "write_report")}


def test_no_class_over_400_lines_or_function_over_60():
    offenders = []
    for path, tree in LIB.values():
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            size = getattr(node, "end_lineno", 0) - getattr(node, "lineno", 0) + 1
            if isinstance(node, ast.ClassDef) and size > 400:
                offenders.append(f"class {rel}:{node.lineno} {node.name} ({size} lines)")
            elif (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and size > 60
                  and (rel, node.name) not in LONG_ON_PURPOSE):
                offenders.append(f"def {rel}:{node.lineno} {node.name} ({size} lines)")
    assert not offenders, offenders


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
