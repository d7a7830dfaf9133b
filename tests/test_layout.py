"""The package keeps one direction of imports: no module or subpackage imports one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import tuner

PACKAGE = Path(tuner.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """The project modules one module imports, at any depth of its code (lazy imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in MODULES:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            found |= submodules or {node.module}
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a list of names, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name], _ = 1, path.append(name)
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[name], _ = 2, path.pop()
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return None


def _graph() -> dict[str, set[str]]:
    # The package's own __init__ is the public facade: it may name anything, and only __version__ is read from it.
    return {name: _imports(path) - {"tuner"} for name, path in MODULES.items() if name != "tuner"}


def _package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_module_imports_one_that_imports_it_back():
    assert _cycle(_graph()) is None


def test_no_subpackage_imports_one_that_imports_it_back():
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        own = _package_of(module)
        packages.setdefault(own, set()).update(_package_of(target) for target in targets if _package_of(target) != own)
    assert _cycle(packages) is None


def test_the_cycle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_reports_never_import_a_deep_learning_framework_or_the_engine():
    heavy = ("tuner.engine", "tuner.model", "tuner.parallel", "tuner.data", "tuner.compat")
    for module, targets in _graph().items():
        if module.startswith("tuner.reports"):
            assert not [target for target in targets if target.startswith(heavy)], module


def test_the_public_api_names_what_the_readme_promises():
    assert {"load_spec", "Spec", "run_search", "InputError", "TunerError", "run_tiny_search"} <= set(tuner.__all__)
    assert tuner.InputError.exit_code == 2 and tuner.load_spec.__module__ == "tuner.space.loading"


def test_every_public_name_loads_from_its_module():
    assert set(tuner.__all__) == {"__version__", *tuner._PUBLIC}
    for name in tuner._PUBLIC:
        assert getattr(tuner, name).__name__ == name
