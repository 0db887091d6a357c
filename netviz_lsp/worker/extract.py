"""From a built Keras model to the plain graph contract (``netviz_lsp.graph``).

Runs in the worker only. Everything that leaves this module is plain data: ids,
shapes as lists of ints/None, counts, lines. Works on shape-only models (weights
are never read, only their shapes).

Model kinds:
- Functional: its own node graph (``_operations``, ``_nodes``).
- Sequential: the Functional it builds internally once it knows its input; its
  implicit InputLayer is hidden, as ``model.summary()`` and ``plot_model`` do.
- Subclassed: ``call`` is traced on ``keras.Input`` tensors of its build shape, so
  its inner layers form a graph; if it was never built, one opaque box and a note.
- Nested models are layers whose inner layers carry ``parent`` = the model's id.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from netviz_lsp.graph import Layer, ModelGraph, BuildInfo
from netviz_lsp.groups import annotate  # issue 15
from netviz_lsp.memory import activation_bytes  # issue 15
from netviz_lsp.worker.sites import INPUT_LENGTH_ATTR, creation_site


def extract_model(model: Any, factory: str, line: int, path: str, build: BuildInfo) -> ModelGraph:
    """The graph of ``model`` as built by ``factory`` (defined at ``line`` of ``path``)."""
    layers: list[Layer] = []
    edges: list[list[str]] = []
    notes: list[str] = []
    functional = _walk(model, None, path, layers, edges, notes)
    weights = model.weights
    trainable = _count(model.trainable_weights)
    total = _count(weights)
    if notes:
        build.note = "; ".join(filter(None, [build.note, *notes]))
    # Issue 15: the model's groups and memory (netviz_lsp/groups.py, pure), once per built graph
    # (so cached graphs and notebooks carry them too); the layers' activation_bytes come from _layer.
    return annotate(ModelGraph(
        factory=factory,
        line=line,
        class_name=type(model).__name__,
        name=model.name,
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        inputs=_tensor_shapes(getattr(functional, "inputs", None)),
        outputs=_tensor_shapes(getattr(functional, "outputs", None)),
        build=build,
        layers=layers,
        edges=edges,
        weights_bytes=sum(_count([w]) * _itemsize(w.dtype) for w in weights),
    ))


def _walk(model, parent: Optional[str], path: str, layers: list, edges: list, notes: list):
    """Append ``model``'s layers and edges (recursing into nested models); return its Functional."""
    import keras

    functional = _functional_of(model, notes)
    if functional is None:
        ops = [op for op in getattr(model, "layers", [])]
        keys = None
    else:
        ops = list(functional._operations)
        keys = functional._nodes
        if isinstance(model, keras.Sequential):
            ops = [op for op in ops if not isinstance(op, keras.layers.InputLayer)]
    ids = {id(op): _layer_id(op, parent) for op in ops}
    for op in ops:
        layer = _layer(op, ids[id(op)], parent, path, keys)
        layers.append(layer)
        if layer.is_model:
            _walk(op, layer.id, path, layers, edges, notes)
    if keys is not None:
        edges.extend(_edges(ops, ids, keys))
    elif len(ops) > 1 and isinstance(model, keras.Sequential):
        # An unbuilt Sequential is still a chain.
        edges.extend([ids[id(a)], ids[id(b)]] for a, b in zip(ops, ops[1:]))
    return functional


def _functional_of(model, notes: list):
    """The Functional graph behind ``model``, or None when it cannot be known."""
    import keras
    from keras.src.models.functional import Functional

    if isinstance(model, Functional):
        return model
    if isinstance(model, keras.Sequential):
        if model._functional is None:
            _build_from_input_length(model, notes)
        if model._functional is None:
            _build_from_inner_model(model, notes)
        if model._functional is None:
            notes.append(
                f"{model.name} has no known input shape, so shapes and params are unknown: "
                "start it with keras.Input(shape=...)"
            )
        return model._functional
    return _trace_subclassed(model, notes)


def _build_from_input_length(model, notes: list) -> None:
    """Build an unbuilt Sequential that starts with Keras 2's ``Embedding(..., input_length=N)``
    with the input (None, N) that meant: Keras 3 drops ``input_length`` and learns the shape
    from the data at ``fit``, which NetViz never runs."""
    first = model.layers[0] if model.layers else None
    length = getattr(first, INPUT_LENGTH_ATTR, None)
    if length is None:
        return
    try:
        model.build((None, length))
    except Exception:  # noqa: BLE001 - the model stays unbuilt and says so
        return
    if model._functional is not None:
        notes.append(f"{model.name} drawn with the input (None, {length}) of its Embedding's input_length "
                     "(Keras 3 ignores input_length and builds the model from the data at fit)")


