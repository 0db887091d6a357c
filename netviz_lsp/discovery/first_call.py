"""A subclassed model first called by a custom training loop: its build from the loop's data.

TensorFlow's "quickstart for experts", and custom training loops in general, make a
``keras.Model`` subclass and call it only inside a training step over a ``tf.data`` dataset::

    train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch(32)
    model = MyModel()

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            predictions = model(images, training=True)
        ...

    for epoch in range(EPOCHS):
        for images, labels in train_ds:
            train_step(images, labels)

Keras builds the model on that first call. The loop never runs here (it trains), so the model
would stay unbuilt. ``stand_ins`` follows the data instead: the model's call in the step
(``model(images)``), the step's call in the loop (``train_step(images, labels)``), the loop's
target over the dataset (``for images, labels in train_ds``), and the dataset's
``from_tensor_slices((x_train, y_train))`` (through shape-keeping ``shuffle``/``batch``/
``prefetch``/``cache``/``repeat``/``take`` only) to ``x_train``. The loop then stands in as that
first call, on a ``keras.Input`` of one batch of ``x_train`` (any batch size, its dtype), as
Keras would build it on the first batch. Anything else (a ``map``, a
generator, a model called on a computed tensor) is left as it was. ``ast`` only; never raises.
"""

from __future__ import annotations

import ast
from typing import Optional

from netviz_lsp.discovery import astutil as A

#: ``tf.data.Dataset`` methods that keep each element's shape but the batch dimension.
KEEPING = frozenset({"shuffle", "batch", "prefetch", "cache", "repeat", "take", "unbatch", "padded_batch"})


def stand_ins(body: list[ast.stmt], aliases: dict[str, str], model_classes: set[str]) -> dict[int, str]:
    """Statement index of a top-level loop -> the first call of the model that stands in for it."""
    try:
        return _stand_ins(body, aliases, model_classes)
    except (RecursionError, MemoryError):
        return {}


def _stand_ins(body: list[ast.stmt], aliases: dict[str, str], model_classes: set[str]) -> dict[int, str]:
    if not model_classes:
        return {}
    models = {}  # variable -> the statement that makes it an instance of an in-file subclass
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name) \
                and stmt.value.func.id in model_classes:
            models[stmt.targets[0].id] = i
    models = {m: i for m, i in models.items() if not any(_built(stmt, m) for stmt in body)}
    if not models:
        return {}
    functions = {s.name: s for s in body if isinstance(s, ast.FunctionDef)}
    datasets: dict[str, list[Optional[str]]] = {}  # name -> the arrays its elements come from, by position
    for stmt in body:
        arrays = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            arrays = _sliced_arrays(stmt.value, aliases, datasets)
        for name in A.rebinds(stmt):
            datasets.pop(name, None)  # bound anew: only a dataset of known arrays is followed
        if arrays is not None:
            datasets[stmt.targets[0].id] = arrays
    out: dict[int, str] = {}
    done: set[str] = set()
    for i, stmt in enumerate(body):
        if not isinstance(stmt, (ast.For, ast.AsyncFor)):
            continue
        for model, made in models.items():
            if made >= i or model in done:
                continue
            array = _first_input(stmt, model, functions, datasets)
            if array is not None:
                out[i] = (f'{model}(__import__("keras").Input(batch_shape=(None,) + tuple({array}.shape[1:]), '
                          f'dtype=getattr({array}.dtype, "name", str({array}.dtype))))')
                done.add(model)
                break
    return out


def _built(stmt: ast.stmt, model: str) -> bool:
    """Whether top-level ``stmt`` builds or calls ``model`` itself (then Keras has its shape)."""
    if not isinstance(stmt, (ast.Expr, ast.Assign)):
        return False
    call = stmt.value
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    return (isinstance(func, ast.Name) and func.id == model) or (
        isinstance(func, ast.Attribute) and func.attr == "build" and isinstance(func.value, ast.Name)
        and func.value.id == model)


def _sliced_arrays(value: ast.expr, aliases: dict[str, str],
                   datasets: dict[str, list[Optional[str]]]) -> Optional[list[Optional[str]]]:
    """``tf.data.Dataset.from_tensor_slices(X)`` or ``((X, Y))``, or a dataset of ``datasets``,
    behind shape-keeping methods: the array names by element position (``[X]`` for a single
    array), else ``None``."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in KEEPING:
        value = value.func.value
    if isinstance(value, ast.Name):
        return datasets.get(value.id)
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr == "from_tensor_slices" and len(value.args) == 1):
        return None
    owner = A.resolve(A.dotted(value.func.value) or "", aliases)
    if not owner.endswith("data.Dataset"):
        return None
    given = value.args[0]
    if isinstance(given, ast.Name):
        return [given.id]
    if isinstance(given, ast.Tuple):
        return [e.id if isinstance(e, ast.Name) else None for e in given.elts]
    return None


def _first_input(loop: ast.stmt, model: str, functions: dict[str, ast.FunctionDef],
                 datasets: dict[str, list[Optional[str]]]) -> Optional[str]:
    """The array ``model`` is first called on in ``loop``: directly, or through a top-level
    function the loop calls with the batch."""
    sources = _batch_sources(loop, datasets)  # loop variable -> array
    if not sources:
        return None
    for node in A.module_level(loop.body):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        if isinstance(node.func, ast.Name) and node.func.id == model:
            first = node.args[0]
            if isinstance(first, ast.Name) and first.id in sources:
                return sources[first.id]
        elif isinstance(node.func, ast.Name) and node.func.id in functions:
            fn = functions[node.func.id]
            params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
            for inner in A.module_level(fn.body):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == model \
                        and inner.args and isinstance(inner.args[0], ast.Name) and inner.args[0].id in params:
                    at = params.index(inner.args[0].id)
                    if at < len(node.args) and isinstance(node.args[at], ast.Name) \
                            and node.args[at].id in sources:
                        return sources[node.args[at].id]
    return None


def _batch_sources(loop: ast.stmt, datasets: dict[str, list[Optional[str]]]) -> dict[str, str]:
    """Loop variables (of ``loop`` and the loops in it) that hold a batch of a known array:
    ``for images, labels in train_ds``, ``for step, (x, y) in enumerate(train_ds)``."""
    found: dict[str, str] = {}
    for node in ast.walk(loop):
        if not isinstance(node, (ast.For, ast.AsyncFor)):
            continue
        target, source = node.target, node.iter
        if isinstance(source, ast.Call) and isinstance(source.func, ast.Name) and source.func.id == "enumerate" \
                and source.args and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            source, target = source.args[0], target.elts[1]
        if not (isinstance(source, ast.Name) and source.id in datasets):
            continue
        arrays = datasets[source.id]
        if isinstance(target, ast.Name) and len(arrays) == 1 and arrays[0]:
            found[target.id] = arrays[0]
        elif isinstance(target, ast.Tuple) and len(target.elts) == len(arrays):
            for element, array in zip(target.elts, arrays):
                if isinstance(element, ast.Name) and array:
                    found[element.id] = array
    return found
