"""Dependencies flow one way: settings → data → … → predict → cli; the service calls the package, never
the reverse; corpus building is a data-making step nothing at run time imports."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "src" / "boundaryline"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_package_never_imports_the_service_or_the_benchmarks(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m.split(".")[0] in ("service", "benchmarks")}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize(
    "path", sorted(p for p in PACKAGE.rglob("*.py") if "corpus" not in p.parts and p.name != "cli.py"), ids=str
)
def test_nothing_at_run_time_imports_corpus_building(path: Path) -> None:
    assert not {m for m in imported_modules(path) if m.startswith("boundaryline.corpus")}


def test_scoring_loads_neither_the_service_nor_corpus_building() -> None:
    code = (
        "import sys, boundaryline, boundaryline.scoring.run, boundaryline.retrain, boundaryline.train;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'service' or m.startswith('boundaryline.corpus')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_package_imports_run_one_way() -> None:
    """No import loop among the package's modules (issue 22: batch → parts → dask_engine → batch was one),
    counting the imports inside functions too."""
    modules = {
        ".".join(("boundaryline", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }
    graph = {name: {m for m in imported_modules(path) if m in modules and m != name} for name, path in modules.items()}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                raise AssertionError("import loop: " + " → ".join([*trail[trail.index(target) :], target]))
            if target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
