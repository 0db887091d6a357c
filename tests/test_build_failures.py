"""When the model is wrong: real builds that fail, in a real worker (issue 13, the worker's side).

A failed build's error carries the graph it reached (every layer created and called
before the failure, the failing one ``failed``, the edges into it) and its call chain
(``call_lines``, innermost first); the warnings Keras raises during a build come back
as ``FileResult.warnings`` at the user's line, on every build. One warm worker serves
the module; the last test runs ``netviz render --format json`` as a user does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from netviz_lsp import notebook
from netviz_lsp.engine import Engine
from netviz_lsp.graph import BuildError, FileResult, ModelGraph
from netviz_lsp.settings import Settings
from netviz_lsp.worker.pool import BuildPool

ROOT = Path(__file__).resolve().parent.parent
FAILURES = Path(__file__).resolve().parent / "fixtures" / "failures"
ARTICLE = Path(__file__).resolve().parent / "fixtures" / "server" / "article_original.py"
INPUT_SHAPE = "Do not pass an `input_shape`/`input_dim` argument to a layer"


def build(pool: BuildPool, path: Path, engine: Engine | None = None) -> FileResult:
    return (engine or Engine(pool)).build(str(path), path.read_text(encoding="utf-8"), Settings.from_json({}))


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return hits[occurrence - 1]


def error_of(result: FileResult, target: str) -> BuildError:
    (error,) = [e for e in result.errors if e.factory == target]
    return error


def by_id(graph: ModelGraph) -> dict:
    return {layer.id: layer for layer in graph.layers}


def test_functional_add_of_8_and_9_wide_tensors_draws_up_to_the_add(pool):
    path = FAILURES / "tabular_two_towers.py"
    result = build(pool, path)
    error = error_of(result, "two_towers")
    add_line = line_of(path, 'layers.Add(name="merge")')
    assert (error.kind, error.line, error.call_lines) == ("build", add_line, [add_line])
    assert "incompatible shapes" in error.message
    graph = error.graph
    assert graph is not None and graph.memory is None and graph.factory == "two_towers"
    assert graph.build.backend in ("tensorflow", "jax", "torch") and graph.build.shape_only
    assert [layer.id for layer in graph.layers] == ["features", "wide", "deep", "merge"]
    layers = by_id(graph)
    assert [(layers[i].class_name, layers[i].output_shape, layers[i].params, layers[i].line, layers[i].failed)
            for i in ("features", "wide", "deep", "merge")] == [
        ("InputLayer", [None, 16], 0, line_of(path, "keras.Input("), False),
        ("Dense", [None, 8], 16 * 8 + 8, line_of(path, 'name="wide"'), False),
        ("Dense", [None, 9], 16 * 9 + 9, line_of(path, 'name="deep"'), False),
        ("Add", None, 0, add_line, True),
    ]
    assert graph.edges == [["features", "wide"], ["features", "deep"], ["wide", "merge"], ["deep", "merge"]]
    assert graph.inputs == [[None, 16]] and graph.outputs == []
    assert graph.total_params == 289
    assert "score" not in layers  # never created: the failure came first
    assert result.models == []


def test_sequential_rank_mismatch_at_module_level_keeps_the_layers_added_so_far(pool):
    path = FAILURES / "mnist_rank_mismatch.py"
    error = error_of(build(pool, path), "model")
    conv_line = line_of(path, "layers.Conv2D(32")
    assert (error.line, error.call_lines) == (conv_line, [conv_line])
    assert "expected min_ndim=4, found ndim=2" in error.message
    graph = error.graph
    assert graph.kind == "variable" and graph.class_name == "Sequential" and graph.name == "digits"
    # The Sequential's input layer stays hidden, as in a good build; its shape is the graph's input.
    assert [(layer.id, layer.output_shape, layer.failed) for layer in graph.layers] == [
        ("flatten", [None, 784], False), ("dense", [None, 128], False), ("conv2d", None, True)]
    assert graph.inputs == [[None, 28, 28, 1]]
    assert graph.edges == [["flatten", "dense"], ["dense", "conv2d"]]
    assert by_id(graph)["dense"].params == 784 * 128 + 128


def test_a_failure_inside_a_helper_gives_the_chain_from_the_helper_to_its_caller(pool):
    path = FAILURES / "resnet_helper.py"
    error = error_of(build(pool, path), "small_resnet")
    inside, caller = line_of(path, "layers.Add()([shortcut, y])"), line_of(path, "x = residual(x, 64)")
    assert (error.line, error.call_lines) == (inside, [inside, caller])
    layers = by_id(error.graph)
    failed = [layer for layer in error.graph.layers if layer.failed]
    assert [(layer.id, layer.call_lines) for layer in failed] == [("add_1", [inside, caller])]
    # The first block went through; the second one's convolutions were called with 64 filters.
    assert layers["add"].output_shape == [None, 32, 32, 32] and not layers["add"].failed
    assert layers["conv2d_4"].output_shape == [None, 32, 32, 64]
    assert sorted(edge[0] for edge in error.graph.edges if edge[1] == "add_1") == ["activation", "conv2d_4"]
    assert "global_average_pooling2d" not in layers


def test_a_failure_in_a_subclassed_call_draws_the_layers_its_trace_reached(pool):
    path = FAILURES / "subclassed_encoder.py"
    error = error_of(build(pool, path), "text_classifier")
    skip, call = line_of(path, "x = self.skip([x, h])"), line_of(path, "model(keras.Input(")
    assert (error.line, error.call_lines) == (skip, [skip, call])
    graph = error.graph
    assert graph.class_name == "TextClassifier"
    inner = [layer for layer in graph.layers if layer.parent == "text_classifier"]
    assert [(layer.class_name, layer.output_shape, layer.failed) for layer in inner] == [
        ("Embedding", [None, 200, 32], False), ("GlobalAveragePooling1D", [None, 32], False),
        ("Dense", [None, 64], False), ("Add", None, True)]
    assert [layer.id for layer in graph.layers if layer.failed] == ["text_classifier/add"]
    assert sorted(e[0] for e in graph.edges if e[1] == "text_classifier/add") == [
        "text_classifier/dense", "text_classifier/global_average_pooling1d"]
    assert "text_classifier/dense_1" not in by_id(graph)  # the head was never called


def test_the_articles_adam_lr_fails_at_its_line_after_the_layers_were_built(pool):
    result = build(pool, ARTICLE)
    error = error_of(result, "construct_model")
    adam = line_of(ARTICLE, "optimizer=keras.optimizers.Adam(lr=0.001)")
    assert (error.line, error.call_lines) == (adam, [adam])
    assert "Argument(s) not recognized: {'lr': 0.001}" in error.message
    graph = error.graph
    assert graph.class_name == "Sequential" and not any(layer.failed for layer in graph.layers)
    assert [layer.class_name for layer in graph.layers] == [
        "Conv2D", "Conv2D", "MaxPooling2D", "Dropout", "Flatten", "Dense", "Dropout", "Dense"]
    assert graph.total_params == 63_021_004  # the article's own total
    assert graph.layers[0].output_shape == [None, 126, 126, 64]
    assert error_of(result, "cconstruct_model").graph.total_params == 5_074_156
    assert [m.factory for m in result.models] == ["sconstruct_model"]


def input_shape_warnings(result: FileResult) -> list[tuple[int, str, str]]:
    return [(w.line, w.factory, w.category) for w in result.warnings if w.message.startswith(INPUT_SHAPE)]


def test_input_shape_warnings_come_back_at_their_lines_on_every_build_of_one_worker(pool):
    expected = [
        (line_of(ARTICLE, "input_shape=(128, 128, 1)", 1), "construct_model", "UserWarning"),
        (line_of(ARTICLE, "Conv2D(8, (5, 5)"), "sconstruct_model", "UserWarning"),
        (line_of(ARTICLE, "input_shape=(128, 128, 1)", 2), "cconstruct_model", "UserWarning"),
    ]
    first = build(pool, ARTICLE)
    second = build(pool, ARTICLE)  # the same worker: Python's once-per-location would hide them
    assert input_shape_warnings(first) == expected
    assert input_shape_warnings(second) == expected
    assert len({(w.line, w.message) for w in second.warnings}) == len(second.warnings)


def test_a_build_reused_from_the_cache_keeps_its_warnings(pool):
    engine = Engine(pool)
    built = build(pool, ARTICLE, engine)
    reused = build(pool, ARTICLE, engine)
    assert reused.model("sconstruct_model").build.cached
    assert reused.warnings == built.warnings and input_shape_warnings(reused)


def test_a_good_build_has_no_failure_fields(pool):
    result = build(pool, ROOT / "examples" / "seed_cnns.py")
    assert result.errors == [] and result.warnings == []
    assert not any(layer.failed for model in result.models for layer in model.layers)


def test_a_notebook_maps_the_chain_the_partial_graph_and_the_warnings_to_cells(pool):
    path = FAILURES / "cifar_residual.ipynb"
    cells, problem = notebook.from_ipynb(path.read_text(encoding="utf-8"))
    assert problem is None
    joined = notebook.join(cells)
    result = notebook.map_result(Engine(pool).build(str(path), joined.source, Settings.from_json({})), joined)
    error = error_of(result, "resnet")
    # Cell 3 holds the helper (its Add on line 5), cell 4 the model (residual(x, 64) on line 4).
    assert (error.cell, error.line, error.call_cells, error.call_lines) == (3, 5, [3, 4], [5, 4])
    failed = [layer for layer in error.graph.layers if layer.failed]
    assert [(layer.id, layer.cell, layer.line, layer.call_cells, layer.call_lines) for layer in failed] == [
        ("add_1", 3, 5, [3, 4], [5, 4])]
    assert (error.graph.cell, error.graph.line) == (4, 7)
    assert [(w.cell, w.line, w.factory) for w in result.warnings if w.message.startswith(INPUT_SHAPE)] == [
        (6, 2, "baseline")]
    assert [m.factory for m in result.models] == ["baseline"]


def test_netviz_render_json_prints_the_error_with_its_partial_graph():
    path = FAILURES / "tabular_two_towers.py"
    done = subprocess.run([sys.executable, "-m", "netviz_lsp.cli", "render", str(path), "--format", "json"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    (error,) = data["errors"]
    add_line = line_of(path, 'layers.Add(name="merge")')
    assert (error["kind"], error["line"], error["factory"], error["call_lines"]) == (
        "build", add_line, "two_towers", [add_line])
    graph = error["graph"]
    assert [(layer["id"], layer["output_shape"], layer["failed"]) for layer in graph["layers"]] == [
        ("features", [None, 16], False), ("wide", [None, 8], False), ("deep", [None, 9], False),
        ("merge", None, True)]
    assert [edge for edge in graph["edges"] if edge[1] == "merge"] == [["wide", "merge"], ["deep", "merge"]]
    assert graph["memory"] is None
    assert f"{path.relative_to(ROOT)}:{add_line}" in done.stderr or f":{add_line}: build error" in done.stderr


def test_each_statement_stage_names_its_own_first_line(tmp_path):
    # The pool blames a hang on "the top-level code at line N" from these stages.
    from netviz_lsp.discovery import discover
    from netviz_lsp.engine import build_request
    from netviz_lsp.worker.build import run_build
    from netviz_lsp.worker.messages import Stage

    path = FAILURES / "mnist_rank_mismatch.py"
    source = path.read_text(encoding="utf-8")
    request = build_request(discover(source, str(path), {}), str(path), source, Settings.from_json({}))
    events: list = []
    run_build(request, events.append)
    lines = [e.line for e in events if isinstance(e, Stage) and e.stage == "statement"]
    assert lines[:2] == [line_of(path, "import keras"), line_of(path, "from keras import layers")]
    assert line_of(path, "model.add(layers.Conv2D(32") in lines


def test_a_sequential_that_never_learnt_its_input_shows_the_layers_added_before_the_failure(pool):
    path = FAILURES / "keras2_classifier.py"
    error = error_of(build(pool, path), "build_classifier")
    assert error.line == line_of(path, "RMSprop(lr=0.001)")
    graph = error.graph
    assert [(layer.id, layer.line, layer.output_shape) for layer in graph.layers] == [
        ("dense", line_of(path, "layers.Dense(64", 1), None), ("dense_1", line_of(path, "layers.Dense(64", 2), None),
        ("dense_2", line_of(path, "layers.Dense(NUM_TOPICS"), None)]
    assert graph.edges == [["dense", "dense_1"], ["dense_1", "dense_2"]]
    assert "no known input shape" in graph.build.note


def test_a_shared_encoder_is_one_expanded_node_and_a_shared_layer_one_node(pool):
    path = FAILURES / "siamese_digits.py"
    error = error_of(build(pool, path), "siamese")
    assert error.line == line_of(path, 'name="similarity"')
    graph = error.graph
    assert graph.class_name == "Functional"  # the keras.Model call was never reached
    top = [(layer.id, layer.failed) for layer in graph.layers if layer.parent is None]
    # In the order the code first used them: ``right`` first feeds the encoder's second call.
    assert top == [("left", False), ("encoder", False), ("project", False), ("right", False), ("pair", False),
                   ("similarity", True)]
    assert [layer.id for layer in graph.layers if layer.parent == "encoder"] == ["encoder/flatten", "encoder/dense"]
    assert ["left", "encoder"] in graph.edges and ["right", "encoder"] in graph.edges
    assert ["encoder", "project"] in graph.edges
    assert sorted(e[0] for e in graph.edges if e[1] == "similarity") == ["pair", "project"]
    assert graph.total_params == 28 * 28 * 32 + 32 + 32 * 16 + 16
