"""Stage 2: facts about the parsed file's top-level statements, computed once.

For each statement: the names it binds and reads, whether it never runs and why (see
``effects``), and the text that stands in for it (``# netviz: value=EXPR``, or a known
``keras.datasets`` loader). For the file: import aliases, the ``# netviz:`` comments, which
statements bind each name, the top-level functions and the in-file model classes.
"""

from __future__ import annotations

import ast
import re
import tokenize
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.discovery import astutil as A
from netviz_lsp.discovery import first_call, wandb_config
from netviz_lsp.discovery.effects import (ConfigPaths, call_reason, classify, config_path, config_path_value,
                                          config_reads, folder, placement_only)
from netviz_lsp.discovery.parse import Parsed
from netviz_lsp.discovery.script import GUARD

#: Constructors whose call builds a model, under any prefix (``tf.keras.models.Model``).
MODEL_CLASSES = frozenset({"Sequential", "Model", "Functional"})
#: ``keras.datasets`` loaders whose arrays the worker stands in for, shapes and dtypes exact.
DATASETS = frozenset({"mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing"})
DATASET_FUNCTION = "__netviz_dataset__"
DIRECTIVE = re.compile(r"#\s*netviz\s*:\s*(.*)")
ARGS = re.compile(r"args\s*=(.*)")
PREVIEW = re.compile(r"preview\b")
VALUE = re.compile(r"value\s*=(.*)")


@dataclass
class Statement:
    """One top-level statement."""

    index: int
    node: ast.stmt
    first: int
    """Its first line, decorators included (1-based)."""
    last: int
    binds: frozenset[str]
    """Names it binds or mutates in place."""
    rebinds: frozenset[str]
    """Names it replaces outright (``X = ...``, a def, an import): earlier bindings no longer matter."""
    now: frozenset[str]
    """Global names it reads when it runs."""
    later: frozenset[str]
    """Global names the bodies of the functions and classes it defines read when they run."""
    effect: Optional[str] = None
    """Why it never runs (an ``effects.REASONS`` key); ``None`` when it may, stood in or not."""
    replacement: Optional[str] = None
    """Source that runs instead of it, on its first line."""
    bad_value: Optional[str] = None
    """Why its ``# netviz: value=`` comment could not be used."""
    scope: str = ""
    """``""`` at the module level, ``"__main__"`` in the main guard, the function whose body the
    script runs it from (``"main"``) for a statement lifted from one (``script.py``)."""
    dataset: bool = False
    """Its replacement stands in for a ``keras.datasets`` loader: arrays with the real shapes
    and dtypes, but not the real values."""
    shown: Optional[ast.stmt] = None
    """What runs for it: ``node``, or its ``replacement`` parsed."""
    mutates: frozenset[str] = frozenset()
    """Of ``binds``, the names whose object it changes in place (``x.append(v)``, ``x[k] = v``)
    or that a loop carries from pass to pass (``x = layer(x)``): a loop that never runs yet
    does so cannot be passed over for what the name held before."""


@dataclass
class Facts:
    parsed: Parsed
    statements: list[Statement]
    aliases: dict[str, str]
    """Local name -> dotted name it stands for: imports, and ``mnist = keras.datasets.mnist``."""
    directives: dict[int, str]
    """Line -> text after ``# netviz:``, for every such comment in the file."""
    comment_lines: set[int]
    """Lines holding nothing but a comment (only computed when the file mentions netviz)."""
    binders: dict[str, list[int]]
    """Name -> the statements that bind it, ascending."""
    functions: dict[str, int]
    """Top-level ``def`` name -> statement index (a later def of the same name wins)."""
    classes: dict[str, int]
    model_classes: set[str]
    """Top-level classes that subclass a Keras model, directly or through each other."""
    always: list[int] = field(default_factory=list)
    """``from __future__`` imports: every slice starts with them."""
    configuration: list[int] = field(default_factory=list)
    """Top-level calls that set Keras' global configuration (``keras.mixed_precision.set_global_policy``,
    ``keras.config.set_image_data_format``...): every slice takes those before its target."""
    star_imports: list[int] = field(default_factory=list)

    @property
    def body(self) -> list[ast.stmt]:
        return self.parsed.body

    def runs(self, i: int) -> bool:
        return self.statements[i].effect is None


