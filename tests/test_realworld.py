"""Code written the way tutorials and notebooks write it, built end to end with real Keras.

Each fixture in ``tests/fixtures/realworld/`` is copied to a temporary folder and built through
``Engine.build`` (discovery, the slice, the worker). The worker's HOME is an empty folder, so
anything written under ``~/.keras`` shows, and the scripts' own writes (``model.save``,
``savefig``) would land next to the copy, where the tests look for them. Totals were checked
against plain Keras 3 running the same layers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from real_builds import copy_and_build, line_of, model

from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult

REALWORLD = Path(__file__).resolve().parent / "fixtures" / "realworld"


def build(engine: Engine, tmp_path: Path, name: str, edit=None) -> tuple[FileResult, Path]:
    return copy_and_build(engine, REALWORLD / name, tmp_path, edit)


def test_a_training_script_draws_its_module_level_model_and_runs_no_data_or_training(engine, tmp_path, home):
    result, path = build(engine, tmp_path, "mnist_convnet_script.py")
    assert result.errors == []
    (convnet,) = result.models
    assert (convnet.factory, convnet.kind, convnet.line) == ("model", "variable", line_of(path, "model = keras.Sequential("))
    assert convnet.total_params == 34_826
    conv = convnet.layers[0]
    assert (conv.class_name, conv.output_shape, conv.params) == ("Conv2D", [None, 26, 26, 32], 320)
    assert conv.line == line_of(path, "layers.Conv2D(32")
    assert [layer.line for layer in convnet.layers] == sorted(layer.line for layer in convnet.layers)
    # fit, savefig and save never ran: nothing was written beside the script, nor under ~/.keras.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist_convnet_script.py"]
    assert not (home / ".keras").exists()


def test_a_missing_package_costs_only_the_model_that_needs_it(engine, tmp_path):
    result, path = build(engine, tmp_path, "missing_packages.py")
    assert model(result, "plain_model").total_params == (3 * 3 * 3 * 8 + 8) + (62 * 62 * 8 * 2 + 2)
    (error,) = result.errors
    assert (error.factory, error.kind, error.line) == ("resize_model", "build", line_of(path, "import cv2"))
    assert "No module named 'cv2'" in error.message and "pip install opencv-python" in error.message
    assert "/bin/python" in error.message  # the interpreter it looked in


def test_a_size_from_data_is_one_error_at_its_model_and_a_stand_in_makes_it_draw(engine, tmp_path):
    result, path = build(engine, tmp_path, "tabular_sizes.py")
    (error,) = result.errors
    assert (error.factory, error.kind, error.line) == ("model", "arguments", line_of(path, "model = keras.Sequential()"))
    assert "`num_features` (line 17)" in error.message and "`num_classes` (line 18)" in error.message
    assert "file read at line 10" in error.message and "# netviz: value=" in error.message

    def stand_in(source: str) -> str:
        return (source.replace("num_features = x_train.shape[1]", "num_features = x_train.shape[1]  # netviz: value=13")
                .replace("num_classes = len(np.unique(y_train))", "num_classes = len(np.unique(y_train))  # netviz: value=2"))

    result, path = build(engine, tmp_path, "tabular_sizes.py", stand_in)
    assert result.errors == []
    assert model(result, "model").total_params == (13 * 32 + 32) + (32 * 2 + 2)


def test_a_pretrained_backbone_draws_shape_only_without_a_download(engine, tmp_path, home):
    result, _ = build(engine, tmp_path, "pretrained_backbone.py")
    assert result.errors == []
    backbone, classifier = model(result, "base_model"), model(result, "model")
    assert backbone.total_params == 23_587_712
    assert classifier.total_params == 23_587_712 + 2048 + 1
    assert "pretrained weights not loaded (shape-only)" in backbone.build.note
    # its top-level ``model.load_weights(...)`` is never run: a skipped statement, not a note
    assert model(result, "efficientnet_classifier").total_params == 4_049_571 + 1280 * 5 + 5
    assert all(m.build.shape_only for m in result.models)
    assert not (home / ".keras").exists()


def test_one_generator_factory_called_twice_shows_both(engine, tmp_path):
    result, path = build(engine, tmp_path, "cyclegan.py")
    assert result.errors == []
    names = [m.factory for m in result.models]
    assert names[:4] == ["gen_G", "gen_F", "disc_X", "disc_Y"]
    assert {m.name for m in result.models[:2]} == {"generator_G", "generator_F"}
    assert [m.total_params for m in result.models[:4]] == [92_931, 92_931, 4_161, 4_161]
    assert model(result, "gen_F").line == line_of(path, "gen_F = get_resnet_generator")


def test_subclassed_models_instantiated_at_top_level_are_traced(engine, tmp_path):
    result, _ = build(engine, tmp_path, "subclassed_top_level.py")
    assert result.errors == []
    classifier, encoder = model(result, "model"), model(result, "encoder")
    assert classifier.total_params == 320 + 26 * 26 * 32 * 10 + 10
    assert [layer.class_name for layer in classifier.layers][-3:] == ["Conv2D", "Flatten", "Dense"]
    assert encoder.total_params == 784 * 64 + 64 + 64 * 8 + 8


def test_keras_datasets_give_their_shapes_without_a_download(engine, tmp_path, home):
    result, _ = build(engine, tmp_path, "datasets_shapes.py")
    assert result.errors == []
    assert model(result, "mlp").total_params == 784 * 128 + 128 + 128 * 10 + 10
    assert all("stood in" in (m.build.note or "") for m in result.models if m.factory != "text")
    assert not (home / ".keras").exists()


def test_a_loop_that_rebinds_a_name_is_never_run(engine, tmp_path):
    result, path = build(engine, tmp_path, "loop_rebinds.py")
    classifier = model(result, "make_classifier")
    assert classifier.total_params == (20 * 64 + 64) + (64 + 1)  # units = 64, before the loop
    (error,) = result.errors
    assert (error.factory, error.kind) == ("deep", "arguments")
    assert f"`depth` is set by the loop at line {line_of(path, 'for depth in')}" in error.message


def test_tutorial_calls_with_constant_expressions(engine, tmp_path):
    result, path = build(engine, tmp_path, "tutorial_calls.py")
    made = model(result, "make_model")
    assert made.inputs == [[None, 180, 180, 3]]
    (error,) = result.errors
    assert (error.factory, error.kind) == ("audio_model", "arguments")
    assert "`class_names` comes from a file read at line 30" in error.message


def test_a_model_built_in_a_distribution_strategy_scope_draws(engine, tmp_path):
    result, path = build(engine, tmp_path, "distributed_script.py")
    assert result.errors == []
    (built,) = result.models
    assert (built.factory, built.total_params) == ("model", (9 * 32 + 32) + (32 * 10 + 10))
    assert built.layers[0].line == line_of(path, "keras.layers.Conv2D(32")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["distributed_script.py"]  # no train_log.txt


@pytest.mark.parametrize("name", sorted(p.name for p in REALWORLD.glob("*.py")))
def test_every_error_is_owned_by_a_model(engine, tmp_path, name):
    result, _ = build(engine, tmp_path, name)
    assert result.models or result.errors, f"{name} found nothing"
    assert all(error.factory is not None for error in result.errors), result.errors


def test_a_script_with_argparse_draws_with_the_argument_defaults_and_its_mixed_precision_policy(engine, tmp_path):
    # The worker's own command line is not the script's: parse_args() sees no arguments, as
    # `python train.py` would, and takes the defaults (filters 32, dropout 0.3).
    result, path = build(engine, tmp_path, "argparse_script.py")
    assert result.errors == []
    (cnn,) = result.models
    assert cnn.factory == "build_model" and cnn.total_params == 20_042
    conv = next(layer for layer in cnn.layers if layer.id == "conv2d")
    assert conv.output_shape == [None, 30, 30, 32] and conv.params == 896
    # set_global_policy("mixed_float16") at the top level is part of the slice: activations are float16
    assert conv.activation_bytes == 30 * 30 * 32 * 2
    # ...and it does not leak into the next file the same worker builds
    plain, _ = build(engine, tmp_path, "argparse_script.py",
                     edit=lambda s: s.replace('keras.mixed_precision.set_global_policy("mixed_float16")\n', ""))
    assert next(layer for layer in model(plain, "build_model").layers if layer.id == "conv2d").activation_bytes == \
        30 * 30 * 32 * 4


def test_keras_configuration_calls_belong_to_every_slice():
    from netviz_lsp.discovery import discover

    source = (
        "import tensorflow as tf\nfrom keras import layers\nimport keras\n"
        "tf.keras.mixed_precision.set_global_policy('mixed_float16')\n"
        "keras.config.set_image_data_format('channels_first')\n"
        "print('not configuration')\n"
        "def build():\n    return keras.Sequential([keras.Input((3, 8, 8)), layers.Conv2D(4, 3)])\n"
        "model = keras.Sequential([keras.Input((3, 8, 8)), layers.Conv2D(4, 3)])\n"
        "keras.config.set_floatx('float16')\n"
    )
    found = discover(source)
    slices = {t.name: t.slice for t in found.factories}
    assert slices["build"] == [0, 1, 2, 3, 4, 6, 8]  # the factory runs after every statement
    assert slices["model"] == [0, 1, 2, 3, 4, 7]  # the variable: only what comes before it


def test_a_subclassed_model_called_on_a_dict_is_traced_with_named_inputs_and_any_batch(engine, tmp_path):
    """TensorFlow Recommenders' two towers: the trace's inputs carry the dict's keys (Keras then
    matches them to the call without warning about NetViz's own tensors) and the batch is any batch,
    not the 8 of the call that built it."""
    result, path = build(engine, tmp_path, "two_tower_recommender.py")
    assert result.errors == [] and result.warnings == []
    recommender = model(result, "recommender")
    # Plain Keras 3: 1000*32 + 32*32+32 and 500*32 + 32*32+32; the Dot has none.
    assert recommender.total_params == 32_000 + 1_056 + 16_000 + 1_056
    shapes = {layer.name: layer.output_shape for layer in recommender.layers if layer.parent is None}
    assert shapes == {"user_history": [None, 20], "item_tags": [None, 5], "user_tower": [None, 32],
                      "item_tower": [None, 32], "dot": [None, 1]}
    assert ["user_history", "user_tower"] in recommender.edges and ["item_tags", "item_tower"] in recommender.edges
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no data read, no training
