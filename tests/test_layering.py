"""ganzoo's modules import downward only: the contracts of setup.cfg, no cycles, and the few
imports made inside functions are lazy loads of TensorFlow-heavy modules, each said so."""

import ast
import sys
from pathlib import Path

import grimp
import pytest
from importlinter import api as importlinter_api
from importlinter.application.use_cases import lint_imports

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ganzoo"
# Libraries whose import costs seconds (or a GPU probe): a ganzoo module that imports one
# at its top is "heavy", and only heavy modules may be imported inside a function.
HEAVY = {"tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "tensorflow_datasets",
         "h5py"}
# The comment a function-level import carries, on its line or the line above.
LAZY_MARK = "Lazy:"


def _modules():
    """`{dotted name: path}` of every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _top_level_imports(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    return imported


def _is_heavy(name, visiting=None):
    """True when importing module `name` imports a `HEAVY` library (at the top of a file).

    Importing a module runs its packages' `__init__` first, so those count too; a module
    met again while it is being looked at (a package and its submodules) adds nothing new.
    """
    if name in _HEAVY_FOUND:
        return _HEAVY_FOUND[name]
    visiting = set() if visiting is None else visiting
    if name in visiting or name not in MODULES:
        return False
    visiting.add(name)
    parts = name.split(".")
    parents = [".".join(parts[:i]) for i in range(1, len(parts))]
    heavy = any(_is_heavy(parent, visiting) for parent in parents)
    for imported in sorted(_top_level_imports(name)):
        if heavy:
            break
        module = imported if imported in MODULES else imported.rpartition(".")[0]
        heavy = imported.split(".")[0] in HEAVY or (
            module in MODULES and _is_heavy(module, visiting))
    visiting.discard(name)
    _HEAVY_FOUND[name] = heavy
    return heavy


_HEAVY_FOUND = {}


def function_level_imports(source, module_names=None):
    """`(line number, imported module, line text, line above)` of every ganzoo import made
    inside a function of `source`; the line above is the one above a run of imports."""
    module_names = MODULES if module_names is None else module_names
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and inner.level == 0 and (
                    inner.module or "").startswith("ganzoo"):
                names = [f"{inner.module}.{alias.name}" for alias in inner.names]
                targets = {n if n in module_names else inner.module for n in names}
            elif isinstance(inner, ast.Import):
                targets = {a.name for a in inner.names if a.name.startswith("ganzoo")}
            else:
                continue
            # The comment above a run of imports covers them all.
            first = inner.lineno - 1
            while first > 0 and lines[first - 1].lstrip().startswith(("from ", "import ")):
                first -= 1
            above = lines[first - 1] if first > 0 else ""
            for target in sorted(targets):
                found.append((inner.lineno, target, lines[inner.lineno - 1], above))
    return sorted(set(found))


def test_the_import_contracts_of_setup_cfg_are_kept(monkeypatch):
    # What `lint-imports setup.cfg` checks, through its API (it prints the report).
    monkeypatch.chdir(ROOT)
    config = importlinter_api.read_configuration(str(ROOT / "setup.cfg"))
    assert {contract["name"] for contract in config["contracts_options"]} == {
        "ganzoo imports downward only",
        "no import cycles between the modules of any package",
        "the runtime never imports TensorFlow or Keras",
    }
    assert lint_imports(config_filename=str(ROOT / "setup.cfg"), cache_dir=None,
                        no_logo=True) is True


def test_no_module_imports_itself_back_through_others():
    graph = grimp.build_graph("ganzoo")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(module):  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert cycles == []


def test_imports_inside_functions_are_only_lazy_loads_of_heavy_modules():
    problems = []
    for name, path in sorted(MODULES.items()):
        for line, target, text, above in function_level_imports(path.read_text("utf-8")):
            where = f"{path.relative_to(ROOT)}:{line}: {text.strip()}"
            if not _is_heavy(target):
                problems.append(f"{where}: {target} is light; import it at the top")
            elif LAZY_MARK not in text and LAZY_MARK not in above:
                problems.append(f"{where}: say why it is lazy ('# {LAZY_MARK} ...' above it)")
    assert problems == []


@pytest.mark.parametrize("fault, expected", [
    ("def f():\n    from ganzoo import presets\n", "light"),
    ("def f():\n    from ganzoo import models\n", "say why"),
    ("def f():\n    # Lazy: TensorFlow.\n    from ganzoo import models\n", None),
])
def test_the_lazy_import_check_fails_on_what_it_is_meant_to_catch(fault, expected):
    found = function_level_imports(fault)
    assert [target for _, target, _, _ in found] == [
        "ganzoo.presets" if "presets" in fault else "ganzoo.models"]
    _, target, text, above = found[0]
    if expected == "light":
        assert not _is_heavy(target)
    else:
        assert _is_heavy(target)
        assert (LAZY_MARK in text or LAZY_MARK in above) == (expected is None)


def test_recipes_and_benchmarks_use_only_the_public_api():
    private = []
    for path in sorted((ROOT / "pretrained" / "recipes").glob("*.py")) + sorted(
            (ROOT / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ganzoo"):
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (
                    node.value.id == "ganzoo"):
                names = [f"ganzoo.{node.attr}"]
            for name in names:
                if name.startswith("ganzoo") and any(
                        part.startswith("_") for part in name.split(".")[1:]):
                    private.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert private == []
