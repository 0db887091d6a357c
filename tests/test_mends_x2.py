"""Two mends, with real Keras in a real worker: the build cache keys on the workspace roots, and a
failed transfer-learning build's partial graph keeps its ``keras.Input`` and ``preprocess_input``'s ops.

The partial graph of ``flowers_transfer_head.py`` (an ``Add`` of 32- and 64-wide heads fails) is
compared with the good build of the same file (the 32 made 64): it must be that graph's prefix,
up to and including the failing layer.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult, ModelGraph
from netviz_lsp.settings import Settings

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "failures" / "flowers_transfer_head.py"
NARROW = "x = layers.Dense(32)(x)"
WIDE = "x = layers.Dense(64)(x)"


def build(engine: Engine, path: Path, roots=()) -> FileResult:
    return engine.build(str(path), path.read_text(encoding="utf-8"), Settings.from_json({}), roots=roots)


def line_of(path: Path, text: str) -> int:
    (hit,) = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return hit


def model(result: FileResult, name: str) -> ModelGraph:
    (graph,) = [m for m in result.models if m.factory == name]
    return graph


def good_copy(tmp_path: Path) -> Path:
    source = FIXTURE.read_text()
    assert source.count(NARROW) == 1
    path = tmp_path / "flowers_transfer_head.py"
    path.write_text(source.replace(NARROW, WIDE))
    return path


def test_the_partial_graph_of_a_failed_transfer_head_is_the_good_graphs_prefix(pool, tmp_path):
    engine = Engine(pool)
    (error,) = [e for e in build(engine, FIXTURE).errors if e.factory == "model"]
    assert (error.kind, error.line) == ("build", line_of(FIXTURE, "layers.Add()([x, skip])"))
    assert "incompatible shapes" in error.message
    partial = error.graph
    assert partial is not None

    preprocess = line_of(FIXTURE, "preprocess_input(inputs)")
    top = [layer for layer in partial.layers if layer.parent is None]
    assert [(layer.class_name, layer.line, layer.output_shape) for layer in top[:3]] == [
        ("InputLayer", line_of(FIXTURE, "keras.Input("), [None, 160, 160, 3]),
        ("TrueDivide", preprocess, [None, 160, 160, 3]),  # x / 127.5 - 1
        ("Subtract", preprocess, [None, 160, 160, 3]),
    ]
    first, divide, subtract, base = (layer.id for layer in top[:4])
    assert base.startswith("mobilenetv2") and top[3].is_model
    assert [[first, divide], [divide, subtract], [subtract, base]] == [
        edge for edge in partial.edges if {first, divide, subtract} & set(edge)]
    assert partial.inputs == [[None, 160, 160, 3]]

    good = model(build(engine, good_copy(tmp_path)), "model")
    assert good.layers[:3] == top[:3]  # the good build gives the ops the same shapes and line
    partial_layers = {layer.id: layer for layer in partial.layers}
    good_layers = {layer.id: layer for layer in good.layers}
    assert set(good_layers) - set(partial_layers) == {"dense_2"}  # the output, after the failure
    assert set(partial_layers) <= set(good_layers)
    failed = [layer.id for layer in partial.layers if layer.failed]
    assert failed == ["add"]
    edited = "dense_1"  # Dense(32) in the fixture, Dense(64) in the good copy
    assert partial_layers[edited].output_shape == [None, 32]
    for name, layer in partial_layers.items():
        if name in ("add", edited):
            continue
        assert layer == good_layers[name], name
    assert dataclasses.replace(partial_layers["add"], failed=False, output_shape=[None, 64],
                               activation_bytes=good_layers["add"].activation_bytes) == good_layers["add"]
    assert sorted(map(tuple, partial.edges)) == sorted(
        tuple(edge) for edge in good.edges if "dense_2" not in edge)


def test_the_build_cache_keys_on_the_workspace_roots(pool, tmp_path):
    engine = Engine(pool)
    (tmp_path / "project").mkdir()
    path = good_copy(tmp_path / "project")
    other = tmp_path / "elsewhere"
    other.mkdir()
    here = [str(path.parent)]
    assert not model(build(engine, path, here), "model").build.cached
    assert model(build(engine, path, here), "model").build.cached  # nothing changed: reused
    # Other roots may resolve imports, or decide the config-file guard, differently: built again.
    assert not model(build(engine, path, [str(path.parent), str(other)]), "model").build.cached
    assert not model(build(engine, path, []), "model").build.cached
    assert model(build(engine, path, []), "model").build.cached
