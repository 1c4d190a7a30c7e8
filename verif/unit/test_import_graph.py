"""The layers: ``sim_models`` (physics, golden model) <- ``mram_macro`` (the product) <- ``verif``
(tests only), checked on the import graph.

The import graph of the repository's own modules is read from the source with :mod:`ast`: every
``import`` and ``from ... import`` at any nesting level (inside functions, ``if TYPE_CHECKING:``,
``try:``), relative imports resolved, plus ``importlib.import_module("...")`` with a literal
name. An import names the most specific of our modules it reaches: ``from mram_macro.sim import
harness`` is an edge to ``mram_macro.sim.harness``, ``from mram_macro import MacroConfig`` one to
``mram_macro`` (its ``__init__``).

A module can also depend on another without importing it: by handing its dotted name to a
runner as a string (``test_module="verif.cocotb.x"`` for cocotb). The product's string literals
that are the dotted name of a test module count as such dependencies (:func:`named_modules`).
"""

from __future__ import annotations

import ast
import re
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("sim_models", "mram_macro", "verif")

# Imports of the test package by the product or the models that another change is removing, as
# (importing module, imported module) pairs. Keep the list explicit, and empty.
KNOWN_PRODUCT_TO_VERIF: frozenset[tuple[str, str]] = frozenset()

# The only part of the product the physics models may import: configuration types.
SIM_MODELS_MAY_IMPORT = frozenset({"mram_macro.design.config"})


def module_name(path: Path, root: Path = REPO) -> str:
    """Dotted module name of a source file below ``root`` (a package's ``__init__`` is the
    package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def repo_modules(root: Path = REPO) -> dict[str, Path]:
    """Every module of the repository's own packages, by dotted name."""
    return {
        module_name(path, root): path
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
    }