def facts(parsed: Parsed) -> Facts:
    body = parsed.body
    running = [s for s in body if not A.is_main_guard(s)]
    import_nodes = sorted((n for n in A.module_level(running) if isinstance(n, (ast.Import, ast.ImportFrom))),
                          key=lambda n: n.lineno)
    aliases = A.aliases(import_nodes)
    aliases.update(_attribute_aliases(body, aliases))
    directives, comment_lines = _comments(parsed) if "netviz" in parsed.source else ({}, set())
    paths = config_paths(body, aliases)
    statements = [_statement(parsed, i, stmt, aliases, directives, paths) for i, stmt in enumerate(body)]
    for st, scope in zip(statements, parsed.scopes):
        st.scope = scope
        if scope not in ("", GUARD) and st.effect is None and any(
                isinstance(node, ast.Return) for node in A.module_level([st.node])):
            st.effect = "returns"  # lifted from a function the script runs: it may leave it there
    _wandb_configs(parsed, statements, aliases, paths)
    model_classes = _model_classes(body, aliases)
    _first_calls(parsed, statements, aliases, model_classes)
    binders: dict[str, list[int]] = {}
    for st in statements:
        for name in st.binds:
            binders.setdefault(name, []).append(st.index)
    # a function the script runs is its statements, not a factory; nor is a def inside one
    functions = {s.name: i for i, s in enumerate(body) if isinstance(s, ast.FunctionDef)
                 and parsed.scopes[i] in ("", GUARD) and s.name not in parsed.script.lifted}
    classes = {s.name: i for i, s in enumerate(body) if isinstance(s, ast.ClassDef)}
    loaders = _loaders(body, functions, aliases, model_classes)
    config_loaders = _config_loaders(body, functions, aliases, paths, loaders)
    for st in statements:
        if loaders and st.effect is None and st.replacement is None:
            st.effect = next((loaders[n.func.id] for n in A.module_level([st.node]) if isinstance(n, ast.Call)
                              and isinstance(n.func, ast.Name) and n.func.id in loaders
                              and not (n.func.id in config_loaders and _config_arguments(n, aliases, paths))), None)
    return Facts(
        parsed, statements, aliases, directives, comment_lines, binders,
        functions, classes, model_classes,
        always=[i for i, s in enumerate(body) if isinstance(s, ast.ImportFrom) and s.module == "__future__"],
        configuration=[st.index for st in statements if st.effect is None and configures_keras(st.node, aliases)],
        star_imports=[i for i, s in enumerate(body) if isinstance(s, ast.ImportFrom)
                      and any(a.name == "*" for a in s.names)])


#: Keras' global configuration: a top-level call of one changes the dtypes or shapes of every
#: model built after it, so it belongs to every slice (``tf.keras.`` spellings count too).
CONFIGURATION = frozenset({
    "keras.mixed_precision.set_global_policy", "keras.mixed_precision.set_dtype_policy",
    "keras.config.set_dtype_policy", "keras.config.set_floatx", "keras.backend.set_floatx",
    "keras.config.set_image_data_format", "keras.backend.set_image_data_format",
    "keras.config.set_epsilon", "keras.backend.set_epsilon",
})


