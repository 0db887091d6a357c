"""The ``tensorboard`` request: write each factory's model graph into a TensorBoard log dir, no training.

Request: the ``build`` request's fields plus ``"logdir"``; one run folder per factory,
``<logdir>/<run prefix><factory>``. Each factory is built with real weights (a traced
graph reads its variables), then its forward pass is traced once by
``tf.function.get_concrete_function`` on ``TensorSpec``s of the model's inputs, so no
sample data is needed and unknown dimensions stay unknown, and the graph is written
with ``tf.summary.graph``: TensorBoard's Graphs dashboard and its ``EventAccumulator``
(``Graph()``) read it as they read ``keras.callbacks.TensorBoard``'s.

Events are the build's: ``stage``, then a ``model`` event (the graph contract, its
``build.note`` naming the event file) or an ``error`` event per factory, so the
parent's ``BuildPool.build`` serves this request unchanged. Runs in the worker only.
"""

from __future__ import annotations

import os
from typing import Any

from netviz_lsp.worker import build
from netviz_lsp.worker.build import Emit, Program
from netviz_lsp.worker.messages import BuildRequest, Event, ModelEvent, TargetSpec


def run_tensorboard(request: BuildRequest, emit: Emit) -> None:
    """Export every target of ``request`` to ``request.logdir``; errors are events, never raised."""

    def finish(target: TargetSpec, value: Any, program: Program) -> Event:
        event = build._finish_build(target, value, program)
        if isinstance(event, ModelEvent):
            run_dir = os.path.join(request.logdir or ".", request.run_prefix + target.name)
            event_file = write_graph(build._model_in(value), run_dir)
            note = event.graph["build"].get("note")
            event.graph["build"]["note"] = "; ".join(filter(None, [note, f"TensorBoard graph: {event_file}"]))
        return event

    build.run_build(request, emit, finish)


def write_graph(model, run_dir: str) -> str:
    """Trace ``model``'s inference pass and write its graph under ``run_dir``; the event file's path."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"a TensorBoard graph needs the TensorFlow backend, not {keras.backend.backend()!r} "
                           "(set KERAS_BACKEND=tensorflow)")
    import tensorflow as tf

    inputs = keras.tree.flatten(model.inputs) if getattr(model, "inputs", None) else None
    if not inputs:
        raise ValueError(f"{model.name} has no known inputs to trace: start it with keras.Input(shape=...)")
    specs = [tf.TensorSpec(tensor.shape, tensor.dtype, name=_input_name(tensor, i)) for i, tensor in enumerate(inputs)]
    structure = getattr(model, "_inputs_struct", None) or model.inputs

    def forward(*tensors):
        if len(tensors) == 1:
            return model(tensors[0], training=False)
        return model(keras.tree.pack_sequence_as(structure, list(tensors)), training=False)

    concrete = tf.function(forward).get_concrete_function(*specs)
    os.makedirs(run_dir, exist_ok=True)
    before = set(os.listdir(run_dir))
    writer = tf.summary.create_file_writer(run_dir)
    try:
        with writer.as_default():
            tf.summary.graph(concrete.graph)
        writer.flush()
    finally:
        writer.close()
    written = sorted(set(os.listdir(run_dir)) - before) or sorted(os.listdir(run_dir))
    return os.path.join(run_dir, written[-1])


def _input_name(tensor, index: int) -> str:
    history = getattr(tensor, "_keras_history", None)
    operation = getattr(history, "operation", None)
    name = getattr(operation, "name", None) or f"input_{index}"
    name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_.-") else "_" for ch in name)
    return name if name[:1].isalnum() else f"input_{index}{name}"
