"""Real builds in a real worker: every model kind, and every bad input, through ``Engine.build``.

One warm worker serves the whole module (the timeout and crash tests replace it,
which is part of what they test).
"""

from __future__ import annotations

import re
from pathlib import Path

from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult, ModelGraph
from netviz_lsp.settings import Settings
from netviz_lsp.worker.pool import BuildPool

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BAD = Path(__file__).resolve().parent / "fixtures" / "bad"


def build(pool: BuildPool, path: Path, **build_settings) -> FileResult:
    settings = Settings.from_json({"build": build_settings})
    return Engine(pool).build(str(path), path.read_text(encoding="utf-8"), settings)


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``text``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return hits[occurrence - 1]


def layer(model: ModelGraph, layer_id: str):
    return next(layer for layer in model.layers if layer.id == layer_id)


# -- the article's CNNs ----------------------------------------------------------------------

def test_seed_cnns_match_the_article(pool):
    path = EXAMPLES / "seed_cnns.py"
    result = build(pool, path)
    assert result.errors == []
    params = {m.factory: m.total_params for m in result.models}
    assert params == {"construct_model": 63_021_004, "sconstruct_model": 5_277_260, "cconstruct_model": 5_074_156}

    first = result.model("construct_model")
    conv = first.layers[0]
    assert (conv.id, conv.class_name, conv.output_shape, conv.params, conv.activation) == (
        "conv2d", "Conv2D", [None, 126, 126, 64], 640, "relu")
    assert conv.line == line_of(path, "model.add(layers.Conv2D(64", 1)
    assert conv.call_lines == [conv.line]
    assert first.inputs == [[None, 128, 128, 1]] and first.outputs == [[None, 12]]
    assert first.build.shape_only is True
    assert first.weights_bytes == 63_021_004 * 4
    assert [l.id for l in first.layers] == [
        "conv2d", "conv2d_1", "max_pooling2d", "dropout", "flatten", "dense", "dropout_1", "dense_1"]
    assert first.edges[0] == ["conv2d", "conv2d_1"] and len(first.edges) == 7
    assert layer(first, "flatten").output_shape == [None, 246016]


def test_batch_norm_counts_as_non_trainable(pool):
    model = build(pool, EXAMPLES / "seed_cnns.py").model("sconstruct_model")
    assert model.inputs == [[None, 128, 128, 3]]
    bn = layer(model, "batch_normalization")
    assert (bn.params, bn.trainable_params) == (32, 16)
    assert model.non_trainable_params == 2 * (8 + 16 + 16 + 32)
    assert model.trainable_params + model.non_trainable_params == 5_277_260


def test_layers_added_in_a_loop_share_the_loop_line(pool):
    path = EXAMPLES / "seed_cnns.py"
    model = build(pool, path).model("cconstruct_model")
    conv_line = line_of(path, "model.add(layers.Conv2D(filters")
    convs = [l for l in model.layers if l.class_name == "Conv2D"]
    assert [l.output_shape for l in convs] == [
        [None, 128, 128, 32], [None, 64, 64, 32], [None, 32, 32, 128], [None, 16, 16, 256]]
    assert {l.line for l in convs} == {conv_line}
    assert len(model.layers_at_line(conv_line)) == 4


# -- functional, multi-io, nested, subclassed, applications ----------------------------------

def test_functional_unet_has_skip_connections_and_helper_lines(pool):
    path = EXAMPLES / "unet.py"
    model = build(pool, path).model("unet")
    assert model.total_params == 481_745
    assert model.inputs == [[None, 128, 128, 1]] and model.outputs == [[None, 128, 128, 1]]
    helper_line = line_of(path, "x = layers.Conv2D(filters", 1)
    first_call = line_of(path, "x = conv_block(x, base * 2**level)")
    conv = layer(model, "conv2d")
    assert conv.line == helper_line and conv.call_lines == [helper_line, first_call]
    # The first concatenate joins the up-sampled path and the deepest skip.
    inbound = sorted(src for src, dst in model.edges if dst == "concatenate")
    assert inbound == ["conv2d_5", "conv2d_transpose"]
    assert layer(model, "mask").output_shape == [None, 128, 128, 1]


