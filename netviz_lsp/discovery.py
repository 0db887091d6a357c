"""Which top-level functions of a file build Keras models, with what arguments, and what they need.

Reads the source with ``ast``, ``symtable`` and ``tokenize`` only: nothing here imports or
runs the user's code, and ``discover`` never raises for any input string (a file that does
not parse comes back as a ``syntax`` error value). Lines are 1-based. A *slice* is a list of
indexes into ``ast.parse(source).body``, ascending; ``slice_module`` turns one back into a
module the worker compiles and runs, so only imports and the definitions the factories
reference run, never top-level training, downloads, plotting or ``__main__`` blocks.
"""

from __future__ import annotations

import ast
import hashlib
import re
import symtable
import tokenize
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Union

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


@dataclass
class Factory:
    """A top-level function to call for a model preview."""

    name: str
    line: int
    """Line of the ``def`` keyword (not of a decorator)."""
    end_line: int
    params: list[str]
    """Parameter names in order, ``*args``/``**kwargs`` with their stars."""
    args: Optional[str]
    """Source to put between the call's parentheses (``""``, ``"0.001"``); ``None`` when unknown."""
    args_origin: Optional[str]
    """``"settings"``, ``"comment"``, ``"defaults"`` or ``"call"``; ``None`` when unknown."""
    missing: list[str] = field(default_factory=list)
    """Required parameters nothing supplies (non-empty only when ``args`` is ``None``)."""
    slice: list[int] = field(default_factory=list)
    """Top-level statements this factory needs, as ascending indexes into the module body."""
    fingerprint: str = ""
    """Changes whenever what a build of this factory runs changes: its slice's text and lines, its arguments."""
    declared: bool = False
    """Marked (``# netviz:`` comment, ``factoryArgs``) or annotated to return a model: if it returns
    something else, that is worth an error rather than a quiet drop."""


@dataclass
class Discovery:
    """Everything ``discover`` found in one file."""

    factories: list[Factory] = field(default_factory=list)
    """In source order, including those whose arguments are unknown."""
    slice: list[int] = field(default_factory=list)
    """Ascending union of the slices of the factories whose arguments are known."""
    errors: list[BuildError] = field(default_factory=list)
    """``syntax`` (file-wide) or ``arguments`` (one factory) errors."""
    imports: list[str] = field(default_factory=list)
    """Modules imported by module-level code, dotted; relative ones keep their dots (``.x``)."""


def discover(source: str, path: str = "<file>", factory_args: Optional[dict[str, list]] = None) -> Discovery:
    """Find the factories of ``source``; never raises, never runs it.

    ``factory_args`` maps factory names to argument lists (the user's settings); they win over
    ``# netviz: args=`` comments, which win over defaults, which win over a top-level call.
    """
    parsed = _parse(source, path)
    if isinstance(parsed, BuildError):
        return Discovery(errors=[parsed])
    settings = factory_args if isinstance(factory_args, dict) else {}
    try:
        return _discover(_Module(source, *parsed), {k: v for k, v in settings.items() if v is not None})
    except (RecursionError, MemoryError):
        return Discovery(errors=[_too_deep()])


def slice_module(source: str, indexes: list[int], path: str) -> ast.Module:
    """The module made of ``body[i]`` for ``i`` in ``indexes``, in source order, original lines kept.

    Raises ``SyntaxError``/``ValueError`` if ``source`` does not parse (``discover`` reported
    that already) and ``ValueError`` for an index outside the body (a slice of another version).
    """
    body = ast.parse(source, path).body
    keep = sorted(set(indexes))
    if keep and not (0 <= keep[0] and keep[-1] < len(body)):
        raise ValueError(f"slice {keep} does not fit a module of {len(body)} statements")
    return ast.Module(body=[body[i] for i in keep], type_ignores=[])


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


# -- factories -------------------------------------------------------------------------------

@dataclass
class _Scan:
    """What one top-level function's body calls."""

    called: set[str]
    """Dotted names of everything called, imports resolved (``keras.applications.ResNet50``)."""
    names: set[str]
    """Bare names called: in-file functions and classes."""

    def builds(self, model_classes: set[str]) -> bool:
        """Constructs a model, a ``keras.applications`` model, or an in-file model class."""
        return any(_last(d) in MODEL_CLASSES or _is_application(d) for d in self.called) or bool(
            self.names & model_classes)

    def trains(self) -> bool:
        return any(_last(d) in TRAINING_CALLS for d in self.called)