def configures_keras(stmt: ast.stmt, aliases: dict[str, str]) -> bool:
    """Whether ``stmt`` is a bare call of one of ``CONFIGURATION``."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    name = A.dotted(stmt.value.func)
    if name is None:
        return False
    return A.keras_name(A.resolve(name, aliases)) in CONFIGURATION


#: What a data-loading function does, when a top-level call of it counts as doing it too: I/O
#: only (a function that builds a ``tf.data`` pipeline from values it is given may run).
LOADER_REASONS = ("downloads", "reads files")


def _loaders(body: list[ast.stmt], functions: dict[str, int], aliases: dict[str, str],
             model_classes: set[str]) -> dict[str, str]:
    """Top-level functions that load data (``def readucr(f): data = np.loadtxt(f)...``, or one
    that calls such a function) and build no model: name -> the ``effects`` reason. A top-level
    statement calling one never runs, like the download or file read it makes."""
    calls: dict[str, list[ast.Call]] = {
        name: [n for stmt in body[i].body for n in ast.walk(stmt) if isinstance(n, ast.Call)]
        for name, i in functions.items()}
    found: dict[str, str] = {}
    for name, made in calls.items():
        if _builds_model(made, aliases, model_classes):
            continue
        reasons = {reason for call in made for reason, _ in [call_reason(call, aliases) or ("", "")]}
        reason = next((r for r in LOADER_REASONS if r in reasons), None)
        if reason is not None:
            found[name] = reason
    changed = True
    while changed:  # a function that calls a loader loads data too
        changed = False
        for name, made in calls.items():
            if name in found or _builds_model(made, aliases, model_classes):
                continue
            reason = next((found[c.func.id] for c in made if isinstance(c.func, ast.Name) and c.func.id in found), None)
            if reason is not None:
                found[name] = reason
                changed = True
    return found


def _config_loaders(body: list[ast.stmt], functions: dict[str, int], aliases: dict[str, str],
                    paths: ConfigPaths, loaders: dict[str, str]) -> set[str]:
    """The ``_loaders`` whose every file read is a config read of a parameter (``def
    load_config(path): with open(path) as f: return yaml.safe_load(f)``) and that call no other
    loader: a top-level call of one with config paths for arguments (``_config_arguments``) runs."""
    found = set()
    for name, reason in loaders.items():
        fn = body[functions[name]]
        if reason != "reads files" or not isinstance(fn, ast.FunctionDef):
            continue
        inner = ConfigPaths(paths.files | {a.arg for a in A.all_args(fn.args)}, paths.folders, paths.values)
        calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
        if any(isinstance(c.func, ast.Name) and c.func.id in loaders for c in calls):
            continue
        if all(classify(stmt, aliases, inner) is None for stmt in fn.body):
            found.add(name)
    return found


def _config_arguments(call: ast.Call, aliases: dict[str, str], paths: ConfigPaths) -> bool:
    """Every argument of ``call`` (one at least) is a config path."""
    given = [*call.args, *(k.value for k in call.keywords)]
    return bool(given) and all(config_path(a, aliases, paths) for a in given)


def _builds_model(calls: list[ast.Call], aliases: dict[str, str], model_classes: set[str]) -> bool:
    """Whether any of ``calls`` makes a model or a layer (such a function is model code, not a loader)."""
    for call in calls:
        name = A.dotted(call.func)
        if not name:
            continue
        full = A.resolve(name, aliases)
        parts = full.split(".")
        if parts[-1] in MODEL_CLASSES or name in model_classes or (
                parts[-1][:1].isupper() and ("layers" in parts or "applications" in parts)):
            return True
    return False


def _statement(parsed: Parsed, i: int, stmt: ast.stmt, aliases: dict[str, str],
               directives: dict[int, str], paths: Optional[ConfigPaths] = None) -> Statement:
    first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
    replacement, bad = _stand_in(parsed, stmt, aliases, directives)
    if replacement is None and bad is None and isinstance(stmt, A.TRY):
        replacement = _try_fallback(parsed, stmt, aliases, paths)
    shown = stmt
    if replacement is not None:
        shown = ast.parse(replacement).body[0]
    st = Statement(i, stmt, first, stmt.end_lineno, frozenset(), frozenset(), frozenset(), frozenset(),
                   effect=None if replacement is not None else classify(stmt, aliases, paths),
                   replacement=replacement, bad_value=bad,
                   dataset=replacement is not None and f"= {DATASET_FUNCTION}(" in replacement
                   and not any(VALUE.match(directives.get(n, "")) for n in range(stmt.lineno, stmt.end_lineno + 1)))
    _read_as(st, shown, parsed)
    return st


def _read_as(st: Statement, shown: ast.stmt, parsed: Parsed) -> None:
    """``st``'s names as ``shown`` (the statement, or what stands in for it) binds, changes and reads them."""
    st.shown = shown
    now, later = A.reads(shown, parsed.tables)
    mutates = A.mutated_names(shown) | A.accumulated_names(shown)
    st.binds = frozenset(A.bound_names(shown, mutates) | set(filter(None, [_configures(shown)])))
    st.rebinds, st.mutates = frozenset(A.rebinds(shown)), frozenset(mutates)
    st.now, st.later = frozenset(now), frozenset(later)