def test_multiple_inputs_and_outputs(pool):
    model = build(pool, EXAMPLES / "multi_io.py").model("ticket_classifier")
    assert model.inputs == [[None, None], [None, None], [None, 12]]
    assert model.outputs == [[None, 1], [None, 4]]
    assert model.total_params == 1_392_097
    assert sorted(src for src, dst in model.edges if dst == "concatenate") == ["lstm", "lstm_1", "tags"]
    assert layer(model, "lstm").output_shape == [None, 128]


def test_nested_sequential_block_reused_twice(pool):
    path = EXAMPLES / "nested.py"
    model = build(pool, path).model("siamese")
    block = layer(model, "shared_features")
    assert block.is_model and block.class_name == "Sequential" and block.params == 512
    inner = [l for l in model.layers if l.parent == "shared_features"]
    assert [l.id for l in inner] == [
        "shared_features/conv2d", "shared_features/batch_normalization",
        "shared_features/global_average_pooling2d"]
    assert inner[0].output_shape == [None, 32, 32, 16]
    assert inner[0].call_lines == [line_of(path, "layers.Conv2D(16"), line_of(path, "block = feature_block()")]
    assert ["left", "shared_features"] in model.edges and ["right", "shared_features"] in model.edges
    assert ["shared_features/conv2d", "shared_features/batch_normalization"] in model.edges
    assert model.total_params == 512 + 17  # shared weights count once


def test_subclassed_model_is_traced_through_call(pool):
    path = EXAMPLES / "subclassed.py"
    model = build(pool, path).model("residual_mlp")
    assert model.class_name == "ResidualMLP" and model.total_params == 55_050
    assert [l.class_name for l in model.layers] == ["InputLayer", "Dense", "Dense", "Add", "Dense"]
    assert layer(model, "dense").line == line_of(path, "self.inner = layers.Dense")
    assert sorted(src for src, dst in model.edges if dst == "add") == ["dense", "dense_1"]
    assert model.outputs == [[None, 10]]


def test_unbuilt_models_say_what_is_missing(pool, tmp_path):
    path = tmp_path / "unbuilt.py"
    path.write_text(
        "import keras\n\n\n"
        "class Tiny(keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.d = keras.layers.Dense(3)\n\n"
        "    def call(self, x):\n"
        "        return self.d(x)\n\n\n"
        "def tiny():\n"
        "    return Tiny()\n\n\n"
        "def no_input():\n"
        "    return keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(2)])\n"
    )
    result = build(pool, path)
    assert result.errors == []
    assert "model.build(input_shape)" in result.model("tiny").build.note
    no_input = result.model("no_input")
    assert "keras.Input" in no_input.build.note
    assert [l.output_shape for l in no_input.layers] == [None, None]
    assert no_input.edges == [["dense", "dense_1"]]


def test_keras_applications_build_shape_only(pool):
    result = build(pool, EXAMPLES / "applications.py")
    assert result.errors == []
    resnet, effnet = result.model("resnet50"), result.model("efficientnet_b0")
    assert (len(resnet.layers), resnet.total_params) == (177, 25_636_712)
    assert (len(effnet.layers), effnet.total_params) == (240, 5_330_571)
    assert resnet.build.shape_only and effnet.build.shape_only
    assert resnet.outputs == [[None, 1000]]
    flowers = result.model("mobilenet_head")
    assert flowers.outputs == [[None, 5]] and flowers.total_params == 2_264_389


def test_the_slice_skips_training_and_downloads(pool, tmp_path):
    result = build(pool, EXAMPLES / "train_script.py")
    assert result.errors == []
    model = result.model("mnist_mlp")
    # HIDDEN = 256 is in the slice; the download, fit() and the SystemExit are not.
    assert layer(model, "dense").output_shape == [None, 256]
    assert model.total_params == 203_530