def _build_from_inner_model(model, notes: list) -> None:
    """Build an unbuilt Sequential that wraps a model of fixed input shape (``keras.Sequential(
    [layers.Rescaling(...), layers.RandomFlip(...), base, head])`` over a ``keras.applications``
    backbone) with that model's input, when every layer before it keeps its input's shape,
    whatever it is (Keras' own ``compute_output_shape`` says so): then that is the only input
    the Sequential accepts.
    Keras itself builds it from the data at ``fit``, which NetViz never runs."""
    import keras

    for index, layer in enumerate(model.layers):
        if isinstance(layer, keras.Model) and layer.built:
            inputs = getattr(layer, "inputs", None) or []
            if len(inputs) != 1:
                return
            shape = tuple(inputs[0].shape)
            break
    else:
        return
    # Kept for any input (a Dense(3) keeps (None, 160, 160, 3) but not (None, 161, 161, 4): it
    # would take any number of channels, so the Sequential's input is not known).
    other = tuple(None if d is None else d + 1 for d in shape)
    try:
        if any(tuple(before.compute_output_shape(probe)) != probe
               for before in model.layers[:index] for probe in (shape, other)):
            return
        model.build(shape)
    except Exception:  # noqa: BLE001 - the model stays unbuilt and says so
        return
    if model._functional is not None:
        dims = ", ".join("None" if d is None else str(d) for d in shape)
        kept = f", which the {index} layer{'s' if index != 1 else ''} before it keep" if index else ""
        notes.append(f"{model.name} drawn with the input ({dims}) of {layer.name}{kept} "
                     "(Keras builds an unbuilt Sequential from the data at fit)")


def _trace_subclassed(model, notes: list):
    """Trace a subclassed model's ``call`` on symbolic inputs of its build shape."""
    import keras

    if type(model).call is keras.Model.call:
        # A model that only trains its parts (a VAE or a GAN with its own train_step).
        notes.append(
            f"{model.name} ({type(model).__name__}) defines no call(), so it has no forward pass to trace: "
            "its models and layers are drawn unconnected"
        )
        return None
    shapes = getattr(model, "_build_shapes_dict", None)
    if not shapes:
        traced = _trace_through_inner_model(model, notes)
        if traced is not None:
            return traced
        notes.append(
            f"{model.name} ({type(model).__name__}) was never built, so its layers cannot be traced: "
            "call model.build(input_shape), or call the model on keras.Input(...)"
        )
        return None
    shape = next(iter(shapes.values()))
    try:  # the batch as any batch (None), as Keras draws a built model; else as it was built
        return _traced(model, shape, any_batch=True)
    except Exception:  # noqa: BLE001 - a call that needs its batch size: trace it with that
        pass
    try:
        return _traced(model, shape, any_batch=False)
    except Exception as error:  # a call we cannot trace still yields its layer list
        notes.append(f"could not trace {model.name}.call on symbolic inputs ({type(error).__name__}: {error})")
        return None


def _traced(model, shape, any_batch: bool):
    """``model.call`` on ``keras.Input``s of its build ``shape`` (a dict's named by their keys, so
    Keras matches them to the call's structure without a warning), as a Functional."""
    import keras

    def symbolic(dims, name=None):
        dims = tuple(dims)
        if any_batch and dims:
            dims = (None, *dims[1:])
        return keras.Input(batch_shape=dims, name=name)

    if isinstance(shape, dict):
        inputs = {k: symbolic(v, k) for k, v in shape.items()}
    elif isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        inputs = [symbolic(s) for s in shape]
    else:
        inputs = symbolic(shape)
    outputs = model.call(inputs)
    return keras.Model(inputs, outputs, name=f"{model.name}_traced")