def _is_application(dotted: str) -> bool:
    """``keras.applications...X`` with a class-like ``X``: ``preprocess_input`` builds nothing."""
    parts = dotted.split(".")
    return parts[-1][:1].isupper() and any(
        parts[i:i + 2] == ["keras", "applications"] for i in range(len(parts) - 2))


def _scan(fn: ast.FunctionDef, aliases: dict[str, str]) -> _Scan:
    """The calls anywhere in ``fn``'s body, nested functions and lambdas included."""
    nodes = [n for stmt in fn.body for n in ast.walk(stmt)]
    local = {**aliases, **_aliases(n for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom)))}
    called = [d for n in nodes if isinstance(n, ast.Call) for d in [_dotted(n.func)] if d]
    return _Scan({_resolve(d, local) for d in called}, {d for d in called if "." not in d})


def _model_classes(mod: _Module) -> set[str]:
    """Top-level classes that subclass a Keras model, directly or through each other."""
    seeds, subclasses = set(), {}
    for stmt in mod.body:
        if isinstance(stmt, ast.ClassDef):
            for base in filter(None, map(_dotted, stmt.bases)):
                if _last(_resolve(base, mod.aliases)) in MODEL_CLASSES:
                    seeds.add(stmt.name)
                subclasses.setdefault(base, set()).add(stmt.name)
    return _reach(seeds, subclasses)


def _returns_model(fn: ast.FunctionDef, aliases: dict[str, str], model_classes: set[str]) -> bool:
    """Annotated ``-> keras.Model`` and the like, string annotations included."""
    returns = fn.returns
    if isinstance(returns, ast.Constant) and isinstance(returns.value, str):
        try:
            returns = ast.parse(returns.value.strip(), mode="eval").body
        except _LITERAL_ERRORS:
            return False
    dotted = _dotted(returns)
    return bool(dotted) and (_last(_resolve(dotted, aliases)) in MODEL_CLASSES or dotted in model_classes)


def _reach(seeds: set[str], edges: dict[str, set[str]],
           allowed: Callable[[str], bool] = lambda name: True) -> set[str]:
    """``seeds`` plus every allowed name reachable from them along ``edges``."""
    found, todo = set(seeds), list(seeds)
    while todo:
        for name in edges.get(todo.pop(), ()):
            if name not in found and allowed(name):
                found.add(name)
                todo.append(name)
    return found


def _candidates(mod: _Module, fns: dict[str, int], scans: dict[str, _Scan], explicit: set[str],
                classes: set[str]) -> set[str]:
    """Functions that build a model, are annotated or marked to, or call such a function.

    Functions that also train or download are left out unless marked explicitly: previewing
    them would run the training."""
    seeds = {name for name, i in fns.items() if name in explicit or not scans[name].trains() and (
        scans[name].builds(classes) or _returns_model(mod.body[i], mod.aliases, classes))}
    callers: dict[str, set[str]] = {}
    for name, scan in scans.items():
        for callee in scan.names & fns.keys():
            if callee != name:
                callers.setdefault(callee, set()).add(name)
    return _reach(seeds, callers, lambda name: not scans[name].trains())


# -- comments --------------------------------------------------------------------------------

def _directives(mod: _Module, fn: ast.FunctionDef, index: int) -> list[tuple[int, str]]:
    """``(line, text after "netviz:")`` of the directive comments that belong to ``fn``: on
    its header lines and first body line, or in the comment block right above it."""
    first = mod.body[index - 1].end_lineno + 1 if index else 1
    last = fn.body[0].lineno
    if not any("netviz" in line for line in mod.lines[first - 1:last]):
        return []  # the common case: no tokenizing at all
    found, comment_lines = _comments(mod.lines, first, last)
    top = min([d.lineno for d in fn.decorator_list] + [fn.lineno])
    above = top - 1
    while above in comment_lines:
        above -= 1
    return [(line, found[line]) for line in range(above + 1, last + 1) if line in found]


