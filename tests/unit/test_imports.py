"""Imports run one way: the stages over the cache (zkml.stages), never back up, and no module
reaches back to one that imports it, even lazily."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "zkml"
pytestmark = pytest.mark.fast


def _imports(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zkml"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("zkml"))
    return found


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    return {name: {m for m in _imports(path, top_level_only) if m in modules and m != name}
            for name, path in modules.items()}


@pytest.mark.parametrize("top_level_only", [True, False], ids=["module level", "lazy too"])
def test_imports_have_no_cycle(top_level_only):
    """Not even through imports inside functions: a module that needs one above it (the
    commitment recomputed from keys, say) belongs above it."""
    graph = _graph(top_level_only=top_level_only)
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for dep in graph[module]:
            assert state.get(dep) != "open", " -> ".join([*trail, module, dep])
            if dep not in state:
                visit(dep, [*trail, module])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [])


def test_the_stage_cache_sits_below_every_stage():
    graph = _graph(top_level_only=False)  # lazy imports inside functions count too
    assert graph["zkml.stages"] <= {"zkml.layout"}
    for below in ("zkml.keys", "zkml.evm.verifier", "zkml.optimize", "zkml.circuit"):
        assert "zkml.pipeline" not in graph[below], f"{below} imports zkml.pipeline"
