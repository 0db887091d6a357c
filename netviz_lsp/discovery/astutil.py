"""Small ``ast`` helpers every stage shares: names a statement binds and reads, dotted names,
import aliases. Pure functions, no state; iterative walks, so deep nesting cannot overflow."""

from __future__ import annotations

import ast
import symtable
from typing import Iterable, Iterator, Optional

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
TRY = tuple({ast.Try, getattr(ast, "TryStar", ast.Try)})
LOOPS = (ast.For, ast.AsyncFor, ast.While)
WITHS = (ast.With, ast.AsyncWith)
COMPOUND = (ast.If, *LOOPS, *WITHS, *TRY, ast.Match)
ASSIGN = (ast.Assign, ast.AnnAssign, ast.AugAssign)
LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)


def is_main_guard(stmt: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    test = stmt.test if isinstance(stmt, ast.If) else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    operands = [test.left, test.comparators[0]]
    return (any(isinstance(o, ast.Name) and o.id == "__name__" for o in operands)
            and any(isinstance(o, ast.Constant) and o.value == "__main__" for o in operands))


def module_level(stmts: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node of ``stmts`` that runs at module level, in source order: def/class/lambda
    bodies are skipped (the def/class/lambda node itself is yielded)."""
    stack = list(reversed(list(stmts)))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, SCOPES):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))


def bound_names(stmt: ast.stmt) -> set[str]:
    """Module-level names ``stmt`` binds, or mutates in place (``X[k] = v``, ``X.a = v``)."""
    names: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, DEFS):
            names.add(node.name)
            continue  # the body binds in the function's own scope
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            names.add(root_name(node) or "")
        elif isinstance(node, ast.alias) and node.name != "*":
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        if isinstance(node, ast.comprehension):  # its target is local to the comprehension
            stack.extend([node.iter, *node.ifs])
        elif not isinstance(node, ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    names.discard("")
    return names


def rebinds(stmt: ast.stmt) -> set[str]:
    """Names ``stmt`` replaces outright, whatever they held before: an import, a def or class,
    ``X = ...`` (tuple targets included). Not ``X += 1``, ``X.a = 1``, nor anything in a block."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"}
    if isinstance(stmt, DEFS):
        return {stmt.name}
    targets = stmt.targets if isinstance(stmt, ast.Assign) else (
        [stmt.target] if isinstance(stmt, ast.AnnAssign) and stmt.value is not None else [])
    names: set[str] = set()
    stack = list(targets)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(node.elts)
        elif isinstance(node, ast.Starred):
            stack.append(node.value)
    return names


def reads(stmt: ast.stmt, tables: dict) -> tuple[set[str], set[str]]:
    """``(now, later)``: global names running ``stmt`` reads at once, and those the bodies of
    the functions and classes it defines read when called later (from ``symtable``, so a local
    ``model`` in a factory does not pull in a top-level ``model = ...``). A name a statement
    mutates in place (``X += 1``, ``X.a = 1``) counts as read: the old value is needed."""
    loads: set[str] = set()
    later: set[str] = set()
    local: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, DEFS):
            table = tables.get((node.name, node.lineno))
            later |= table_globals(table) if table is not None else set()
            stack.extend(header(node))  # decorators, defaults, bases: evaluated at module level
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loads.add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            loads.add(node.target.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            loads.add(root_name(node) or "")
        elif isinstance(node, ast.comprehension):
            local |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Lambda):
            local |= {a.arg for a in all_args(node.args)}
        elif isinstance(node, (ast.With, ast.AsyncWith)):  # ``as f`` is bound before the body reads ``f``
            local |= {n.id for item in node.items if item.optional_vars is not None
                      for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)}
        stack.extend(ast.iter_child_nodes(node))
    loads.discard("")
    return loads - local, later


class LiftedTable:
    """The symbol table of a function or class defined in the body of a function the script
    runs (``script.py``): that body runs as module statements, so the names it reads from the
    enclosing function (its free names) are globals too."""

    def __init__(self, table: symtable.SymbolTable) -> None:
        self.table = table


def table_globals(table) -> set[str]:
    """Names that ``table`` or any scope nested in it resolves as globals (a ``LiftedTable``:
    its free names too)."""
    names: set[str] = set()
    if isinstance(table, LiftedTable):
        table = table.table
        own = {s.get_name() for s in table.get_symbols() if s.is_local()}
        stack = [table]
        while stack:
            scope = stack.pop()
            names.update(s.get_name() for s in scope.get_symbols() if s.is_free() and s.get_name() not in own)
            stack.extend(scope.get_children())
    stack = [table]
    while stack:
        scope = stack.pop()
        names.update(s.get_name() for s in scope.get_symbols() if s.is_global())
        stack.extend(scope.get_children())
    return names


def header(node: ast.AST) -> list[ast.AST]:
    """The parts of a def or class statement the enclosing scope evaluates."""
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *node.keywords]
    args = node.args
    annotations = [a.annotation for a in all_args(args) if a.annotation]
    return [*node.decorator_list, *args.defaults, *filter(None, args.kw_defaults), *annotations,
            *filter(None, [node.returns])]


def all_args(args: ast.arguments) -> list[ast.arg]:
    return [*args.posonlyargs, *args.args, *filter(None, [args.vararg]), *args.kwonlyargs,
            *filter(None, [args.kwarg])]


def root_name(node: ast.AST) -> Optional[str]:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def dotted(node: Optional[ast.AST]) -> Optional[str]:
    """``a.b.c`` for a chain of attributes on a name, else ``None``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def aliases(imports: Iterable[ast.AST]) -> dict[str, str]:
    """Local name -> what it was imported as, dotted (``tf`` -> ``tensorflow``)."""
    found = {}
    for node in imports:
        for alias in node.names:
            if isinstance(node, ast.Import):
                target = alias.name if alias.asname else alias.name.split(".")[0]
                found[alias.asname or target] = target
            elif alias.name != "*":
                module = "." * node.level + (node.module or "")
                dot = "" if module.endswith(".") else "."
                found[alias.asname or alias.name] = module + dot + alias.name
    return found


def resolve(name: str, known: dict[str, str]) -> str:
    head, dot, rest = name.partition(".")
    return known.get(head, head) + dot + rest


def last(name: str) -> str:
    return name.rpartition(".")[2]


def required(fn: ast.FunctionDef) -> list[str]:
    """Parameters with no default, in order."""
    args = fn.args
    positional = args.posonlyargs + args.args
    needed = positional[:len(positional) - len(args.defaults)]
    return [a.arg for a in needed] + [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]


def params(fn: ast.FunctionDef) -> list[str]:
    """Parameter names in order, ``*args``/``**kwargs`` with their stars."""
    args = fn.args
    star = [f"*{args.vararg.arg}"] if args.vararg else []
    stars = [f"**{args.kwarg.arg}"] if args.kwarg else []
    return [a.arg for a in args.posonlyargs + args.args] + star + [a.arg for a in args.kwonlyargs] + stars
