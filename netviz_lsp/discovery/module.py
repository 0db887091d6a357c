"""The parsed file: its top-level statements, what each binds and reads, and the import aliases.

Shared facts for detection, arguments and the slice. ``ast`` and ``symtable`` only.
"""

from __future__ import annotations

import ast
import re
import symtable
import warnings
from typing import Iterable, Iterator, Optional, Union

from netviz_lsp.graph import BuildError

#: Constructors whose call makes a function a factory, under any prefix (``tf.keras.models.Model``).
MODEL_CLASSES = frozenset({"Sequential", "Model", "Functional"})
#: Calls that train or download. A function making them is previewed only when asked for
#: explicitly (a ``# netviz:`` comment or ``factoryArgs``): building it would run them.
TRAINING_CALLS = frozenset({"fit", "fit_generator", "train_on_batch", "evaluate", "predict", "load_data"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TRY = tuple({ast.Try, getattr(ast, "TryStar", ast.Try)})
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, *_TRY, ast.Match)
_ASSIGN = (ast.Assign, ast.AnnAssign, ast.AugAssign)
_DIRECTIVE = re.compile(r"#\s*netviz\s*:\s*(.*)")
_ARGS = re.compile(r"args\s*=(.*)")
_PREVIEW = re.compile(r"preview\b")
_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)

# -- parsing ---------------------------------------------------------------------------------

def _parse(source: str, path: str) -> Union[tuple[ast.Module, symtable.SymbolTable], BuildError]:
    """``(tree, symbol table)``, or the ``syntax`` error that stops the file from compiling."""
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" is the worker's to report
            warnings.simplefilter("ignore")
            # symtable finds what ast accepts but compile rejects (``nonlocal`` at module level).
            return ast.parse(source, path), symtable.symtable(source, path, "exec")
    except SyntaxError as error:
        column = error.offset - 1 if error.offset else None
        return BuildError("syntax", error.msg or "invalid syntax", line=error.lineno, column=column)
    except ValueError as error:  # null bytes, lone surrogates (UnicodeEncodeError)
        return BuildError("syntax", f"the file cannot be parsed: {error}", line=1)
    except (RecursionError, MemoryError):
        return _too_deep()


def _too_deep() -> BuildError:
    return BuildError("syntax", "the file is nested too deeply to be analysed", line=1)


class _Module:
    """Facts about the top-level statements of a parsed file, shared by all its factories."""

    def __init__(self, source: str, tree: ast.Module, table: symtable.SymbolTable) -> None:
        self.lines = re.split(r"\r\n|\r|\n", source)
        self.body = tree.body
        self.tables = {(t.get_name(), t.get_lineno()): t for t in table.get_children()}
        running = [s for s in self.body if not _is_main_guard(s)]
        imports = (n for n in _module_level(running) if isinstance(n, (ast.Import, ast.ImportFrom)))
        self.imports = sorted(imports, key=lambda n: n.lineno)
        self.aliases = _aliases(self.imports)
        self.always = [i for i, s in enumerate(self.body) if _imports_only(s)]
        self.binders: dict[str, list[int]] = {}
        assigned_only: dict[str, bool] = {}
        binding = (*_DEFS, ast.Import, ast.ImportFrom, *_ASSIGN, *_COMPOUND)
        for i, stmt in enumerate(self.body):
            if isinstance(stmt, binding) and not _is_main_guard(stmt):  # never expressions
                for name in _bound_names(stmt):
                    self.binders.setdefault(name, []).append(i)
                    assigned_only[name] = assigned_only.get(name, True) and isinstance(stmt, _ASSIGN)
        self.simple = {name for name, only in assigned_only.items() if only}
        self._reads: dict[int, set[str]] = {}

    def reads(self, i: int) -> set[str]:
        """Global names statement ``i`` may read when it runs (computed once, on demand)."""
        if i not in self._reads:
            self._reads[i] = _reads(self.body[i], self.tables)
        return self._reads[i]

    def closure(self, start: Iterable[int], names: Iterable[str] = ()) -> list[int]:
        """``start`` plus every statement binding a name that the chosen statements read, transitively."""
        chosen: set[int] = set()
        seen = set(names)
        todo = list(start) + [i for name in seen for i in self.binders.get(name, ())]
        while todo:
            i = todo.pop()
            if i in chosen:
                continue
            chosen.add(i)
            for name in self.reads(i) - seen:
                seen.add(name)
                todo.extend(self.binders.get(name, ()))
        return sorted(chosen)

    def segment(self, node: ast.AST) -> str:
        """The exact source of ``node`` (ast offsets count UTF-8 bytes)."""
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self.lines[first].encode()[node.col_offset:node.end_col_offset].decode()
        head = self.lines[first].encode()[node.col_offset:].decode()
        tail = self.lines[last].encode()[:node.end_col_offset].decode()
        return "\n".join([head, *self.lines[first + 1:last], tail])


