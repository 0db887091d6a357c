"""Stage 3: the preview targets, every model the file builds.

- **Factories**: top-level functions whose body builds a model (``Sequential``, ``Model``,
  ``keras.applications``, an in-file ``keras.Model`` subclass, another factory), annotated to
  return one, or marked with a ``# netviz:`` comment or ``factoryArgs``. A function that
  trains or downloads is one only when marked. A factory the file assigns once at the top
  level (``model = factory(0.001)``) stays a factory target with that call's arguments; one
  assigned several times (``gen_g = g(name="G")``, ``gen_f = g(name="F")``), or whose model
  later top-level code changes, is previewed through those variables instead (unless
  marked); one with required parameters called only from functions or classes is a helper.
- **Variables**: top-level ``x = <model>`` assignments: a model constructor, a
  ``keras.applications`` model, a Keras function returning one (``model_from_json``), a
  call of a factory, an instance of an in-file model class.
  Their construction runs from the assignment to the last top-level ``x.add(...)``,
  ``x.build(...)``, ``x.compile(...)``, ``x(...)`` or in-place change of ``x`` before ``x`` is
  bound again.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.discovery import astutil as A
from netviz_lsp.discovery.calls import call_args
from netviz_lsp.discovery.effects import excluded_from_factories
from netviz_lsp.discovery.script import GUARD
from netviz_lsp.discovery.facts import ARGS, MODEL_CLASSES, PREVIEW, Facts, function_directives
from netviz_lsp.discovery.builders import Builder, builder_methods, safe_classes
from netviz_lsp.discovery.hypermodels import Hyper, Tuning, constructor, tuning

#: Methods whose top-level call on a model variable is part of building it.
TOUCH_METHODS = frozenset({"add", "build", "compile", "pop"})
#: ...and those that change its architecture (a loop making them leaves the model unknown).
CHANGE_METHODS = A.MODEL_CHANGE_METHODS
#: Keras functions that return a new model from an architecture in memory (not from a file:
#: ``load_model`` reads one and never runs): ``keras.models.model_from_json(json_string)``.
MODEL_FUNCTIONS = frozenset({"model_from_json", "model_from_config", "clone_model"})


@dataclass
class Spec:
    """One preview target as found, before its arguments and slice are known."""

    kind: str
    """``"factory"`` or ``"variable"``."""
    name: str
    line: int
    end_line: int
    index: int
    """The ``def`` statement, or the assignment."""
    fn: Optional[ast.FunctionDef] = None
    """The factory's ``def`` (for a variable: the factory its value calls, if any)."""
    explicit: bool = False
    declared: bool = False
    directives: list[tuple[int, str]] = field(default_factory=list)
    calls: list[ast.Call] = field(default_factory=list)
    """Factories: the file's own calls of it at the top level, in source order."""
    helper: bool = False
    """Factories: called from other functions or classes; dropped when its arguments are unknown."""
    after: Optional[int] = None
    touches: list[int] = field(default_factory=list)
    """Variables: statements after the assignment that belong to its construction."""
    changed_by: Optional[int] = None
    """Variables: a statement that never runs yet changes the model (a loop adding layers)."""
    variable: str = ""
    """Variables: the name assigned (``name`` may be ``model@LINE``)."""
    hyper: Optional[Hyper] = None
    """KerasTuner hypermodels: where a fresh ``HyperParameters()`` goes (``hypermodels.py``);
    for a ``HyperModel`` subclass, ``fn`` is its constructor and the target is named after it."""
    builder: Optional[Builder] = None
    """A plain class's builder method (``builders.py``): ``fn`` is the class's constructor,
    ``calls`` the file's instantiations, ``makes`` the classes its arguments may instantiate."""
    makes: frozenset = frozenset()


@dataclass
class Targets:
    specs: list[Spec]
    """In source order of their lines."""


@dataclass
class _Scan:
    called: set[str]
    """Dotted names of everything called, imports resolved (``keras.applications.ResNet50``)."""
    names: set[str]
    """Bare names called: in-file functions and classes."""
    calls: list[ast.Call]


