"""Top-level loops as scripts write them, built for real.

A ``for`` loop over the script's own values that changes something made before it (adds
layers, appends to a list, updates a dict, freezes a backbone's layers through its loop
variable) runs, as Python runs it. Any other loop never runs (a sweep that only rebinds
names: ``test_realworld.py``'s ``loop_rebinds.py``), and a loop that never runs yet changes a
list a model reads is the value's origin in the error, never passed over for the empty list
made before it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from real_builds import copy_and_build, line_of, model

from netviz_lsp.discovery import discover

LOOPS = Path(__file__).resolve().parent / "fixtures" / "loops"


def test_stacks_grown_in_loops_over_the_config_draw_every_layer(engine, tmp_path):
    result, path = copy_and_build(engine, LOOPS / "loop_built_stacks.py", tmp_path)
    assert result.errors == []
    mlp = model(result, "model")
    # Plain Keras 3, features=42 after config.update: Dense 42*256+256, BN 4*256, Dense 256*128+128,
    # BN 4*128, Dense 128*64+64, BN 4*64, Dense 64+1; the BNs' moving statistics do not train.
    assert (mlp.total_params, mlp.trainable_params) == (54_017, 54_017 - 2 * (256 + 128 + 64))
    assert [layer.class_name for layer in mlp.layers] == ["Dense", "BatchNormalization", "Dropout"] * 3 + ["Dense"]
    assert mlp.inputs == [[None, 42]]
    assert {layer.line for layer in mlp.layers if layer.class_name == "Dense"} == {
        line_of(path, "model.add(layers.Dense(units"), line_of(path, "model.add(layers.Dense(1")}
    signal = model(result, "signal")
    # Conv1D 3*1*16+16, 3*16*16+16, 3*16*32+32; Dense 32+1 (nested loops over zip and range)
    assert signal.total_params == 64 + 784 + 1_568 + 33
    assert [layer.class_name for layer in signal.layers] == [
        "Conv1D", "Conv1D", "MaxPooling1D", "Conv1D", "MaxPooling1D", "GlobalAveragePooling1D", "Dense"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no CSV read, no training


def test_a_backbone_frozen_in_a_loop_counts_its_frozen_layers(engine, tmp_path):
    import keras

    result, path = copy_and_build(engine, LOOPS / "transfer_freeze.py", tmp_path)
    assert result.errors == []
    base = keras.applications.MobileNetV2(input_shape=(160, 160, 3), include_top=False, weights=None)
    for layer in base.layers[:100]:
        layer.trainable = False
    trainable = sum(int(w.numpy().size) for w in base.trainable_weights)
    drawn = model(result, "model")
    assert drawn.total_params == base.count_params() + 1_281
    assert drawn.trainable_params == trainable + 1_281 and trainable < base.count_params()


def test_windows_appended_in_a_loop_over_data_are_one_error_and_a_stand_in_draws(engine, tmp_path):
    result, path = copy_and_build(engine, LOOPS / "stock_lstm.py", tmp_path)
    (error,) = result.errors
    reshape = line_of(path, "x_train = np.reshape(")
    assert (error.factory, error.kind, error.line) == ("model", "arguments", line_of(path, "model = Sequential()"))
    assert f"Add `# netviz: value=...` on line {reshape}" in error.message
    assert "comes from a file read at line" in error.message

    def stand_in(text: str) -> str:
        lines = text.splitlines()
        lines[reshape - 1] += "  # netviz: value=np.zeros((2000, 60, 1))"
        return "\n".join(lines) + "\n"
    (tmp_path / "stood_in").mkdir()
    drawn, _ = copy_and_build(engine, LOOPS / "stock_lstm.py", tmp_path / "stood_in", stand_in)
    assert drawn.errors == []
    # LSTM(128) on 1 feature: 4*(128*(1+128)+128); LSTM(64): 4*(64*(128+64)+64); Dense 64*25+25, 25+1
    assert model(drawn, "model").total_params == 66_560 + 49_408 + 1_625 + 26


def test_a_list_filled_by_a_loop_that_never_runs_is_not_passed_over(engine, tmp_path):
    result, path = copy_and_build(engine, LOOPS / "class_folders.py", tmp_path)
    (error,) = result.errors
    assert error.line == line_of(path, "model = keras.Sequential(")
    assert f"`class_names`, which is set by the loop at line {line_of(path, 'for entry in')}" in error.message
    assert f"on line {line_of(path, 'num_classes = len(')}" in error.message


@pytest.mark.parametrize("loop, runs", [
    ("for units in [64, 32]:\n    model.add(layers.Dense(units))\n", True),
    ("for i, units in enumerate(HIDDEN):\n    model.add(layers.Dense(units, name=f'd{i}'))\n", True),
    ("for layer in model.layers[:1]:\n    layer.trainable = False\n", True),
    ("for k in ['units']:\n    CONFIG[k] = 8\n", True),
    ("for units in [64, 32]:\n    other = layers.Dense(units)\n", False),  # rebinds only: a sweep
    ("for batch in ds.take(1):\n    model.add(layers.Dense(1))\n", False),  # iterates data
    ("for units in HIDDEN:\n    model.add(layers.Dense(units))\n    model.fit(x, y)\n", False),  # trains
    ("while len(model.layers) < 3:\n    model.add(layers.Dense(4))\n", False),
])
def test_which_loops_run(loop, runs):
    source = ("import keras\nfrom keras import layers\n\nHIDDEN = [8, 4]\nCONFIG = {'units': 2}\n"
              "model = keras.Sequential([keras.Input((4,))])\n" + loop + "model.add(layers.Dense(CONFIG['units']))\n")
    found = discover(source)
    loop_index = 5
    assert (loop_index in found.slice) == runs, found.errors


def test_a_functional_network_chained_through_a_loop_draws_every_stage(engine, tmp_path):
    """``x = layer(x)`` in a loop carries ``x`` from pass to pass: the loop runs. Before, the loop was
    passed over and the model drawn without its stages, silently."""
    result, path = copy_and_build(engine, LOOPS / "xception_mini_script.py", tmp_path)
    assert result.errors == []
    net = model(result, "model")
    # The same layers as tests/fixtures/tutorials/image_classification_scratch.py's make_model (whose
    # augmentation has no weights): plain Keras 3 counts 2,731,065.
    assert net.total_params == 2_731_065
    assert sum(layer.class_name == "SeparableConv2D" for layer in net.layers) == 7
    assert sum(layer.class_name == "Add" for layer in net.layers) == 3
    loop_line = line_of(path, 'x = layers.SeparableConv2D(size, 3, padding="same")(x)')
    assert sum(layer.line == loop_line for layer in net.layers) == 3  # one per pass, at the loop's line
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_chain_through_a_loop_that_never_runs_is_an_error_not_a_shorter_model():
    source = ("import numpy as np\nimport keras\nfrom keras import layers\n\n"
              "inputs = keras.Input((32, 32, 3))\nx = inputs\n"
              "for filters in np.random.choice([16, 32], size=3):\n"
              "    x = layers.Conv2D(int(filters), 3)(x)\n"
              "model = keras.Model(inputs, layers.Flatten()(x))\n")
    (error,) = discover(source).errors
    assert error.factory == "model" and "`x` is set by the loop at line 7" in error.message
    chained = source.replace("np.random.choice([16, 32], size=3)", "(16, 32, 32)")
    assert discover(chained).errors == [] and 6 in discover(chained).slice


# -- subclassed models first called by a custom training loop -------------------------------------

@pytest.mark.parametrize("name, total, shape", [
    # Conv2D 3*3*1*32+32; Dense 21632*128+128; Dense 128*10+10 (TensorFlow's own figures)
    ("experts_quickstart.py", 320 + 2_769_024 + 1_290, [None, 28, 28, 1]),
    # Dense 784*64+64, 64*64+64, 64*10+10
    ("training_loop_from_scratch.py", 50_240 + 4_160 + 650, [None, 784]),
])
def test_a_subclassed_model_trained_by_a_custom_loop_is_built_from_the_loops_data(engine, tmp_path, name, total, shape):
    """The loop never runs; it stands in as the model's first call, on one batch of the array its
    dataset slices (followed through the training step's parameter, or enumerate's tuple)."""
    result, path = copy_and_build(engine, LOOPS / name, tmp_path)
    assert result.errors == [] and result.warnings == []  # NetViz's own call makes Keras warn about nothing
    net = model(result, "model")
    assert net.total_params == total
    assert net.inputs == [shape]
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_dataset_that_maps_its_elements_gives_no_first_call():
    source = (LOOPS / "training_loop_from_scratch.py").read_text().replace(
        ".shuffle(buffer_size=1024)", ".map(lambda x, y: (x / 255.0, y)).shuffle(buffer_size=1024)")
    found = discover(source)
    (net,) = found.factories
    loop = next(i for i, line in enumerate(source.splitlines(), 1) if line.startswith("for epoch"))
    assert all(found.replacements.get(i, "").find("Input(") < 0 for i in net.slice), "a mapped dataset was followed"
    assert net.line < loop
