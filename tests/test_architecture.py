"""The import graph is the design (docs/design.md): areas depend downwards only, `files` never imports
`jury`, `core` imports no area, `db.py` imports nothing of the app; views and API handlers never
commit nor roll back; templates never compare role strings. Read from the source with `ast`, so
that a lazy import inside a function counts as much as one at the top of a module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
# Lower layers first: an area may import only the areas before it (and itself).
LAYERS = ("core", "accounts", "referential", "files", "jury", "stats", "api")
AREAS = set(LAYERS)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every app module `path` imports, wherever the import statement sits."""
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "app")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] != "app":
                continue
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in AREAS else None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in APP.rglob("*.py")}
    # `from app.files import services` names a module: keep the names that are modules (or packages).
    return {name: {m for m in _imports(path) if m in modules} for name, path in modules.items()}


def _area_edges(graph) -> set[tuple[str, str]]:
    return {(_area(a), _area(b)) for a, targets in graph.items() for b in targets
            if _area(a) and _area(b) and _area(a) != _area(b)}


def test_areas_import_only_lower_layers(graph):
    upward = sorted((a, b) for a, b in _area_edges(graph) if LAYERS.index(b) > LAYERS.index(a))
    assert upward == [], f"imports against the layers {' < '.join(LAYERS)}: {upward}"


def test_files_never_imports_jury(graph):
    edges = sorted((a, b) for a, targets in graph.items() for b in targets
                   if _area(a) == "files" and _area(b) == "jury")
    assert edges == []


def test_core_imports_no_area(graph):
    edges = sorted((a, b) for a, targets in graph.items() for b in targets
                   if _area(a) == "core" and (_area(b) not in (None, "core")))
    assert edges == []


def test_db_imports_nothing_of_the_app(graph):
    assert graph["app.db"] == set()


def test_no_module_import_cycle(graph):
    """Depth-first search over module imports: a cycle is a design error even when Python copes."""
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if target == node or target.startswith(node + ".") or node.startswith(target + "."):
                continue  # a package and its own modules
            if state.get(target) == 1:
                cycle.extend(path[path.index(target):] + [target] if target in path else [node, target])
                return True
            if state.get(target) is None and visit(target, path + [target]):
                return True
        state[node] = 2
        return False

    for module in sorted(graph):
        if state.get(module) is None and visit(module, [module]):
            break
    assert cycle == [], " -> ".join(cycle)


HANDLER_MODULES = sorted([*APP.glob("*/*views.py"), *(APP / "api").glob("*.py")])


@pytest.mark.parametrize("path", HANDLER_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_handlers_never_commit_nor_roll_back(path):
    calls = [node.lineno for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in ("commit", "rollback")]
    assert calls == [], f"{path.name}: commit()/rollback() at lines {calls}"


ROLE_COMPARISON = re.compile(r"\.role\s*(==|!=|in) ")


def test_no_role_string_compared_in_templates():
    found = [f"{path.relative_to(ROOT)}:{number}"
             for path in sorted((ROOT / "templates").rglob("*.html"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if ROLE_COMPARISON.search(line)]
    assert found == []