def _comments(lines: list[str], first: int, last: int) -> tuple[dict[int, str], set[int]]:
    """Directives and comment-only lines among ``lines[first..last]`` (1-based), which start
    between statements. ``tokenize`` keeps a ``#`` inside a string from counting."""
    found, comment_lines = {}, set()
    chunk = iter([line + "\n" for line in lines[first - 1:last]])
    try:
        for token in tokenize.generate_tokens(lambda: next(chunk, "")):
            if token.type == tokenize.COMMENT:
                line = first + token.start[0] - 1
                if not token.line[:token.start[1]].strip():
                    comment_lines.add(line)
                match = _DIRECTIVE.match(token.string)
                if match:
                    found[line] = match.group(1).strip()
    except (tokenize.TokenError, SyntaxError):
        pass  # the chunk ends inside the first body statement; its comments were read already
    return found, comment_lines


# -- arguments -------------------------------------------------------------------------------

@dataclass
class _Args:
    text: Optional[str] = None
    origin: Optional[str] = None
    names: list[str] = field(default_factory=list)
    """Top-level names the arguments read (their assignments join the slice)."""
    error: Optional[BuildError] = None


def _required(fn: ast.FunctionDef) -> list[str]:
    args = fn.args
    positional = args.posonlyargs + args.args
    required = positional[:len(positional) - len(args.defaults)]
    return [a.arg for a in required] + [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]


def _params(fn: ast.FunctionDef) -> list[str]:
    args = fn.args
    star = [f"*{args.vararg.arg}"] if args.vararg else []
    stars = [f"**{args.kwarg.arg}"] if args.kwarg else []
    return [a.arg for a in args.posonlyargs + args.args] + star + [a.arg for a in args.kwonlyargs] + stars


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except _LITERAL_ERRORS:
        return False


def _arguments(name: str, fn: ast.FunctionDef, settings: dict, directives: list[tuple[int, str]],
               calls: list[ast.Call], mod: _Module) -> _Args:
    """The arguments to call ``fn`` with: settings, comment, defaults, then a top-level call."""
    if settings.get(name) is not None:
        return _Args(_settings_text(settings[name]), "settings")
    for line, text in directives:
        match = _ARGS.match(text)
        if match:
            args, problem = _literal_args(match.group(1))
            if problem is None:
                return _Args(args, "comment")
            message = f"`# netviz: {text}` on {name}() is not a list of literal arguments: {problem}."
            return _Args(error=BuildError("arguments", message, line=line, factory=name))
    if not _required(fn):
        return _Args("", "defaults")
    for call in calls:
        found = _call_args(call, fn, mod)
        if found:
            return _Args(found[0], "call", found[1])
    return _Args()


def _settings_text(values) -> str:
    """JSON values as call arguments: a list is positional, an object keyword arguments."""
    if isinstance(values, dict):
        return ", ".join(f"{key}={value!r}" for key, value in values.items())
    return ", ".join(map(repr, values if isinstance(values, (list, tuple)) else [values]))


def _literal_args(text: str) -> tuple[Optional[str], Optional[str]]:
    """``(args, None)`` for ``(64, 12)``, ``(0.001,)``, ``0.001`` or ``(64, n=12)``, else
    ``(None, problem)``."""
    text = text.strip()
    if not text:
        return None, "nothing follows `args=`"
    problem = None
    # "(64, 12)" lists the arguments; "(1)+(2)" does not, so it is tried whole next.
    for inner in [text[1:-1], text] if text[0] + text[-1] == "()" else [text]:
        wrapped = f"_({inner})"
        try:
            call = ast.parse(wrapped, mode="eval").body
        except _LITERAL_ERRORS as error:
            problem = problem or f"invalid syntax ({getattr(error, 'msg', error)})"
            continue
        if isinstance(call, ast.Call) and _dotted(call.func) == "_":
            return _literal_call(call, wrapped)
    return None, problem


def _literal_call(call: ast.Call, wrapped: str) -> tuple[Optional[str], Optional[str]]:
    """The source of ``call``'s arguments if all are literals, else ``(None, problem)``."""
    for value in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(value, ast.Starred) or not _is_literal(value):
            return None, f"`{ast.get_source_segment(wrapped, value)}` is not a literal"
    if any(k.arg is None for k in call.keywords):
        return None, "`**` unpacking is not a literal"
    parts = [ast.get_source_segment(wrapped, a) for a in call.args]
    parts += [f"{k.arg}={ast.get_source_segment(wrapped, k.value)}" for k in call.keywords]
    return ", ".join(parts), None