# -- statements ------------------------------------------------------------------------------

def _is_main_guard(stmt: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    test = stmt.test if isinstance(stmt, ast.If) else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    operands = [test.left, test.comparators[0]]
    return (any(isinstance(o, ast.Name) and o.id == "__name__" for o in operands)
            and any(isinstance(o, ast.Constant) and o.value == "__main__" for o in operands))


def _imports_only(stmt: ast.stmt) -> bool:
    """An import, or a ``try``/``if`` (not the main guard) whose blocks hold only imports."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(stmt, _TRY):
        return all(_imports_only(s) for s in stmt.body)
    if isinstance(stmt, ast.If) and not _is_main_guard(stmt):
        return all(_imports_only(s) for s in stmt.body + stmt.orelse)
    return False


def _module_level(stmts: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of ``stmts`` that runs at module level: def/class/lambda bodies are skipped."""
    stack = list(reversed(stmts))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _bound_names(stmt: ast.stmt) -> set[str]:
    """Module-level names ``stmt`` binds, or mutates in place (``X[k] = v``, ``X.a = v``)."""
    names: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, _DEFS):
            names.add(node.name)
            continue  # the body binds in the function's own scope
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            names.add(_root_name(node) or "")
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


def _reads(stmt: ast.stmt, tables: dict) -> set[str]:
    """Global names running ``stmt`` may read. Function and class bodies come from ``symtable``,
    so a local ``model`` in a factory does not pull in a top-level ``model = ...``."""
    loads: set[str] = set()
    local: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, _DEFS):
            table = tables.get((node.name, node.lineno))
            loads |= _table_globals(table) if table is not None else set()
            stack.extend(_header(node))  # decorators, defaults, bases: evaluated at module level
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loads.add(node.id)
        elif isinstance(node, ast.comprehension):
            local |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Lambda):
            local |= {a.arg for a in _all_args(node.args)}
        stack.extend(ast.iter_child_nodes(node))
    return loads - local


def _table_globals(table: symtable.SymbolTable) -> set[str]:
    """Names that ``table`` or any scope nested in it resolves as globals."""
    names: set[str] = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        names.update(s.get_name() for s in scope.get_symbols() if s.is_global())
        stack.extend(scope.get_children())
    return names


def _header(node: ast.AST) -> list[ast.AST]:
    """The parts of a def or class statement the enclosing scope evaluates."""
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *node.keywords]
    args = node.args
    annotations = [a.annotation for a in _all_args(args) if a.annotation]
    return [*node.decorator_list, *args.defaults, *filter(None, args.kw_defaults), *annotations,
            *filter(None, [node.returns])]


def _all_args(args: ast.arguments) -> list[ast.arg]:
    return [*args.posonlyargs, *args.args, *filter(None, [args.vararg]), *args.kwonlyargs,
            *filter(None, [args.kwarg])]


def _root_name(node: ast.AST) -> Optional[str]:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: Optional[ast.AST]) -> Optional[str]:
    """``a.b.c`` for a chain of attributes on a name, else ``None``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _aliases(imports: Iterable[ast.AST]) -> dict[str, str]:
    """Local name -> what it was imported as, dotted (``tf`` -> ``tensorflow``)."""
    aliases = {}
    for node in imports:
        for alias in node.names:
            if isinstance(node, ast.Import):
                target = alias.name if alias.asname else alias.name.split(".")[0]
                aliases[alias.asname or target] = target
            elif alias.name != "*":
                module = "." * node.level + (node.module or "")
                dot = "" if module.endswith(".") else "."
                aliases[alias.asname or alias.name] = module + dot + alias.name
    return aliases


def _resolve(dotted: str, aliases: dict[str, str]) -> str:
    head, dot, rest = dotted.partition(".")
    return aliases.get(head, head) + dot + rest


def _last(dotted: str) -> str:
    return dotted.rpartition(".")[2]