def _first_calls(parsed: Parsed, statements: list[Statement], aliases: dict[str, str],
                 model_classes: set[str]) -> None:
    """A custom training loop that never runs stands in as the first call of the subclassed model
    it trains (``first_call``): the model called on a ``keras.Input`` of one batch of the array its
    dataset slices."""
    for index, replacement in first_call.stand_ins(parsed.body, aliases, model_classes).items():
        st = statements[index]
        if st.replacement is not None or st.effect is None:
            continue
        st.replacement, st.effect = replacement, None
        _read_as(st, ast.parse(replacement).body[0], parsed)


def _wandb_configs(parsed: Parsed, statements: list[Statement], aliases: dict[str, str],
                   paths: Optional[ConfigPaths]) -> None:
    """Stand in for a Weights & Biases run's config (``wandb_config``): the ``wandb.init`` call
    binds the literal config dict it was given, statements reading ``wandb.config`` read that;
    without one they never run. A ``# netviz: value=`` stand-in of the script's own wins, and a
    statement that would still never run once rewritten keeps its own effect."""
    found = wandb_config.stand_ins(parsed.body, aliases, parsed.lines)
    for index, replacement in found.items():
        st = statements[index]
        if st.replacement is not None or st.bad_value is not None or st.effect == "returns":
            continue
        if replacement is None:
            if st.effect is None:
                st.effect = wandb_config.REASON
            continue
        try:
            shown = ast.parse(replacement).body[0]
        except (SyntaxError, ValueError, IndexError, RecursionError, MemoryError):
            continue
        if classify(shown, aliases, paths) is not None:
            continue
        before = st.later
        st.replacement, st.effect = replacement, None
        _read_as(st, shown, parsed)
        if any(isinstance(node, A.DEFS) for node in ast.walk(shown)):
            # the symbol tables know the file's own defs, by line: keep what their bodies read
            loaded = {node.id for node in ast.walk(shown) if isinstance(node, ast.Name)}
            st.later = frozenset({name for name in before if name in loaded} | (loaded & {wandb_config.CONFIG_NAME}))


#: Methods whose top-level call fills in the object it is called on: an ``argparse`` parser's
#: options, a ``configparser`` parser's sections. Such a statement binds the object's name, so
#: a slice that reads the object takes it (``args.config`` needs every ``add_argument``).
CONFIGURING_METHODS = frozenset({"add_argument", "set_defaults", "read", "read_file", "read_string", "read_dict"})