def _trace_through_inner_model(model, notes: list):
    """A never-built subclass that wraps one built model (keras.io's ``SiameseModel(siamese_network)``
    whose ``call`` is ``return self.siamese_network(inputs)``, next to its own ``train_step``): trace
    ``call`` on inputs shaped as that model's. Only a trace that succeeds is drawn, with a note;
    otherwise the model says it was never built, as before."""
    import keras

    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if len(inner) != 1 or not inner[0].built or not getattr(inner[0], "inputs", None):
        return None
    wrapped = inner[0]
    try:
        inputs = keras.tree.map_structure(lambda t: keras.Input(
            batch_shape=tuple(t.shape), dtype=t.dtype, name=t._keras_history[0].name), wrapped.input)
        outputs = model.call(inputs)
        traced = keras.Model(inputs, outputs, name=f"{model.name}_traced")
    except Exception:  # noqa: BLE001 - not that input: the model stays never built and says so
        return None
    held = next((f"self.{name}" for name, value in vars(model).items() if value is wrapped), wrapped.name)
    notes.append(f"{model.name} ({type(model).__name__}) was never built: its call() is traced with the "
                 f"inputs of the model it wraps, {held} (Keras builds it on its first call)")
    return traced


def _layer_id(op, parent: Optional[str]) -> str:
    return op.name if parent is None else f"{parent}/{op.name}"


def _layer(op, layer_id: str, parent: Optional[str], path: str, node_keys) -> Layer:
    import keras

    line, chain = creation_site(op, path)
    weights = getattr(op, "weights", [])
    activation = getattr(op, "activation", None)
    return Layer(
        id=layer_id,
        name=op.name,
        class_name=type(op).__name__,
        line=line,
        call_lines=chain,
        output_shape=_output_shape(op, node_keys),
        params=_count(weights),
        trainable_params=_count(getattr(op, "trainable_weights", [])),
        trainable=bool(getattr(op, "trainable", False)),
        activation=_activation_name(activation) if activation is not None else None,
        dtype=_dtype_name(op),
        parent=parent,
        is_model=isinstance(op, keras.Model),
        activation_bytes=_activation_bytes(op, node_keys),
    )


def _activation_bytes(op, node_keys) -> Optional[int]:
    """Issue 15 (netviz_lsp/memory.py): ``op``'s outputs per sample at their tensors' dtypes.

    The tensors' dtype is the layer's compute dtype (float16 under ``mixed_float16``), where the
    contract's ``Layer.dtype`` is its variable dtype (float32 there).
    """
    from keras.src.ops.function import make_node_key

    for index, node in enumerate(getattr(op, "_inbound_nodes", [])):
        if node_keys is None or make_node_key(op, index) in node_keys:
            shapes = [_shape(t.shape) for t in node.outputs]
            dtypes = [str(getattr(t.dtype, "name", t.dtype)) for t in node.outputs]
            return activation_bytes(shapes[0] if len(shapes) == 1 else shapes, dtypes)
    return None


def _output_shape(op, node_keys):
    """Shapes of ``op``'s outputs at its first node inside this graph."""
    from keras.src.ops.function import make_node_key

    for index, node in enumerate(getattr(op, "_inbound_nodes", [])):
        if node_keys is None or make_node_key(op, index) in node_keys:
            shapes = [_shape(t.shape) for t in node.outputs]
            return shapes[0] if len(shapes) == 1 else shapes
    return None


def _edges(ops, ids: dict, node_keys) -> list[list[str]]:
    from keras.src.ops.function import make_node_key

    edges: dict[tuple[str, str], None] = {}  # ordered and de-duplicated
    for op in ops:
        for index, node in enumerate(op._inbound_nodes):
            if make_node_key(op, index) not in node_keys:
                continue
            for tensor in node.input_tensors:
                source = tensor._keras_history.operation
                if id(source) in ids:
                    edges[(ids[id(source)], ids[id(op)])] = None
    return [list(edge) for edge in edges]


def _tensor_shapes(tensors) -> list:
    if tensors is None:
        return []
    import keras

    return [_shape(t.shape) for t in keras.tree.flatten(tensors)]


def _shape(shape) -> list:
    return [None if d is None else int(d) for d in shape]


