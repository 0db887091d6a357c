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


#: Methods that change the list, dict or set they are called on (``x_train.append(window)``,
#: ``config.update(units=128)``): a statement calling one on a name changes what the name holds.
MUTATING_METHODS = frozenset({"append", "extend", "insert", "update", "setdefault", "remove", "clear",
                              "sort", "reverse", "discard", "popitem"})
#: ...and those that change a model's architecture (a loop making them builds the model).
MODEL_CHANGE_METHODS = frozenset({"add", "build", "pop"})
#: Builtins a loop's iterable may call and still be plain data of the script (``range(3)``,
#: ``zip(FILTERS, KERNELS)``): not a dataset, a file listing or a generator of the user's.
PLAIN_ITERATORS = frozenset({"range", "enumerate", "zip", "reversed", "sorted", "list", "tuple", "len", "min",
                             "max", "int", "abs", "round"})
#: Methods of a plain value a loop's iterable may call (``cfg["blocks"].items()``).
PLAIN_VIEWS = frozenset({"items", "keys", "values"})


def plain_iterable(node: ast.AST) -> bool:
    """An iterable made of the script's own values: literals, names, attributes and subscripts
    of them, arithmetic, and the builtins of ``PLAIN_ITERATORS`` (``[64, 128]``, ``HIDDEN``,
    ``range(NUM_BLOCKS)``, ``zip(FILTERS, STRIDES)``, ``cfg["layers"]``, ``base.layers[:-20]``).
    Not a call of anything else: ``ds.take(1)``, ``glob.glob(...)``, a user's generator."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.Attribute):
        return plain_iterable(node.value)
    if isinstance(node, ast.Subscript):
        return plain_iterable(node.value) and plain_iterable(node.slice)
    if isinstance(node, ast.Slice):
        return all(plain_iterable(part) for part in (node.lower, node.upper, node.step) if part is not None)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(plain_iterable(e.value if isinstance(e, ast.Starred) else e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(plain_iterable(p) for p in [*node.keys, *node.values] if p is not None)
    if isinstance(node, ast.BinOp):
        return plain_iterable(node.left) and plain_iterable(node.right)
    if isinstance(node, ast.UnaryOp):
        return plain_iterable(node.operand)
    if isinstance(node, ast.Call) and not any(isinstance(a, ast.Starred) for a in node.args):
        func = node.func
        plain_call = (isinstance(func, ast.Name) and func.id in PLAIN_ITERATORS) or (
            isinstance(func, ast.Attribute) and func.attr in PLAIN_VIEWS and plain_iterable(func.value))
        return plain_call and all(plain_iterable(a) for a in [*node.args, *(k.value for k in node.keywords)])
    return False


def accumulated_names(loop: ast.stmt) -> set[str]:
    """Names a loop carries from one pass to the next: its body reads them before it binds them
    in a pass (``x = layers.Conv2D(f, 3)(x)``, ``total += n``). Not the loop's own variables
    (nor an inner loop's, a ``with``'s ``as``), nor a name each pass binds before reading it
    (``model = make(lr); model.compile()``)."""
    if not isinstance(loop, LOOPS):
        return set()
    stored = {n.id for n in module_level(loop.body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    found: set[str] = set()

    def loads(*nodes: Optional[ast.AST]) -> set[str]:
        names = set()
        for node in module_level([n for n in nodes if n is not None]):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
        return names

    def stores(node: Optional[ast.AST]) -> set[str]:
        return {n.id for n in module_level([node]) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} \
            if node is not None else set()

    def visit(stmts: list[ast.stmt], assigned: set[str]) -> None:
        nonlocal found
        for stmt in stmts:
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                found |= (loads(stmt.iter) & stored) - assigned
                assigned |= stores(stmt.target)
                visit(stmt.body, assigned)
                visit(stmt.orelse, assigned)
            elif isinstance(stmt, (ast.While, ast.If)):
                found |= (loads(stmt.test) & stored) - assigned
                visit(stmt.body, assigned)
                visit(stmt.orelse, assigned)
            elif isinstance(stmt, WITHS):
                for item in stmt.items:
                    found |= (loads(item.context_expr) & stored) - assigned
                    assigned |= stores(item.optional_vars)
                visit(stmt.body, assigned)
            elif isinstance(stmt, TRY):
                visit(stmt.body, assigned)
                for handler in stmt.handlers:
                    visit(handler.body, assigned)
                visit(stmt.orelse, assigned)
                visit(stmt.finalbody, assigned)
            else:
                found |= (loads(stmt) & stored) - assigned
                assigned |= stores(stmt)

    own = stores(loop.target) if isinstance(loop, (ast.For, ast.AsyncFor)) else set()
    visit(loop.body, set(own))
    return found - own


def builds_in_place(loop: ast.stmt) -> bool:
    """A top-level ``for`` loop that runs: over a ``plain_iterable`` (nested ``for`` loops too,
    no ``while``), changing in place something made before it: ``model.add(...)``,
    ``blocks.append(...)``, ``layer.trainable = False`` through its loop variable, or carrying a
    value from pass to pass (``x = layers.Conv2D(f, 3)(x)``: ``accumulated_names``). A loop that
    only binds names (a sweep: ``for lr in [1e-3, 1e-4]: model = make(lr)``) is not one: it
    stays a loop that never runs, and later code sees the names as they were before it."""
    if not isinstance(loop, ast.For):
        return False
    for node in module_level([loop]):
        if isinstance(node, (ast.While, ast.AsyncFor)) or (isinstance(node, ast.For) and not plain_iterable(node.iter)):
            return False
    own = {n.id for n in ast.walk(loop) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return bool(mutated_names(loop, MUTATING_METHODS | MODEL_CHANGE_METHODS) - own) or bool(accumulated_names(loop))


def mutated_names(stmt: ast.stmt, methods: frozenset = MUTATING_METHODS) -> set[str]:
    """Module-level names whose object ``stmt`` changes in place, without binding the name anew:
    ``X[k] = v``, ``X.a = v``, ``X.append(v)`` (any of ``methods``), anywhere in it (a loop's
    body included). In a ``for`` loop, a change through the loop's own variable (``for layer
    in base.layers: layer.trainable = False``) changes what the loop iterates: ``base``."""
    names: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (*DEFS, ast.Lambda)):
            continue
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            names.add(root_name(node) or "")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods:
            names.add(root_name(node.func.value) or "")
        if isinstance(node, ast.comprehension):
            stack.extend([node.iter, *node.ifs])
        else:
            stack.extend(ast.iter_child_nodes(node))
    if names and isinstance(stmt, COMPOUND):
        for node in module_level([stmt]):
            if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name) \
                    and node.target.id in names:
                names.discard(node.target.id)
                names.add(root_name(node.iter) or "")
    names.discard("")
    return names


def bound_names(stmt: ast.stmt, mutated: Optional[set[str]] = None) -> set[str]:
    """Module-level names ``stmt`` binds, or mutates in place (``X[k] = v``, ``X.a = v``,
    ``X.append(v)``: ``mutated_names``, or ``mutated`` when the caller has them)."""
    names: set[str] = set(mutated_names(stmt) if mutated is None else mutated)
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


#: Other spellings of Keras' own modules: TensorFlow's ``tf.keras`` (Keras 3 itself on TensorFlow
#: 2.16+), its older private path, and the ``tf_keras`` package.
KERAS_SPELLINGS = ("tensorflow.python.keras.", "tensorflow.keras.", "tf.keras.", "tf_keras.")


def keras_name(full: str) -> str:
    """``tensorflow.keras.X`` (and the other ``KERAS_SPELLINGS``) as ``keras.X``; any other name as it is."""
    for prefix in KERAS_SPELLINGS:
        if full.startswith(prefix):
            return "keras." + full[len(prefix):]
    return full


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