def _configures(stmt: ast.stmt) -> Optional[str]:
    """The name ``NAME.add_argument(...)`` or ``NAME.read("train.ini")`` (a whole top-level
    statement) fills in; ``None`` for any other statement."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr in CONFIGURING_METHODS and isinstance(call.func.value, ast.Name)):
        return call.func.value.id
    return None


# -- stand-ins -------------------------------------------------------------------------------

def _stand_in(parsed: Parsed, stmt: ast.stmt, aliases: dict[str, str],
              directives: dict[int, str]) -> tuple[Optional[str], Optional[str]]:
    """``(replacement, problem)``: a ``# netviz: value=`` comment on the statement's lines, else
    a known ``keras.datasets`` loader; only for assignments, and for top-level loops (``loop_target``)."""
    if isinstance(stmt, (ast.For, ast.While)):
        for line in range(stmt.lineno, stmt.end_lineno + 1):
            match = VALUE.match(directives.get(line, ""))
            target = loop_target(stmt, line) if match else None
            if target is not None:
                text = f"{parsed.segment(target)} = {match.group(1).strip()}"
                problem = _one_assignment(text)
                if problem is None:
                    return text, None
                return None, f"`# netviz: {directives[line]}` on line {line} is not a Python expression ({problem})"
        return None, None
    if isinstance(stmt, ast.With) and not placement_only(stmt):
        return _with_stand_in(parsed, stmt, directives)
    if isinstance(stmt, ast.Assign):
        targets = " = ".join(parsed.segment(t) for t in stmt.targets)
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        targets = parsed.segment(stmt.target)
    else:
        return None, None
    for line in range(stmt.lineno, stmt.end_lineno + 1):
        match = VALUE.match(directives.get(line, ""))
        if match:
            text = f"{targets} = {match.group(1).strip()}"
            problem = _one_assignment(text)
            if problem is None:
                return text, None
            return None, f"`# netviz: {directives[line]}` on line {line} is not a Python expression ({problem})"
    call = stmt.value
    if isinstance(call, ast.Call):
        name = A.dotted(call.func)
        parts = A.resolve(name, aliases).split(".") if name else []
        if len(parts) >= 3 and parts[-1] == "load_data" and parts[-2] in DATASETS and parts[-3] == "datasets":
            given = [parsed.segment(a) for a in call.args]
            given += [f"{k.arg}={parsed.segment(k.value)}" if k.arg else f"**{parsed.segment(k.value)}"
                      for k in call.keywords]
            text = f"{targets} = {DATASET_FUNCTION}({', '.join([repr(parts[-2]), *given])})"
            if "\n" not in text and _one_assignment(text) is None:
                return text, None
    return None, None


def _try_fallback(parsed: Parsed, stmt: ast.stmt, aliases: dict[str, str],
                  paths: Optional[ConfigPaths]) -> Optional[str]:
    """A top-level ``try`` whose body cannot run here (it downloads, mounts a drive, reads a
    file) runs as its first ``except`` handler that can, then its ``finally``: the fallback the
    file itself gives for when the try part fails (``except ValueError: strategy =
    tf.distribute.get_strategy()``, ``except Exception: NUM_CLASSES = 10``); a handler that
    reads its ``as e`` is none. ``None`` when the try part may run, or no handler can. The text is ``if True:`` over the handler's own lines,
    blank lines keeping them where they are once moved to the ``try``'s first line."""
    if classify(stmt, aliases, paths) is None:
        return None
    handler = next((h for h in stmt.handlers if h.body and not _reads_name(h.body, h.name)
                    and all(classify(s, aliases, paths) is None for s in h.body)), None)
    if handler is None or not all(classify(s, aliases, paths) is None for s in stmt.finalbody):
        return None
    first = handler.body[0].lineno
    parts = [(first, handler.body[-1].end_lineno)]
    if stmt.finalbody:
        parts.append((stmt.finalbody[0].lineno, stmt.finalbody[-1].end_lineno))
    lines = ["if True:"] + [""] * (first - stmt.lineno - 1)
    for start, end in parts:
        lines += [""] * (start - stmt.lineno - len(lines))
        lines += [parsed.lines[n - 1] for n in range(start, end + 1)]
    text = "\n".join(lines) + "\n"
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # a body whose lines do not stand alone (a string less indented than its block)
    if len(tree.body) != 1 or tree.body[0].body[0].lineno != first - stmt.lineno + 1:
        return None
    return text