def targets(facts: Facts, settings: dict) -> Targets:
    fns = facts.functions
    scans = {name: _scan(facts.body[i], facts.aliases) for name, i in fns.items()}
    directives = {name: function_directives(facts, i) for name, i in fns.items()}
    explicit = {name for name, found in directives.items() if any(
        PREVIEW.match(text) or ARGS.match(text) for _, text in found)} | (settings.keys() & fns.keys())
    classes = facts.model_classes
    candidates = _candidates(facts, scans, explicit)
    inner_calls = set()
    for owner, scan in [*scans.items(), *((name, _scan(facts.body[i], facts.aliases))
                                          for name, i in facts.classes.items())]:
        inner_calls |= scan.names - {owner}
    declared = {name for name in candidates
                if name in explicit or _returns_model(facts.body[fns[name]], facts.aliases, classes)}

    variables = _variables(facts, candidates, declared)
    tuned = tuning(facts)
    variables = _keep_single_calls_as_factories(facts, variables, tuned)
    assigned = {spec.fn.name for spec in variables if spec.fn is not None}
    calls: dict[str, list[ast.Call]] = {}
    for node in A.module_level(facts.body):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in candidates:
            calls.setdefault(node.func.id, []).append(node)
    specs = list(variables)
    for name in candidates:
        if name in assigned and name not in explicit:
            continue  # previewed as the variables it is assigned to
        fn = facts.body[fns[name]]
        hyper = tuned.functions.get(name)
        own = sorted([*calls.get(name, ()), *(hyper.calls if hyper else ())], key=lambda c: (c.lineno, c.col_offset))
        specs.append(Spec("factory", name, fn.lineno, fn.end_lineno, fns[name], fn, name in explicit,
                          name in declared, directives[name], own,
                          helper=name in inner_calls and bool(A.required(fn)), hyper=hyper))
    specs += _hypermodel_classes(facts, tuned)
    specs += _builder_methods(facts, candidates, set(tuned.classes))
    returns = facts.parsed.script.returns  # a data factory lifted like a main(): its model keeps its name
    for fn, name in returns.items():
        made = [s for s in specs if s.kind == "variable" and s.variable == name
                and facts.statements[s.index].scope == fn]
        if made:
            made[-1].name = fn
    taken = {s.name for s in specs if s.kind == "factory"}
    for spec in specs:
        if spec.kind == "variable" and spec.name in taken:
            spec.name = f"{spec.name}@{spec.line}"  # a variable named like a previewed function
    specs.sort(key=lambda s: (s.line, s.index))
    return Targets(specs)


# -- factories -------------------------------------------------------------------------------

def _scan(node: ast.stmt, aliases: dict[str, str]) -> _Scan:
    """The calls anywhere in a def's or class's body, nested functions and lambdas included."""
    nodes = [n for stmt in node.body for n in ast.walk(stmt)]
    local = {**aliases, **A.aliases(n for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom)))}
    calls = [n for n in nodes if isinstance(n, ast.Call)]
    called = [d for n in calls for d in [A.dotted(n.func)] if d]
    return _Scan({A.resolve(d, local) for d in called}, {d for d in called if "." not in d}, calls)


def _builds(scan: _Scan, model_classes: set[str]) -> bool:
    return any(A.last(d) in MODEL_CLASSES or is_application(d) or is_model_function(d)
               for d in scan.called) or bool(scan.names & model_classes)


def is_model_function(name: str) -> bool:
    """``keras.models.model_from_json``, ``tf.keras.models.clone_model``...: a Keras function
    that returns a model (a bare ``model_from_json`` only when imported from Keras)."""
    parts = name.split(".")
    return parts[-1] in MODEL_FUNCTIONS and ("keras" in parts or "tensorflow" in parts)


def is_application(name: str) -> bool:
    """``keras.applications...X`` with a class-like ``X``: ``preprocess_input`` builds nothing."""
    parts = name.split(".")
    return parts[-1][:1].isupper() and any(
        parts[i:i + 2] == ["keras", "applications"] for i in range(len(parts) - 2))


def _returns_model(fn: ast.FunctionDef, aliases: dict[str, str], model_classes: set[str]) -> bool:
    """Annotated ``-> keras.Model`` and the like, string annotations included."""
    returns = fn.returns
    if isinstance(returns, ast.Constant) and isinstance(returns.value, str):
        try:
            returns = ast.parse(returns.value.strip(), mode="eval").body
        except A.LITERAL_ERRORS:
            return False
    name = A.dotted(returns)
    return bool(name) and (A.last(A.resolve(name, aliases)) in MODEL_CLASSES or name in model_classes)