def test_layer_names_stay_stable_across_rebuilds(pool):
    ids = [[l.id for l in build(pool, EXAMPLES / "seed_cnns.py").model("sconstruct_model").layers] for _ in range(2)]
    assert ids[0] == ids[1] and ids[0][0] == "conv2d"


def test_workspace_modules_are_reimported(pool, tmp_path):
    (tmp_path / "blocks.py").write_text("WIDTH = 8\n")
    path = tmp_path / "uses_blocks.py"
    path.write_text(
        "import keras\nimport blocks\n\n\ndef model():\n"
        "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(blocks.WIDTH)])\n")
    assert build(pool, path).model("model").total_params == 4 * 8 + 8
    (tmp_path / "blocks.py").write_text("WIDTH = 16\n")
    assert build(pool, path).model("model").total_params == 4 * 16 + 16


def test_a_model_inside_a_returned_tuple_is_used(pool, tmp_path):
    path = tmp_path / "pair.py"
    path.write_text("import keras\n\n\ndef pair():\n"
                    "    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])\n"
                    "    return m, 'history'\n")
    assert build(pool, path).model("pair").total_params == 15


# -- bad input -------------------------------------------------------------------------------

def test_syntax_error(pool):
    result = build(pool, BAD / "syntax_error.py")
    assert result.models == []
    (error,) = result.errors
    assert error.kind == "syntax" and error.factory is None
    assert error.line == line_of(BAD / "syntax_error.py", "model = keras.Sequential([")
    assert "never closed" in error.message


def test_factories_that_raise_report_keras_message_at_the_line(pool):
    path = BAD / "raises.py"
    result = build(pool, path)
    errors = {e.factory: e for e in result.errors}
    adam = errors["article_adam"]
    assert adam.kind == "build" and adam.line == line_of(path, "Adam(lr=0.001)")
    assert "Argument(s) not recognized: {'lr': 0.001}" in adam.message
    mismatch = errors["shape_mismatch"]
    assert mismatch.kind == "build" and mismatch.line == line_of(path, "layers.Add()([a, b])")
    assert "shape" in mismatch.message.lower()
    assert [m.factory for m in result.models] == ["good"]


def test_missing_arguments_name_the_parameters(pool):
    path = BAD / "needs_args.py"
    result = build(pool, path)
    (error,) = result.errors
    assert (error.kind, error.factory, error.line) == ("arguments", "build_mlp", line_of(path, "def build_mlp"))
    assert "units, depth" in error.message
    assert [m.factory for m in result.models] == ["fine"]
    # Settings supply them.
    result = build(pool, path, factoryArgs={"build_mlp": [32, 2]})
    assert result.errors == []
    assert result.model("build_mlp").total_params == (16 * 32 + 32) + (32 * 32 + 32)


def test_a_hang_times_out_at_its_line_and_the_rest_still_builds(pool):
    path = BAD / "hang.py"
    result = build(pool, path, timeoutSeconds=4)
    (error,) = result.errors
    assert (error.kind, error.factory) == ("timeout", "spins")
    assert error.line in (line_of(path, "while True:"), line_of(path, "pass"))
    assert "4 s" in error.message
    assert result.model("after_the_hang").total_params == 4 * 7 + 7


def test_crashes_report_status_or_signal_and_the_pool_survives(pool):
    path = BAD / "crash.py"
    result = build(pool, path)
    errors = {e.factory: e for e in result.errors}
    assert {e.kind for e in errors.values()} == {"crash"}
    assert "status 3" in errors["exits"].message
    assert "SIGABRT" in errors["aborts"].message
    assert errors["aborts"].line == line_of(path, "os.abort()")
    assert "SIGSEGV" in errors["segfaults"].message
    assert errors["segfaults"].line == line_of(path, "ctypes.string_at(0)")
    assert result.model("survivor").total_params == 25
    assert build(pool, EXAMPLES / "subclassed.py").model("residual_mlp").total_params == 55_050


def test_no_factories_is_empty_not_an_error(pool):
    result = build(pool, BAD / "no_factories.py")
    assert result.models == [] and result.errors == []