def _reads_name(body: list[ast.stmt], name: Optional[str]) -> bool:
    """``except ... as name:`` whose body reads ``name`` (the exception, which never exists here)."""
    return name is not None and any(isinstance(n, ast.Name) and n.id == name
                                    for s in body for n in ast.walk(s))


def _with_stand_in(parsed: Parsed, stmt: ast.With,
                   directives: dict[int, str]) -> tuple[Optional[str], Optional[str]]:
    """A ``with`` block (``with open("config.json") as f:`` then ``config = json.load(f)``, or
    ``with h5py.File(path) as f:`` then ``x = f["x"][:]`` and ``y = f["y"][:]``) runs as the
    assignments in its body that carry a ``# netviz: value=`` comment, with those values: the
    stand-in for a file that is missing. Only a name the body binds in one plain assignment
    (``with_assignment``) takes a comment; several run as one assignment of a tuple."""
    targets, values = [], []
    for child in stmt.body:
        if not isinstance(child, ast.Assign) or len(child.targets) != 1:
            continue
        if any(with_assignment(stmt, name) is not child for name in A.bound_names(child)):
            continue
        for line in range(child.lineno, child.end_lineno + 1):
            match = VALUE.match(directives.get(line, ""))
            if match:
                value = match.group(1).strip()
                problem = _one_assignment(f"_ = {value}")
                if problem is not None:
                    return None, f"`# netviz: {directives[line]}` on line {line} is not a Python expression ({problem})"
                targets.append(parsed.segment(child.targets[0]))
                values.append(value)
                break
    if not targets:
        return None, None
    if len(targets) == 1:
        return f"{targets[0]} = {values[0]}", None
    return f"{', '.join(f'({t})' for t in targets)} = {', '.join(f'({v})' for v in values)}", None


def with_assignment(stmt: ast.stmt, name: str) -> Optional[ast.Assign]:
    """The one plain single-target assignment directly in a top-level ``with`` block's body that
    binds ``name``, when no other statement of the body binds it; else None."""
    if not isinstance(stmt, (ast.With, ast.AsyncWith)):
        return None
    binding = [child for child in stmt.body if name in A.bound_names(child)]
    if len(binding) != 1 or not isinstance(binding[0], ast.Assign) or len(binding[0].targets) != 1:
        return None
    return binding[0]


def loop_target(loop: ast.For | ast.While, line: int) -> Optional[ast.expr]:
    """What a ``# netviz: value=`` comment on ``line`` of a top-level loop stands in for: the
    targets of the single-target assignment directly in the loop's body that holds the line
    (``inputs, targets = batch`` in ``for batch in ds.take(1):``, how tutorials peek at one
    batch). The loop then runs as that one assignment. A loop's own target takes no comment."""
    for child in loop.body:
        if isinstance(child, ast.Assign) and len(child.targets) == 1 and child.lineno <= line <= child.end_lineno:
            return child.targets[0]
    return None


def loop_binding(loop: ast.stmt, name: str) -> Optional[int]:
    """The line where a ``# netviz: value=`` comment would stand in for ``name`` bound by a
    top-level loop (``loop_target``): the last assignment in its body that binds it."""
    if not isinstance(loop, (ast.For, ast.While)):
        return None
    found = None
    for child in loop.body:
        if isinstance(child, ast.Assign) and len(child.targets) == 1 and name in A.bound_names(child):
            found = child.end_lineno
    return found


def _one_assignment(text: str) -> Optional[str]:
    try:
        tree = ast.parse(text)
    except A.LITERAL_ERRORS as error:
        return getattr(error, "msg", None) or str(error) or "invalid syntax"
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return "not one expression"
    return None


def _attribute_aliases(body: list[ast.stmt], aliases: dict[str, str]) -> dict[str, str]:
    """``mnist = tf.keras.datasets.mnist`` makes ``mnist`` stand for ``tensorflow.keras.datasets.mnist``."""
    found = {}
    for stmt in body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Attribute)):
            name = A.dotted(stmt.value)
            if name and name.partition(".")[0] in aliases:
                found[stmt.targets[0].id] = A.resolve(name, aliases)
    return found