def _candidates(facts: Facts, scans: dict[str, _Scan], explicit: set[str]) -> list[str]:
    """Functions that build a model, are annotated or marked to, or call such a function, in
    source order. Functions that also train or download are left out unless marked."""
    excluded = {name for name, scan in scans.items() if excluded_from_factories(scan.calls, facts.aliases)}
    seeds = {name for name, i in facts.functions.items() if name in explicit or name not in excluded and (
        _builds(scans[name], facts.model_classes)
        or _returns_model(facts.body[i], facts.aliases, facts.model_classes))}
    callers: dict[str, set[str]] = {}
    for name, scan in scans.items():
        for callee in scan.names & facts.functions.keys():
            if callee != name:
                callers.setdefault(callee, set()).add(name)
    found, todo = set(seeds), list(seeds)
    while todo:
        for name in callers.get(todo.pop(), ()):
            if name not in found and name not in excluded:
                found.add(name)
                todo.append(name)
    return sorted(found, key=facts.functions.__getitem__)


def _hypermodel_classes(facts: Facts, tuned: Tuning) -> list[Spec]:
    """``class MyHyperModel(kt.HyperModel)`` with a ``build(self, hp)``: a target named after the
    class, its constructor's arguments taken from the file's own calls of it (anywhere at the
    top level, ``kt.RandomSearch(MyHyperModel(num_classes=10), ...)`` included)."""
    specs = []
    for name, hyper in tuned.classes.items():
        i = facts.classes[name]
        node = facts.body[i]
        calls = [n for n in A.module_level(facts.body) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id == name]
        calls.sort(key=lambda c: (c.lineno, c.col_offset))
        specs.append(Spec("factory", name, node.lineno, node.end_lineno, i, constructor(facts, name),
                          declared=True, directives=function_directives(facts, i), calls=calls, hyper=hyper))
    return specs