def test_memory_error_is_its_own_kind(pool, tmp_path):
    path = tmp_path / "greedy.py"
    path.write_text("import keras\nimport numpy as np\n\n\ndef greedy() -> keras.Model:\n"
                    "    grid = np.ones((10**6, 10**6))\n    return grid\n")
    (error,) = build(pool, path).errors
    assert (error.kind, error.line) == ("memory", 6)


def test_returning_none_is_reported(pool, tmp_path):
    path = tmp_path / "forgot.py"
    path.write_text("import keras\n\n\ndef forgot():\n    model = keras.Sequential([keras.Input((4,))])\n")
    (error,) = build(pool, path).errors
    assert error.kind == "build" and error.line == 4 and "return model" in error.message


def test_top_level_code_that_raises_is_reported_at_its_line(pool, tmp_path):
    path = tmp_path / "top.py"
    path.write_text("import keras\nWIDTH = 1 / 0\n\n\ndef model():\n"
                    "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(WIDTH)])\n")
    (error,) = build(pool, path).errors
    assert (error.kind, error.line, error.factory) == ("build", 2, "model")  # owned by the model it costs
    assert re.search("ZeroDivisionError", error.message)


# -- reuse -----------------------------------------------------------------------------------

def test_unchanged_factories_are_not_built_again(pool, tmp_path):
    engine = Engine(pool)
    path = tmp_path / "cnns.py"
    source = (EXAMPLES / "seed_cnns.py").read_text()
    path.write_text(source)
    settings = Settings()
    first = engine.build(str(path), source, settings)
    assert not any(m.build.cached for m in first.models)
    builds = pool.builds
    # A comment at the end changes no slice: nothing is built.
    again = engine.build(str(path), source + "\n# tweak\n", settings)
    assert pool.builds == builds
    assert [m.total_params for m in again.models] == [m.total_params for m in first.models]
    assert all(m.build.cached for m in again.models)
    # Editing one factory rebuilds that one only.
    edited = source.replace("layers.Dense(1024", "layers.Dense(512")
    third = engine.build(str(path), edited, settings)
    assert pool.builds == builds + 1
    assert {m.factory: m.build.cached for m in third.models} == {
        "construct_model": True, "sconstruct_model": True, "cconstruct_model": False}
    assert third.model("cconstruct_model").total_params == 5_074_156 - 512 * (4096 + 1 + 12)
    # A line shift above a factory changes its layers' lines, so it is rebuilt.
    shifted = engine.build(str(path), "\n" + edited, settings)
    assert not any(m.build.cached for m in shifted.models)
    assert shifted.model("construct_model").layers[0].line == 21


def test_an_imported_workspace_module_change_invalidates_the_reuse(pool, tmp_path):
    engine = Engine(pool)
    (tmp_path / "widths.py").write_text("WIDTH = 8\n")
    path = tmp_path / "model.py"
    source = ("import keras\nfrom widths import WIDTH\n\n\ndef model():\n"
              "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(WIDTH)])\n")
    path.write_text(source)
    assert engine.build(str(path), source, Settings()).models[0].total_params == 40
    import os
    (tmp_path / "widths.py").write_text("WIDTH = 16\n")
    os.utime(tmp_path / "widths.py", ns=(1, 10**18))  # a different mtime whatever the clock
    assert engine.build(str(path), source, Settings()).models[0].total_params == 80


def test_a_declared_factory_returning_a_non_model_is_an_error_and_an_inferred_one_is_dropped(pool, tmp_path):
    path = tmp_path / "non_models.py"
    path.write_text(
        "import keras\n\n\n"
        "def declared() -> keras.Model:\n    return 3\n\n\n"
        "def count_layers():\n    return len(keras.Sequential([keras.Input((4,))]).layers)\n")
    result = build(pool, path)
    assert result.models == []
    (error,) = result.errors
    assert (error.kind, error.factory, error.line) == ("build", "declared", 4)
    assert error.message == "declared() returned int, not a Keras model"