# -- config paths ----------------------------------------------------------------------------

def config_paths(body: list[ast.stmt], aliases: dict[str, str]) -> ConfigPaths:
    """The module-level names that hold a config path or a folder (``effects.config_path``), and
    the ``argparse`` defaults that are config paths (``args.config``, read the way the worker runs
    the script: with no arguments). A name counts only when every top-level binding of it is a
    plain ``NAME = value`` of that kind."""
    plain: dict[str, list[ast.expr]] = {}
    other: set[str] = set()
    for stmt in body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                plain.setdefault(targets[0].id, []).append(stmt.value)
                continue
        other |= A.bound_names(stmt)
    names = {n: values for n, values in plain.items() if n not in other}
    files: set[str] = set()
    folders: set[str] = set()
    changed = True
    while changed:
        changed = False
        current = ConfigPaths(frozenset(files), frozenset(folders))
        for name, values in names.items():
            if name not in files and all(config_path(v, aliases, current) for v in values):
                files.add(name)
                changed = True
            elif name not in folders and all(folder(v, aliases, current) for v in values):
                folders.add(name)
                changed = True
    values = {n: v[0] for n, v in names.items() if len(v) == 1}
    defaults = _argparse_defaults(body, aliases, names, ConfigPaths(frozenset(files), frozenset(folders)))
    return ConfigPaths(frozenset(files | set(defaults)), frozenset(folders), {**values, **defaults})


def config_files(parsed: Parsed) -> list[str]:
    """The config files the file's top-level statements read (``effects.config_reads``), as paths
    relative to the file's folder or absolute, for the names whose value is known by ``ast``
    (the build cache and the server's watcher follow them). Nothing is read or run."""
    body = parsed.body
    running = [s for s in body if not A.is_main_guard(s)]
    imports = sorted((n for n in A.module_level(running) if isinstance(n, (ast.Import, ast.ImportFrom))),
                     key=lambda n: n.lineno)
    aliases = A.aliases(imports)
    paths = config_paths(body, aliases)
    functions = {s.name: i for i, s in enumerate(body) if isinstance(s, ast.FunctionDef)}
    loaders = _loaders(body, functions, aliases, _model_classes(body, aliases))
    config_loaders = _config_loaders(body, functions, aliases, paths, loaders)
    found: list = []
    for stmt in running:
        config_reads(stmt, aliases, paths, found)
        for node in A.module_level([stmt]):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in config_loaders
                    and _config_arguments(node, aliases, paths)):
                found.extend([*node.args, *(k.value for k in node.keywords)])
    values = (config_path_value(node, aliases, paths, parsed.path) for node in found)
    return list(dict.fromkeys(v for v in values if v))


def _argparse_defaults(body: list[ast.stmt], aliases: dict[str, str], names: dict[str, list[ast.expr]],
                       paths: ConfigPaths) -> dict[str, ast.expr]:
    """``args.config`` for ``parser.add_argument("--config", default="configs/base.yaml")`` and
    ``args = parser.parse_args()``, at the top level or in a top-level function that returns
    ``parser.parse_args()`` (``args = get_args()``): the options whose default is a config path,
    each with its default."""
    found: dict[str, ast.expr] = {}
    functions = {s.name: s for s in body if isinstance(s, ast.FunctionDef)}
    for name, values in names.items():
        if len(values) != 1 or not isinstance(values[0], ast.Call) or values[0].args or values[0].keywords:
            continue
        call = values[0]
        if (isinstance(call.func, ast.Attribute) and call.func.attr == "parse_args"
                and isinstance(call.func.value, ast.Name)):
            scope, parser = body, call.func.value.id
        elif isinstance(call.func, ast.Name) and call.func.id in functions:
            fn = functions[call.func.id]
            returned = [s.value for s in fn.body if isinstance(s, ast.Return)]
            if (len(returned) != 1 or not isinstance(returned[0], ast.Call) or returned[0].args
                    or returned[0].keywords or not isinstance(returned[0].func, ast.Attribute)
                    or returned[0].func.attr != "parse_args" or not isinstance(returned[0].func.value, ast.Name)):
                continue
            scope, parser = fn.body, returned[0].func.value.id
        else:
            continue
        for dest, default in _config_options(scope, parser, aliases, paths).items():
            found[f"{name}.{dest}"] = default
    return found


