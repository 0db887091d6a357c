"""ARCHITECTURE.md's import invariants, checked on the source (``ast`` only).

- No runtime import cycle anywhere in ``netviz_lsp`` (imports under ``TYPE_CHECKING`` are
  for types and do not count; imports inside functions are lazy and do count; a submodule
  importing its own package is not a cycle, the package being initialised first).
- The server reaches the worker only through the engine: no ``netviz_lsp.server`` module
  imports ``netviz_lsp.worker``.
- Only the worker imports Keras or TensorFlow.
- The worker and the engine share their messages through ``worker/messages.py`` alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "netviz_lsp"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports at run time (anywhere but under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
            submodules = {f"{module}.{alias.name}" for alias in node.names} & MODULE_NAMES
            found.update(submodules or {module})
            if len(submodules) < len(node.names):
                found.add(module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
MODULE_NAMES = set(MODULES)
# A submodule importing its own package is no cycle: the package is initialised first.
GRAPH = {name: {m for m in _imports(path) if m in MODULES and m != name and not name.startswith(m + ".")}
         for name, path in MODULES.items()}


def test_no_runtime_import_cycle():
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def walk(name: str, stack: list[str]) -> None:
        state[name] = 1
        for other in sorted(GRAPH[name]):
            if state.get(other) == 1:
                cycles.append(stack[stack.index(other):] + [other] if other in stack else [name, other])
            elif other not in state:
                walk(other, stack + [other])
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            walk(name, [name])
    assert not cycles, "runtime import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_server_reaches_the_worker_only_through_the_engine():
    offenders = {name: sorted(m for m in GRAPH[name] if m.startswith("netviz_lsp.worker"))
                 for name in GRAPH if name.startswith("netviz_lsp.server")}
    assert not {k: v for k, v in offenders.items() if v}


def test_only_the_worker_imports_keras_or_tensorflow():
    heavy = {name: sorted(m for m in _imports(path) if m.split(".")[0] in ("keras", "tensorflow"))
             for name, path in MODULES.items() if not name.startswith("netviz_lsp.worker")}
    assert not {k: v for k, v in heavy.items() if v}


def test_the_engine_and_the_worker_share_messages_through_one_module():
    engine_uses = {m for name in GRAPH if name.startswith("netviz_lsp.engine") for m in GRAPH[name]
                   if m.startswith("netviz_lsp.worker")}
    assert engine_uses <= {"netviz_lsp.worker", "netviz_lsp.worker.messages", "netviz_lsp.worker.pool"}


def test_the_pure_layers_never_reach_up():
    """discovery/, render/, groups, memory and notebook read source text and graphs only: they never
    import the engine, the server or the worker (the engine hands them what it resolved)."""
    pure = ("netviz_lsp.discovery", "netviz_lsp.render", "netviz_lsp.groups", "netviz_lsp.memory", "netviz_lsp.notebook")
    above = ("netviz_lsp.engine", "netviz_lsp.server", "netviz_lsp.worker", "netviz_lsp.cli")
    offenders = {name: sorted(m for m in GRAPH[name] if m.startswith(above))
                 for name in GRAPH if name.startswith(pure)}
    assert not {k: v for k, v in offenders.items() if v}