def _count(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def _itemsize(dtype) -> int:
    import numpy as np

    try:
        return np.dtype(str(dtype)).itemsize
    except TypeError:
        return 2 if "16" in str(dtype) else 4


def _activation_name(activation) -> str:
    name = getattr(activation, "__name__", None) or type(activation).__name__
    return str(name)


def _dtype_name(op) -> Optional[str]:
    dtype = getattr(op, "dtype", None)
    return None if dtype is None else str(getattr(dtype, "name", dtype))


def extract_partial(log, error: BaseException, factory: str, line: int, path: str,
                    build: BuildInfo) -> Optional[ModelGraph]:
    """The graph a failed build reached: what ``log`` (``sites.CallLog``) saw called, the failing layer ``failed``.

    Shown are the calls made at the top level (a Functional's, a Sequential's rebuild), and inside
    a subclassed model's call the layers it calls (with ``parent``). A layer called several times
    (shared, or a Sequential rebuilt by each ``add``) is one node with the union of its edges and
    its last output shape. A built Functional or Sequential called as a layer expands as in a good
    build. ``keras.Input``'s layers appear before their first consumer; a Sequential's implicit
    input layer is hidden, as in a good build. None when nothing was called.
    """
    import keras

    failing = _failing_call(log, error)
    hidden = {id(m._layers[0]) for m in log.models
              if isinstance(m, keras.Sequential) and m._layers and isinstance(m._layers[0], keras.layers.InputLayer)}

    def shown(call) -> bool:
        parent = call.parent
        while parent is not None:
            if not _is_subclassed(parent.op):
                return False
            parent = parent.parent
        return True

    # A model built first and then called as a layer (an encoder, a backbone) is one node that
    # expands as in a good build; the calls that built it are not drawn again at the top level.
    called = {id(c.op) for c in log.calls if c.error is None and isinstance(c.op, keras.Model) and shown(c)}
    inner = {id(op) for m in log.models if id(m) in called and not _is_subclassed(m)
             for op in (m._operations if hasattr(m, "_operations") and m._operations is not None
                        else getattr(m, "_layers", []))}
    inner |= {id(op) for m in log.models if id(m) in called for op in getattr(m, "_layers", [])}
    hidden |= inner
    calls = [c for c in log.calls if shown(c) and id(c.op) not in inner]
    if failing is not None:
        while not shown(failing):
            failing = failing.parent
    if not calls:
        return _unbuilt_sequential(log, factory, line, path, build)
    nodes: dict[int, dict] = {}  # id(op) -> {"op", "parent", "shape", "sources", "failed"}
    order: list[int] = []

    def parent_id(call) -> Optional[str]:
        return None if call.parent is None else _node_id(call.parent.op, parent_id(call.parent))

    for call in calls:
        for source in call.sources:
            op = source.op if hasattr(source, "sources") else source
            if id(op) not in nodes and not hasattr(source, "sources") and id(op) not in hidden:
                _add_history(op, log.history_nodes.get(id(op), 0), parent_id(call), nodes, order, hidden)
        node = nodes.get(id(call.op))
        if node is None:
            node = nodes[id(call.op)] = {"op": call.op, "parent": parent_id(call), "shape": None,
                                         "sources": [], "failed": False}
            order.append(id(call.op))
        if call.error is None:
            node["shape"] = _outputs_shape(call.outputs)
        if call is failing:
            node["failed"] = True
            node["shape"] = None
        for source in call.sources:
            op = source.op if hasattr(source, "sources") else source
            if id(op) not in node["sources"] and id(op) not in hidden:
                node["sources"].append(id(op))
    layers: list[Layer] = []
    edges: list[list[str]] = []
    notes: list[str] = []
    ids = {key: _node_id(nodes[key]["op"], nodes[key]["parent"]) for key in order}
    for key in order:
        node = nodes[key]
        op = node["op"]
        layer = _layer(op, ids[key], node["parent"], path, None)
        layer.output_shape = node["shape"]
        layer.failed = node["failed"]
        if layer.failed:
            layer.activation_bytes = None
        layers.append(layer)
        if layer.is_model and not layer.failed and not _is_subclassed(op):
            _walk(op, layer.id, path, layers, edges, notes)
        edges.extend([ids[source], ids[key]] for source in node["sources"] if source in ids)
    top = [layer for layer in layers if layer.parent is None]
    total = sum(layer.params for layer in top)
    trainable = sum(layer.trainable_params for layer in top)
    internal = {id(getattr(m, "_functional", None)) for m in log.models if isinstance(m, keras.Sequential)}
    model = next((m for m in log.models if creation_site(m, path)[0] is not None
                  and id(m) not in called and id(m) not in internal), None)
    if notes:
        build.note = "; ".join(filter(None, [build.note, *notes]))
    inputs = [layer.output_shape for layer in top if layer.class_name == "InputLayer"]
    if not inputs:
        inputs = [_input_layer_shape(m._layers[0]) for m in log.models if isinstance(m, keras.Sequential)
                  and m._layers and id(m._layers[0]) in hidden][:1]
    return ModelGraph(
        factory=factory, line=line,
        class_name=type(model).__name__ if model is not None else "Functional",
        name=getattr(model, "name", None),
        total_params=total, trainable_params=trainable, non_trainable_params=total - trainable,
        inputs=inputs, outputs=[], build=build, layers=layers, edges=edges,
        weights_bytes=0, memory=None,
    )


def _add_history(op, index: int, parent: Optional[str], nodes: dict, order: list, hidden: set) -> None:
    """Add ``op`` (an input's maker known only from its Keras history: ``keras.Input``'s layer, the
    ``subtract`` of ``preprocess_input``) and, before it, what made its inputs at its node ``index``,
    back to the ``keras.Input`` layers: their shapes from the nodes, as a good build reads them."""
    stack = [(op, index, False)]
    while stack:
        op, index, ready = stack.pop()
        if id(op) in nodes and not ready:
            continue
        inbound = getattr(op, "_inbound_nodes", None) or []
        node = inbound[index] if 0 <= index < len(inbound) else None
        makers = []
        for tensor in (node.input_tensors if node is not None else []):
            history = getattr(tensor, "_keras_history", None)
            if history is not None and id(history.operation) not in hidden:
                makers.append((history.operation, history.node_index))
        if not ready:
            stack.append((op, index, True))
            stack.extend((maker, i, False) for maker, i in reversed(makers) if id(maker) not in nodes)
            continue
        shape = _outputs_shape(node.outputs) if node is not None else None
        nodes[id(op)] = {"op": op, "parent": parent, "shape": shape if shape is not None else _input_layer_shape(op),
                         "sources": [], "failed": False}
        order.append(id(op))
        for maker, _ in makers:
            if id(maker) in nodes and id(maker) not in nodes[id(op)]["sources"]:
                nodes[id(op)]["sources"].append(id(maker))


def _unbuilt_sequential(log, factory: str, line: int, path: str, build: BuildInfo) -> Optional[ModelGraph]:
    """A Sequential with no known input never calls its layers; the ones added so far, as a chain."""
    import keras

    model = next((m for m in log.models if isinstance(m, keras.Sequential) and m._layers
                  and creation_site(m, path)[0] is not None), None)
    if model is None:
        return None
    layers: list[Layer] = []
    edges: list[list[str]] = []
    notes: list[str] = []
    _walk(model, None, path, layers, edges, notes)
    build.note = "; ".join(filter(None, [build.note, *notes]))
    total = sum(layer.params for layer in layers if layer.parent is None)
    trainable = sum(layer.trainable_params for layer in layers if layer.parent is None)
    return ModelGraph(factory=factory, line=line, class_name=type(model).__name__, name=model.name,
                      total_params=total, trainable_params=trainable, non_trainable_params=total - trainable,
                      inputs=[], outputs=[], build=build, layers=layers, edges=edges, memory=None)


def _failing_call(log, error: BaseException):
    """The innermost call whose exception is ``error`` or one it was raised from or during."""
    chain: list[int] = []
    seen = error
    while seen is not None and len(chain) < 50:
        chain.append(id(seen))
        seen = seen.__cause__ or seen.__context__
    by_error = {id(c.error): c for c in log.calls if c.error is not None}
    for key in reversed(chain):  # the innermost exception of the chain first
        if key in by_error:
            return by_error[key]
    return None


def _is_subclassed(op) -> bool:
    """A model whose layers only its ``call`` knows (no Functional graph), or a layer that holds layers."""
    import keras
    from keras.src.models.functional import Functional

    return isinstance(op, keras.Model) and not isinstance(op, (Functional, keras.Sequential))


def _dim(d) -> Optional[int]:
    """One dimension, None when it is not a constant (JAX's symbolic dimensions inside a traced ``call``)."""
    if d is None:
        return None
    try:
        return int(d)
    except Exception:  # noqa: BLE001 - e.g. jax's InconclusiveDimensionOperation
        return None


def _node_id(op, parent: Optional[str]) -> str:
    return _layer_id(op, parent)


def _input_layer_shape(op):
    shape = getattr(op, "batch_shape", None)
    return None if shape is None else _shape(shape)


def _outputs_shape(outputs):
    import keras

    shapes = []
    for tensor in keras.tree.flatten(outputs):
        shape = getattr(tensor, "shape", None)
        if shape is None:
            continue
        try:
            shapes.append([_dim(d) for d in shape])
        except (TypeError, ValueError):  # a tensor of unknown rank
            shapes.append(None)
    if not shapes:
        return None
    return shapes[0] if len(shapes) == 1 else shapes