def _config_options(scope: list[ast.stmt], parser: str, aliases: dict[str, str],
                    paths: ConfigPaths) -> dict[str, ast.expr]:
    """The destinations of ``parser.add_argument(...)`` calls directly in ``scope`` whose default is
    a config path, when ``parser`` is made there once by ``argparse.ArgumentParser(...)``."""
    made = [s for s in scope if isinstance(s, ast.Assign) and parser in A.bound_names(s)]
    if len(made) != 1 or not isinstance(made[0].value, ast.Call) or \
            A.resolve(A.dotted(made[0].value.func) or "", aliases) != "argparse.ArgumentParser":
        return {}
    dests: dict[str, ast.expr] = {}
    for stmt in scope:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr == "add_argument" and isinstance(call.func.value, ast.Name)
                and call.func.value.id == parser):
            continue
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        default = keywords.get("default")
        if default is None or not config_path(default, aliases, paths) or "action" in keywords or "nargs" in keywords:
            continue
        flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        dest = keywords.get("dest")
        if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
            dests[dest.value] = default
        elif flags:
            long = [f for f in flags if f.startswith("--")]
            chosen = (long or flags)[0].lstrip("-").replace("-", "_")
            if chosen.isidentifier():
                dests[chosen] = default
    return dests


# -- comments --------------------------------------------------------------------------------

def _comments(parsed: Parsed) -> tuple[dict[int, str], set[int]]:
    """``# netviz:`` directives by line, and the comment-only lines. ``tokenize`` keeps a ``#``
    inside a string from counting."""
    found, comment_lines = {}, set()
    chunk = iter([line + "\n" for line in parsed.lines])
    try:
        for token in tokenize.generate_tokens(lambda: next(chunk, "")):
            if token.type == tokenize.COMMENT:
                line = token.start[0]
                if not token.line[:token.start[1]].strip():
                    comment_lines.add(line)
                match = DIRECTIVE.match(token.string)
                if match:
                    found[line] = match.group(1).strip()
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass  # what was read so far stands
    return found, comment_lines


def function_directives(facts_: Facts, index: int) -> list[tuple[int, str]]:
    """``(line, text)`` of the directives that belong to the def at ``index``: on its header
    lines and first body line, or in the comment block right above it."""
    if not facts_.directives:
        return []
    fn = facts_.body[index]
    first = facts_.body[index - 1].end_lineno + 1 if index else 1
    end = fn.body[0].lineno
    above = facts_.statements[index].first - 1
    while above in facts_.comment_lines and above >= first:
        above -= 1
    return [(line, facts_.directives[line]) for line in range(max(above + 1, first), end + 1)
            if line in facts_.directives]


# -- the file --------------------------------------------------------------------------------

def _model_classes(body: list[ast.stmt], aliases: dict[str, str]) -> set[str]:
    seeds, subclasses = set(), {}
    for stmt in body:
        if isinstance(stmt, ast.ClassDef):
            for base in filter(None, map(A.dotted, stmt.bases)):
                if A.last(A.resolve(base, aliases)) in MODEL_CLASSES:
                    seeds.add(stmt.name)
                subclasses.setdefault(base, set()).add(stmt.name)
    found, todo = set(seeds), list(seeds)
    while todo:
        for name in subclasses.get(todo.pop(), ()):
            if name not in found:
                found.add(name)
                todo.append(name)
    return found