def _imported_names(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Dotted names imported anywhere in ``tree``; ``from X import a`` yields ``X`` and ``X.a``."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in ("import_module", "__import__"))):
            names.add(node.args[0].value)
    return names


def named_modules(tree: ast.AST, package: str) -> set[str]:
    """String literals anywhere in ``tree`` (assignments, defaults, call arguments, tuples) that
    are exactly a dotted module name inside ``package`` (``"verif.cocotb.test_power"``; not
    ``"verif"`` alone, not prose or a docstring that mentions one): module names a runner would
    import."""
    pattern = re.compile(rf"{re.escape(package)}(?:\.[A-Za-z_]\w*)+")
    return {node.value.strip() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and pattern.fullmatch(node.value.strip())}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The most specific of our modules that importing ``name`` reaches, or None if foreign."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_graph(root: Path = REPO) -> dict[str, set[str]]:
    """``{module: modules of ours it imports}`` for every module of the repository."""
    modules = repo_modules(root)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = _imported_names(tree, module, path.name == "__init__.py")
        targets = {_resolve(name, modules) for name in names}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def product_to_verif(root: Path = REPO) -> set[tuple[str, str]]:
    """``(module, verif module)`` for every dependency of the product or the models on the test
    package: an import of one of ``verif``'s modules, or a string literal naming a ``verif.``
    module (:func:`named_modules`; named as written, whether such a module exists or not, since
    a runner handed it fails either way once ``verif`` is not installed)."""
    modules = repo_modules(root)
    graph = import_graph(root)
    found: set[tuple[str, str]] = set()
    for module, path in modules.items():
        if not (_in(module, "mram_macro") or _in(module, "sim_models")):
            continue
        found.update((module, t) for t in graph[module] if _in(t, "verif"))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.update((module, name) for name in named_modules(tree, "verif"))
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(root: str) -> None:
        # Iterative depth-first search: the graph is deep enough to trouble the recursion limit.
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class ImportGraphTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.graph = import_graph()

    def _edges(self, source_package: str, target_package: str) -> set[tuple[str, str]]:
        return {
            (source, target)
            for source, targets in self.graph.items() if _in(source, source_package)
            for target in targets if _in(target, target_package)
        }

    def test_graph_sees_all_import_forms(self):
        # Guards the reader itself: ``from .demo import ...`` inside a function of cli.py,
        # ``from .config import ...`` in a package's __init__, ``from . import x`` in ppa/flow.py.
        self.assertIn("mram_macro.demo", self.graph["mram_macro.cli"])
        self.assertIn("mram_macro.design.config", self.graph["mram_macro"])
        self.assertIn("mram_macro.flow.ppa.hold_fix", self.graph["mram_macro.flow.ppa.flow"])
        self.assertGreater(len(self.graph), 150)

    def test_product_and_models_do_not_import_tests(self):
        found = product_to_verif() - KNOWN_PRODUCT_TO_VERIF
        for package in ("mram_macro", "sim_models"):
            with self.subTest(package=package):
                edges = {(s, t) for s, t in found if _in(s, package)}
                self.assertFalse(edges, f"{package} imports or names a module of the test "
                                        f"package: {sorted(edges)}")

    def test_sim_models_import_only_configuration_from_product(self):
        edges = {(s, t) for s, t in self._edges("sim_models", "mram_macro")
                 if t not in SIM_MODELS_MAY_IMPORT}
        self.assertFalse(edges, "sim_models may import only mram_macro.design.config from the "
                                f"product: {sorted(edges)}")

    def test_configuration_calls_no_physics(self):
        edges = self._edges("mram_macro.design.config", "sim_models")
        self.assertFalse(edges, f"mram_macro.design.config imports the physics models: "
                                f"{sorted(edges)}")

    def test_no_import_cycles(self):
        found = cycles(self.graph)
        self.assertFalse(found, "import cycles among the repository's modules:\n"
                         + "\n".join(" <-> ".join(component) for component in found))


class CycleFinderTests(unittest.TestCase):
    def test_finds_a_cycle_and_ignores_a_chain(self):
        graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
        self.assertEqual(cycles(graph), [["a", "b", "c"]])
        self.assertEqual(cycles({"a": {"b"}, "b": set()}), [])

    def test_relative_and_nested_imports_resolve(self):
        source = (
            "from . import b\n"
            "from ..pkg2 import c\n"
            "def f():\n"
            "    import pkg2.d.e\n"
            "    importlib.import_module('pkg2.x')\n"
        )
        names = _imported_names(ast.parse(source), "pkg.a", is_package=False)
        self.assertTrue({"pkg.b", "pkg2.c", "pkg2.d.e", "pkg2.x"} <= names)

    def test_module_names_in_string_literals(self):
        source = (
            '"""Docstring: prose that mentions verif.cocotb.test_macro is no dependency."""\n'
            'DEFAULT = "verif.cocotb.test_power"\n'
            'def run(test_module="verif.cocotb.fixtures", *, suites=("verif.other",)):\n'
            '    runner.test(test_module="verif.cocotb.test_counter_power")\n'
            'PATHS = ("verif", "verif/cocotb", "mram_macro.sim.workloads.power")\n'
        )
        self.assertEqual(named_modules(ast.parse(source), "verif"),
                         {"verif.cocotb.test_power", "verif.cocotb.fixtures", "verif.other",
                          "verif.cocotb.test_counter_power"})

    def test_a_named_test_module_in_the_product_fails_the_check(self):
        # A product module that hands a verif module's name to a runner, and one that imports
        # verif, in a tree of the three packages: both count; the models' clean module does not.
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            files = {
                "mram_macro/__init__.py": "",
                "mram_macro/flow/ppa/__init__.py": "",
                "mram_macro/flow/ppa/activity.py": 'DEFAULT_WORKLOAD = "verif.cocotb.test_power"\n',
                "mram_macro/demo.py": "def f():\n    from verif import runner\n",
                "sim_models/__init__.py": "",
                "sim_models/golden.py": 'NAME = "mram_macro.sim.workloads.power"\n',
                "verif/__init__.py": "",
                "verif/runner.py": "",
                "verif/cocotb/__init__.py": "",
                "verif/cocotb/test_power.py": "",
            }
            for name, text in files.items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_text(text)
            self.assertEqual(product_to_verif(root),
                             {("mram_macro.flow.ppa.activity", "verif.cocotb.test_power"),
                              ("mram_macro.demo", "verif"), ("mram_macro.demo", "verif.runner")})


if __name__ == "__main__":
    unittest.main()