def _call_args(call: ast.Call, fn: ast.FunctionDef, mod: _Module) -> Optional[tuple[str, list[str]]]:
    """The source of ``call``'s arguments and the names they read, if every argument is a
    literal or a top-level assigned name and together they supply every required parameter."""
    args = fn.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    by_keyword = {a.arg for a in args.args + args.kwonlyargs}
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    if len(call.args) > len(positional) and not args.vararg:
        return None
    if any(k.arg is None or (k.arg not in by_keyword and not args.kwarg) for k in call.keywords):
        return None
    if set(_required(fn)) - set(positional[:len(call.args)]) - {k.arg for k in call.keywords}:
        return None
    names = []
    for value in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(value, ast.Name) and value.id in mod.simple:
            names.append(value.id)
        elif not _is_literal(value):
            return None
    parts = [mod.segment(a) for a in call.args] + [f"{k.arg}={mod.segment(k.value)}" for k in call.keywords]
    return ", ".join(parts), names


def _needs_arguments(name: str, fn: ast.FunctionDef, missing: list[str]) -> BuildError:
    message = (f"{name}({', '.join(_params(fn))}) needs arguments for: {', '.join(missing)}. Give them "
               "defaults, call it once at the top level with literal arguments, add a "
               "`# netviz: args=(...)` comment, or set netviz.build.factoryArgs.")
    return BuildError("arguments", message, line=fn.lineno, factory=name)


# -- putting it together ---------------------------------------------------------------------

def _discover(mod: _Module, settings: dict) -> Discovery:
    # A name defined twice: the later def is the one a call finds.
    fns = {s.name: i for i, s in enumerate(mod.body) if isinstance(s, ast.FunctionDef)}
    scans = {name: _scan(mod.body[i], mod.aliases) for name, i in fns.items()}
    directives = {name: _directives(mod, mod.body[i], i) for name, i in fns.items()}
    explicit = {name for name, found in directives.items() if any(
        _PREVIEW.match(text) or _ARGS.match(text) for _, text in found)} | (settings.keys() & fns.keys())
    classes = _model_classes(mod)
    candidates = _candidates(mod, fns, scans, explicit, classes)
    helpers = {callee for name in candidates for callee in scans[name].names - {name}}
    calls: dict[str, list[ast.Call]] = {}
    for node in _module_level(mod.body):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in candidates:
            calls.setdefault(node.func.id, []).append(node)
    found = Discovery(imports=_import_names(mod.imports))
    for name in sorted(candidates, key=fns.__getitem__):
        fn = mod.body[fns[name]]
        calls_in_order = sorted(calls.get(name, ()), key=lambda c: (c.lineno, c.col_offset))
        args = _arguments(name, fn, settings, directives[name], calls_in_order, mod)
        missing = _required(fn) if args.text is None else []
        if args.text is None and args.error is None and name in helpers and name not in explicit:
            continue  # a building block called by another factory, previewed through it
        piece = mod.closure([*mod.always, fns[name]], args.names)
        found.factories.append(Factory(name, fn.lineno, fn.end_lineno, _params(fn), args.text, args.origin,
                                       missing, piece, _fingerprint(mod, piece, args.text),
                                       name in explicit or _returns_model(fn, mod.aliases, classes)))
        if args.text is None:
            found.errors.append(args.error or _needs_arguments(name, fn, missing))
    found.slice = sorted({i for f in found.factories if f.args is not None for i in f.slice})
    return found


def _fingerprint(mod: _Module, piece: list[int], args: Optional[str]) -> str:
    """A digest of the slice's exact text at its exact lines (lines matter: layers record them)."""
    digest = hashlib.sha256(repr(args).encode())
    for i in piece:
        stmt = mod.body[i]
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        digest.update(f"\0{first}\0".encode())
        digest.update("\n".join(mod.lines[first - 1:stmt.end_lineno]).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _import_names(imports: list[ast.AST]) -> list[str]:
    """Dotted names that may be modules: ``from pkg import sub`` gives ``pkg`` and ``pkg.sub``."""
    names: dict[str, None] = {}
    for node in imports:
        if isinstance(node, ast.Import):
            names.update((alias.name, None) for alias in node.names)
            continue
        base = "." * node.level + (node.module or "")
        if node.module:
            names[base] = None
        joiner = "." if node.module else ""
        names.update((f"{base}{joiner}{alias.name}", None) for alias in node.names if alias.name != "*")
    return list(names)