def _builder_methods(facts: Facts, candidates: list[str], skip: set[str]) -> list[Spec]:
    """``CNNTrainer.build_model``: a method that builds a model, of a class the file makes with
    arguments NetViz can evaluate and whose construction has no effect (``builders.py``)."""
    factories = set(candidates)

    def builds(fn: ast.FunctionDef) -> bool:
        scan = _scan(fn, facts.aliases)
        return (_builds(scan, facts.model_classes) or bool(scan.names & factories)
                or _returns_model(fn, facts.aliases, facts.model_classes))

    def excluded(fn: ast.FunctionDef) -> bool:
        return excluded_from_factories(_scan(fn, facts.aliases).calls, facts.aliases)

    found = builder_methods(facts, builds, excluded, skip)
    if not found:
        return []
    safe = frozenset(safe_classes(facts))
    made = [n for n in A.module_level(facts.body) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    specs = []
    for builder in found:
        if builder.cls not in safe:
            continue  # making it would run what NetViz never runs
        ctor = constructor(facts, builder.cls, keywords=False)
        calls = sorted((c for c in made if c.func.id == builder.cls), key=lambda c: (c.lineno, c.col_offset))
        if not any(call_args(c, ctor, facts, makes=safe) for c in calls):
            continue  # no instance NetViz can make
        fn = builder.method
        specs.append(Spec("factory", f"{builder.cls}.{fn.name}", fn.lineno, fn.end_lineno, facts.classes[builder.cls],
                          ctor, calls=calls, builder=builder, makes=safe))
    return specs


# -- variables -------------------------------------------------------------------------------

def _keep_single_calls_as_factories(facts: Facts, variables: list[Spec], tuned: Tuning) -> list[Spec]:
    """A factory assigned once at the top level (``model = cconstruct_model(0.001)``) stays a
    factory target, named by the function and called with that call's arguments, unless the
    arguments are not constant expressions (``len(class_names)``) or later top-level code
    changes the model (``model.add(...)``): the diagram then has the name the user wrote the
    model under. A factory assigned twice or more is previewed per variable. A KerasTuner
    hypermodel is always previewed as the factory, with default hyperparameters: what its
    assignments pass (``build_model(best_hps[0])``) comes from tuning, which never runs."""
    variables = [spec for spec in variables if spec.fn is None or spec.fn.name not in tuned.functions]
    per_factory: dict[str, list[Spec]] = {}
    for spec in variables:
        if spec.fn is not None:
            per_factory.setdefault(spec.fn.name, []).append(spec)
    single = set()
    for specs in per_factory.values():
        (spec,) = specs if len(specs) == 1 else (None,)
        if spec is None or spec.changed_by is not None:
            continue
        stmt = facts.body[spec.index]
        value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(value, ast.Call) or call_args(value, spec.fn, facts) is None:
            continue  # arguments only the statement itself can compute: built as the variable
        if any(_method_on(node, spec.variable, CHANGE_METHODS)
               for i in spec.touches for node in A.module_level([facts.body[i]])):
            continue
        single.add(id(spec))
    return [spec for spec in variables if id(spec) not in single]


def _variables(facts: Facts, candidates: list[str], declared: set[str]) -> list[Spec]:
    specs: list[Spec] = []
    seen: set[str] = set()
    factories = set(candidates)
    for st in facts.statements:
        inside = isinstance(st.node, A.WITHS)  # ``with strategy.scope(): model = ...``
        for stmt in st.node.body if inside else [st.node]:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            else:
                continue
            if not (isinstance(target, ast.Name) and isinstance(value, ast.Call)):
                continue
            made = _makes_model(value, facts, factories)
            if made is None:
                continue
            fn = facts.body[facts.functions[value.func.id]] if made == "factory" else None
            shown = f"{st.scope}.{target.id}" if st.scope not in ("", GUARD) else target.id  # ``main.model``
            name = shown if shown not in seen else f"{shown}@{stmt.lineno}"
            seen.add(shown)
            touches, changed_by = ([], None) if inside else _construction(facts, st.index, target.id)
            after = touches[-1] if touches else st.index
            specs.append(Spec("variable", name, stmt.lineno, stmt.end_lineno if inside else facts.statements[after].last,
                              st.index, fn, declared=made != "factory" or value.func.id in declared,
                              after=after, touches=touches, changed_by=changed_by, variable=target.id))
    return specs


def _makes_model(value: ast.Call, facts: Facts, factories: set[str]) -> Optional[str]:
    """``"constructor"``, ``"factory"`` or ``"subclass"`` when calling ``value`` makes a model."""
    name = A.dotted(value.func)
    if name is None:
        return None
    if "." not in name and name in factories:
        return "factory"
    if "." not in name and name in facts.model_classes:
        return "subclass"
    full = A.resolve(name, facts.aliases)
    if A.last(full) in MODEL_CLASSES or is_application(full) or is_model_function(full):
        return "constructor"
    return None


def _construction(facts: Facts, start: int, name: str) -> tuple[list[int], Optional[int]]:
    """The statements after ``start`` that build the model ``name`` holds, until ``name`` is
    bound again; and the first one that changes it but never runs."""
    touches: list[int] = []
    changed_by = None
    for st in facts.statements[start + 1:]:
        if name in st.rebinds or st.scope != facts.statements[start].scope:
            break  # bound again, or the end of the lifted function body it was built in
        if st.effect is None:
            if _touches(st.shown or st.node, name) or name in st.binds or (isinstance(st.node, A.LOOPS) and any(
                    _method_on(node, name, CHANGE_METHODS) for node in A.module_level([st.node]))):
                touches.append(st.index)  # a loop that runs and adds layers (astutil.builds_in_place) too
        elif changed_by is None and (name in st.binds or any(
                _method_on(node, name, CHANGE_METHODS) for node in A.module_level([st.node]))):
            changed_by = st.index
    return touches, changed_by


def _touches(stmt: ast.stmt, name: str) -> bool:
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    func = stmt.value.func
    return (isinstance(func, ast.Name) and func.id == name) or _method_on(stmt.value, name, TOUCH_METHODS)


def _method_on(node: ast.AST, name: str, methods: frozenset) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Attribute) and func.attr in methods
            and isinstance(func.value, ast.Name) and func.value.id == name)
