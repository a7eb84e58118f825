"""The command line is one package with no import cycle, and the library never imports it.

Issue 21: six modules defined commands and reached each other through function-local imports
(``cli.py`` <-> ``client_cli.py`` ...), which hid a cycle that only ran when a handler did. The
graph here is read from every ``import`` statement of every module of ``securestore`` (top
level *and* inside functions), plus the command modules ``build_parser`` loads by name, so a
cycle hidden in a handler is found too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from securestore import cli

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "securestore"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The securestore modules ``name`` imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import sub` imports the sub-module; `from pkg import name` needs pkg's body
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                       for alias in node.names]
        for target in targets:
            if target in MODULES and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    graph["securestore.cli"] |= set(cli.COMMAND_MODULES)  # loaded by name in build_parser
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle as a list of modules, or [] (iterative depth-first search)."""
    state: dict[str, int] = {}
    for root in graph:
        if state.get(root):
            continue
        stack = [(root, iter(sorted(graph[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return []


def test_the_package_import_graph_has_no_cycle():
    """No module of securestore reaches itself through imports, function-local ones included."""
    assert _cycle(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    """The check above could fail: a graph with a back edge is reported."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]


def test_the_library_never_imports_the_command_line():
    """keys, signing, STS and transfers are usable without argparse or the CLI package."""
    offenders = {name: sorted(t for t in targets if t == "securestore.cli" or t.startswith("securestore.cli."))
                 for name, targets in import_graph().items() if not name.startswith("securestore.cli")}
    assert {name: t for name, t in offenders.items() if t} == {}


def test_command_modules_import_neither_the_package_entry_nor_each_other():
    """Each command module reaches only errors, options and settings of the CLI package."""
    shared = {"securestore.cli.errors", "securestore.cli.options", "securestore.cli.settings"}
    graph = import_graph()
    for module in cli.COMMAND_MODULES:
        inside = {t for t in graph[module] if t == "securestore.cli" or t.startswith("securestore.cli.")}
        assert inside <= shared, (module, sorted(inside - shared))


@pytest.mark.parametrize("module", sorted(name for name in MODULES
                                          if name.startswith("securestore.cli") and not name.endswith("__main__")))
def test_every_cli_module_imports_alone_in_a_fresh_interpreter(module):
    """Importing any one module first works: an import cycle breaks exactly this."""
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True,
                            cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr


def test_every_command_module_is_registered():
    """A command module left out of COMMAND_MODULES would silently lose its commands."""
    on_disk = {name for name in MODULES if name.startswith("securestore.cli.")} - {
        "securestore.cli.errors", "securestore.cli.options", "securestore.cli.settings",
        "securestore.cli.__main__"}
    assert on_disk == set(cli.COMMAND_MODULES)


# Flags spelled alike in two commands that mean different things there (not shared options).
DIFFERENT_MEANINGS = {
    "--key": "upload: the object key to write; uploads list/abort: a filter on open uploads",
    "--file": "presign put: the file whose SHA-256 is signed; env: the stack outputs JSON to read",
}


def test_a_shared_flag_is_declared_once_in_the_options_table():
    """Issue 21: --bucket was defined four times and the tenant flag spelled three ways. A flag
    written as add_argument("--x") in two command modules must move to options.py (or be listed
    above with why the two mean different things)."""
    declared: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        if not name.startswith("securestore.cli.") or name.endswith((".options", "__main__")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "add_argument"):
                for argument in node.args:
                    if isinstance(argument, ast.Constant) and str(argument.value).startswith("--"):
                        declared.setdefault(argument.value, set()).add(name)
    twice = {flag: sorted(where) for flag, where in declared.items()
             if len(where) > 1 and flag not in DIFFERENT_MEANINGS}
    assert twice == {}, twice
