"""Builder methods of plain classes: ``CNNTrainer.build_model``. ``ast`` only.

A training script often keeps its model in a class that also loads data and trains::

    class CNNTrainer:
        def __init__(self, config):
            self.config = config
            self.model = self.build_model()
        def build_model(self):
            ...
            return models.Model(inputs, outputs)

    if __name__ == "__main__":
        trainer = CNNTrainer(Config())
        trainer.train(ds)

The method is a target named ``CNNTrainer.build_model`` when all of these hold:

- the class is a top-level class that is not a Keras model or a KerasTuner hypermodel, and the
  method builds a model (as a factory's body does) or is annotated to return one, takes nothing
  but ``self`` without a default, and neither trains nor downloads;
- the file makes an instance (anywhere at the top level, the main guard included) with
  arguments NetViz can evaluate: constant expressions over top-level values, and instances of
  top-level classes made with such arguments (``Config()``);
- making the instance does nothing the ``effects`` table lists (no file read or write, no
  download, no training, no plot), in ``__init__`` (or a dataclass's ``__post_init__``) and in
  the ``self.`` methods it calls; each class involved has no base but ``object`` and the file's
  own such classes, and no decorator but ``dataclass``.

It is built as ``CNNTrainer(<those arguments>).model`` when ``__init__`` keeps the method's
model (``self.model = self.build_model()``, built once), else ``....build_model()``. Anything
else (an ``__init__`` that loads data, an instance made from a parsed argument) is no target:
NetViz cannot make the instance without running what it must not.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional

from netviz_lsp.discovery import astutil as A
from netviz_lsp.discovery.effects import call_reason
from netviz_lsp.discovery.facts import Facts

#: Decorators a class may carry and still be made safely.
DECORATORS = frozenset({"dataclass", "dataclasses.dataclass"})
#: Bases a class may have besides the file's own safe classes.
BASES = frozenset({"object"})
#: Methods that run when an instance is made.
CONSTRUCTION = ("__init__", "__post_init__")


@dataclass
class Builder:
    cls: str
    method: ast.FunctionDef
    kept: Optional[str]
    """The attribute ``__init__`` stores the method's model in, if it does."""


def safe_classes(facts: Facts) -> set[str]:
    """Top-level classes whose instances NetViz may make: nothing their construction runs is in
    the ``effects`` table."""
    safe: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, i in facts.classes.items():
            if name not in safe and name not in facts.model_classes and _safe(facts, facts.body[i], safe):
                safe.add(name)
                changed = True
    return safe


def builder_methods(facts: Facts, builds, excluded, skip: set[str]) -> list[Builder]:
    """``builds(fn)``: the method's body builds a model or is annotated to; ``excluded(fn)``: it trains
    or downloads. Classes in ``skip`` (hypermodels) are left to their own stage."""
    found = []
    for name, i in facts.classes.items():
        node = facts.body[i]
        if name in skip or name in facts.model_classes:
            continue
        for stmt in node.body:
            if (isinstance(stmt, ast.FunctionDef) and not stmt.name.startswith("__")
                    and _only_self(stmt) and not stmt.decorator_list and builds(stmt) and not excluded(stmt)):
                found.append(Builder(name, stmt, _kept(node, stmt.name)))
    return found


def _only_self(fn: ast.FunctionDef) -> bool:
    positional = fn.args.posonlyargs + fn.args.args
    return bool(positional) and positional[0].arg == "self" and A.required(fn) == ["self"]


def _kept(node: ast.ClassDef, method: str) -> Optional[str]:
    """``model`` for ``self.model = self.<method>()`` at the top of ``__init__``'s body."""
    init = next((s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
    for stmt in init.body if init else []:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute)
                and A.dotted(stmt.targets[0]) == f"self.{stmt.targets[0].attr}"
                and isinstance(stmt.value, ast.Call) and not stmt.value.args and not stmt.value.keywords
                and A.dotted(stmt.value.func) == f"self.{method}"):
            return stmt.targets[0].attr
    return None


def _safe(facts: Facts, node: ast.ClassDef, safe: set[str]) -> bool:
    if any(A.resolve(A.dotted(d.func if isinstance(d, ast.Call) else d) or "", facts.aliases)
           not in DECORATORS for d in node.decorator_list):
        return False
    if node.keywords or any((A.dotted(b) or "") not in BASES | safe for b in node.bases):
        return False
    methods = {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    todo = [methods[m] for m in CONSTRUCTION if m in methods]
    seen: set[str] = set()
    while todo:
        fn = todo.pop()
        if fn.name in seen:
            continue
        seen.add(fn.name)
        for call in (n for stmt in fn.body for n in ast.walk(stmt) if isinstance(n, ast.Call)):
            if call_reason(call, facts.aliases) is not None:
                return False
            name = A.dotted(call.func) or ""
            if name.startswith("self.") and name.count(".") == 1 and name[5:] in methods:
                todo.append(methods[name[5:]])
    return True
