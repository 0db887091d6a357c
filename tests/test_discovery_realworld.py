"""Discovery on the scripts people write: models at module level, data, loops, missing packages.

The fixtures in ``tests/fixtures/realworld/`` are written the way public Keras examples are.
Pure ``ast``: nothing here imports Keras; the real builds of these files are the worker's tests.
"""

from __future__ import annotations

import ast
import textwrap
import traceback
from pathlib import Path

import pytest

from netviz_lsp.discovery import Discovery, Factory, Target, discover, slice_module

FIXTURES = Path(__file__).parent / "fixtures" / "realworld"


def load(name: str, edit=None) -> tuple[str, Discovery]:
    source = (FIXTURES / name).read_text()
    if edit:
        source = edit(source)
    return source, discover(source, str(FIXTURES / name))


def target(found: Discovery, name: str) -> Factory:
    return next(t for t in found.factories if t.name == name)


def lines(source: str, indexes) -> list[int]:
    body = ast.parse(source).body
    return [body[i].lineno for i in sorted(indexes)]


def skipped_lines(source: str, found: Discovery) -> dict[int, str]:
    body = ast.parse(source).body
    return {body[i].lineno: reason for i, reason in found.skipped.items()}


def first_lines(source: str, indexes) -> list[str]:
    text = source.splitlines()
    return [text[n - 1].strip() for n in lines(source, indexes)]


# -- a training script with no function ------------------------------------------------------

def test_training_script_shows_its_module_level_model_and_runs_no_data_or_training():
    source, found = load("mnist_convnet_script.py")
    assert found.errors == []
    [model] = found.factories
    assert (model.name, model.kind, model.line, model.end_line, model.expr) == ("model", "variable", 25, 41, "model")
    assert (model.args, model.args_origin, model.params, model.buildable) == ("", None, [], True)
    assert Target is Factory
    # Built from the assignment up to compile(); summary() and fit() are no part of it.
    assert lines(source, [model.start, model.after]) == [25, 41]
    assert first_lines(source, model.slice) == [
        "import keras", "from keras import layers", "num_classes = 10", "input_shape = (28, 28, 1)",
        "model = keras.Sequential(", 'model.compile(loss="categorical_crossentropy", optimizer="adam", '
        'metrics=["accuracy"])']
    assert skipped_lines(source, found) == {
        37: "plots", 42: "trains", 44: "trains", 48: "plots", 49: "plots", 50: "writes files", 51: "trains"}
    assert found.slice == model.slice  # numpy and matplotlib are imported, but nothing needs them


def test_a_name_assigned_a_model_twice_gives_two_targets():
    source = textwrap.dedent('''
        import keras
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile(loss="mse")
        model.fit([], [])
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        model.add(keras.layers.Dense(1))
        for width in np.random.randint(8, 16, size=2):  # random widths: not the script's own values
            model.add(keras.layers.Dense(width))
    ''').lstrip()
    found = discover(source)
    first, second = found.factories
    assert [(t.name, t.line, t.start, t.after) for t in found.factories] == [
        ("model", 2, 1, 2), ("model@5", 5, 4, 5)]
    assert first.buildable and not second.buildable
    assert second.blocked.message == (
        "`model@5` is changed by the loop at line 7, which NetViz does not run (loop). "
        "Build the model without it (or in a function) to preview it.")
    assert [(e.factory, e.line) for e in found.errors] == [("model@5", 5)]


# -- data-driven sizes -----------------------------------------------------------------------

def test_sizes_from_a_file_block_the_model_with_one_error_naming_each_value_and_line():
    source, found = load("tabular_sizes.py")
    [model] = found.factories
    assert not model.buildable and found.slice == []
    assert found.errors == [model.blocked]
    error = model.blocked
    assert (error.kind, error.factory, error.line) == ("arguments", "model", 21)
    assert error.message == (
        "`num_features` (line 17) needs `df`, which comes from a file read at line 10; NetViz does not run "
        "that. Add `# netviz: value=...` on line 17 to stand in for it. Also: `num_classes` (line 18) needs "
        "`df`, which comes from a file read at line 10; NetViz does not run that. Add `# netviz: value=...` "
        "on line 18 to stand in for it.")
    assert found.stand_ins == {"model": [("num_features", 17), ("num_classes", 18)]}
    assert skipped_lines(source, found) == {10: "reads files", 11: "plots", 26: "trains"}


def test_value_comments_stand_in_and_the_model_draws_without_the_data():
    def stand_in(source: str) -> str:
        return (source.replace("num_features = x_train.shape[1]", "num_features = x_train.shape[1]  # netviz: value=13")
                .replace("len(np.unique(y_train))", "len(np.unique(y_train))  # netviz: value=2"))
    source, found = load("tabular_sizes.py", stand_in)
    [model] = found.factories
    assert model.buildable and found.errors == [] and found.stand_ins == {}
    assert {lines(source, [i])[0]: text for i, text in found.replacements.items()} == {
        17: "num_features = 13", 18: "num_classes = 2"}
    assert first_lines(source, model.slice) == [
        "from tensorflow import keras", "num_features = x_train.shape[1]  # netviz: value=13",
        "num_classes = len(np.unique(y_train))  # netviz: value=2", "hidden = 32", "model = keras.Sequential()",
        "model.add(keras.Input(shape=(num_features,)))", 'model.add(keras.layers.Dense(hidden, activation="relu"))',
        'model.add(keras.layers.Dense(num_classes, activation="softmax"))',
        'model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")']
    namespace: dict = {}
    module = slice_module(source, model.slice[1:4], "tabular.py", found.replacements)
    exec(compile(module, "tabular.py", "exec"), namespace)
    assert (namespace["num_features"], namespace["num_classes"], namespace["hidden"]) == (13, 2, 32)


def test_tuple_stand_ins_and_a_value_that_is_not_python():
    source = textwrap.dedent('''
        import keras
        import pandas as pd
        rows, cols = pd.read_csv("x.csv").shape  # netviz: value=(100, 7)
        classes = pd.read_csv("y.csv").nunique()  # netviz: value=(
        model = keras.Sequential([keras.Input((cols,)), keras.layers.Dense(classes)])
    ''').lstrip()
    found = discover(source)
    assert found.replacements == {2: "rows, cols = (100, 7)"}
    [model] = found.factories
    assert model.blocked.message.startswith(
        "`classes` comes from a file read at line 4; NetViz does not run it. Add `# netviz: value=...` on that "
        "line to stand in for it. (`# netviz: value=(` on line 4 is not a Python expression")
    assert found.stand_ins == {"model": [("classes", 4)]}


def test_slice_module_puts_a_stand_in_on_its_statements_line():
    source = "import math\nwidth = (\n    len(open('w').read())  # netviz: value=1 / 0\n)\n"
    found = discover(source, factory_args={})
    assert found.replacements == {1: "width = 1 / 0"}
    code = compile(slice_module(source, [0, 1], "w.py", found.replacements), "w.py", "exec")
    with pytest.raises(ZeroDivisionError) as raised:
        exec(code, {})
    assert traceback.extract_tb(raised.value.__traceback__)[-1].lineno == 2


# -- loops -----------------------------------------------------------------------------------

def test_a_loop_that_rebinds_a_name_is_passed_over_and_one_that_only_binds_it_blocks():
    source, found = load("loop_rebinds.py")
    classifier, deep = found.factories
    assert (classifier.name, classifier.kind, classifier.buildable) == ("make_classifier", "factory", True)
    assert first_lines(source, classifier.slice) == [
        "import keras", "from keras import layers", "units = 64", "dropout = 0.2", "def make_classifier():"]
    assert (deep.name, deep.buildable, deep.blocked.line) == ("deep", False, 26)
    assert deep.blocked.message == (
        "`depth` is set by the loop at line 23; NetViz does not run it. "
        "Give `depth` a value before the loop to preview this model.")
    assert found.stand_ins == {}  # a loop takes no ``value=`` comment
    assert skipped_lines(source, found) == {19: "loop", 23: "loop"}


# -- imports ---------------------------------------------------------------------------------

def test_only_the_imports_a_model_needs_are_in_its_slice():
    source, found = load("missing_packages.py")
    resize, plain = found.factories
    assert first_lines(source, resize.slice)[:3] == ["import cv2", "import keras", "from keras import layers"]
    assert first_lines(source, plain.slice) == [
        "import keras", "from keras import layers", "PATCH = 64", "def plain_model():"]
    union = first_lines(source, found.slice)
    assert "import seaborn as sns" not in union and "from IPython.display import display" not in union
    assert skipped_lines(source, found) == {24: "plots", 25: "plots"}


# -- pretrained backbones --------------------------------------------------------------------

def test_a_pretrained_backbone_at_module_level_and_in_a_factory():
    source, found = load("pretrained_backbone.py")
    assert [(t.name, t.kind, t.line) for t in found.factories] == [
        ("base_model", "variable", 9), ("model", "variable", 18), ("efficientnet_classifier", "factory", 24)]
    base, model, factory = found.factories
    assert lines(source, [base.start, base.after]) == [9, 10]  # ``base_model.trainable = False``
    assert lines(source, [model.start, model.after]) == [18, 20]
    assert set(base.slice) < set(model.slice)
    assert (factory.args, factory.args_origin, factory.expr) == ("", "defaults", "efficientnet_classifier()")
    assert skipped_lines(source, found) == {21: "trains"}  # load_weights
    assert found.errors == []


# -- one factory, several calls --------------------------------------------------------------

def test_a_gan_file_shows_each_call_of_its_factories_and_not_the_factories_themselves():
    source, found = load("cyclegan.py")
    assert [(t.name, t.kind, t.line) for t in found.factories] == [
        ("gen_G", "variable", 47), ("gen_F", "variable", 48), ("disc_X", "variable", 49),
        ("disc_Y", "variable", 50), ("cycle_gan_model", "variable", 67)]
    assert all(t.buildable for t in found.factories) and found.errors == []
    gen_g = target(found, "gen_G")
    assert first_lines(source, gen_g.slice) == [
        "import keras", "from keras import layers", "input_img_size = (256, 256, 3)",
        "kernel_init = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)",
        "gamma_init = keras.initializers.RandomNormal(mean=0.0, stddev=0.02)",
        "def residual_block(x, activation, kernel_size=(3, 3), gamma_initializer=gamma_init):",
        "def get_resnet_generator(filters=64, num_residual_blocks=2, gamma_initializer=gamma_init, name=None):",
        'gen_G = get_resnet_generator(name="generator_G")']
    assert lines(source, [target(found, "cycle_gan_model").after]) == [68]  # compile()
    assert skipped_lines(source, found) == {9: "downloads", 69: "trains", 71: "plots", 72: "plots"}


def test_a_factory_called_once_at_top_level_is_one_target_marked_or_set_or_not():
    source = textwrap.dedent('''
        import keras
        def build(units=4):  # netviz: preview
            return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
        def other(units=4):
            return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
        def unused(units=2):
            return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
        small = build(units=1)
        tiny = other(1)
    ''').lstrip()
    found = discover(source, factory_args={"other": [7]})
    assert [(t.name, t.kind, t.args, t.args_origin) for t in found.factories] == [
        ("build", "factory", "units=1", "call"), ("other", "factory", "7", "settings"),
        ("unused", "factory", "", "defaults")]


def test_a_helper_called_only_inside_a_class_is_no_target_and_no_error():
    source = textwrap.dedent('''
        import keras
        def conv_block(filters, kernel):
            return keras.Sequential([keras.layers.Conv2D(filters, kernel), keras.layers.ReLU()])
        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.block = conv_block(8, 3)
            def call(self, x):
                return self.block(x)
        net = Net()
        net.build((None, 32, 32, 3))
    ''').lstrip()
    found = discover(source)
    assert [(t.name, t.kind, t.start, t.after) for t in found.factories] == [("net", "variable", 3, 4)]
    assert found.errors == []


# -- subclassed models -----------------------------------------------------------------------

def test_subclassed_models_at_top_level_end_at_their_build_or_call_on_an_input():
    source, found = load("subclassed_top_level.py")
    model, encoder = found.factories
    assert (model.name, model.line, model.end_line, model.declared) == ("model", 28, 29, True)
    assert lines(source, model.slice) == [3, 4, 7, 28, 29]
    assert (encoder.name, encoder.line, encoder.end_line) == ("encoder", 32, 34)
    assert lines(source, encoder.slice) == [3, 4, 18, 32, 33, 34]
    assert skipped_lines(source, found) == {30: "plots"}


# -- tutorial calls --------------------------------------------------------------------------

def test_tutorial_calls_with_constant_expressions_and_sizes_from_a_folder_listing():
    source, found = load("tutorial_calls.py")
    model, audio = found.factories
    # The file's one call gives the factory its arguments, a constant expression the worker
    # evaluates after the slice defined ``image_size``.
    assert (model.name, model.kind, model.buildable) == ("make_model", "factory", True)
    assert (model.args, model.args_origin) == ("input_shape=image_size + (3,), num_classes=2", "call")
    assert first_lines(source, model.slice) == [
        "import keras", "from keras import layers", "image_size = (180, 180)",
        "def make_model(input_shape, num_classes):"]
    # ``len(class_names)`` is no constant: the call is built as the variable it assigns.
    assert (audio.name, audio.buildable, audio.blocked.line) == ("audio_model", False, 41)
    assert audio.blocked.message == (
        "`class_names` comes from a file read at line 30; NetViz does not run it. "
        "Add `# netviz: value=...` on that line to stand in for it.")
    assert found.stand_ins == {"audio_model": [("class_names", 30)]}
    assert skipped_lines(source, found) == {12: "reads files", 28: "plots", 30: "reads files"}


def test_keras_datasets_are_stood_in_however_they_are_spelled():
    source, found = load("datasets_shapes.py")
    assert {lines(source, [i])[0]: text for i, text in found.replacements.items()} == {
        10: "(x_train, y_train), (x_test, y_test) = __netviz_dataset__('mnist')",
        20: "(c_train, _), _ = __netviz_dataset__('cifar10')",
        24: "(reviews, labels), _ = __netviz_dataset__('imdb', num_words=NUM_WORDS)"}
    assert found.skipped == {} and found.errors == []
    mlp, cnn, text = found.factories
    assert lines(source, mlp.slice) == [3, 10, 11, 13]
    assert lines(source, cnn.slice) == [4, 20, 21]
    assert lines(source, text.slice) == [4, 7, 25]  # the model needs NUM_WORDS, not the reviews


# -- fingerprints ----------------------------------------------------------------------------

def test_fingerprints_follow_stand_ins_and_ignore_code_no_target_needs():
    base = "import keras\nn = len(open('c').read())  # netviz: value=3\nm = keras.Sequential([keras.layers.Dense(n)])\n"
    first = discover(base).factories[0].fingerprint
    assert discover(base.replace("value=3", "value=4")).factories[0].fingerprint != first
    assert discover(base + "print('done')\n").factories[0].fingerprint == first


def test_sizes_from_the_values_of_a_stood_in_dataset_block_and_shapes_do_not():
    source = textwrap.dedent('''
        import numpy as np
        import keras
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        x_train = x_train / x_train.max()
        num_classes = len(np.unique(y_train))
        y_train = keras.utils.to_categorical(y_train)
        y_test = keras.utils.to_categorical(y_test, 10)
        model = keras.Sequential([keras.Input(x_train.shape[1:]), keras.layers.Dense(num_classes)])
        other = keras.Sequential([keras.Input(x_train.shape[1:]), keras.layers.Dense(y_train.shape[1])])
        third = keras.Sequential([keras.Input(x_train.shape[1:]), keras.layers.Dense(y_test.shape[1])])
    ''').lstrip()
    found = discover(source)
    model, other, third = found.factories
    assert model.blocked.message == (
        "`num_classes` depends on the values of the data loaded at line 3, which NetViz stands in for with its "
        "shapes only. Add `# netviz: value=...` on line 5 to stand in for it.")
    assert other.blocked.message.startswith("`y_train` depends on the values of the data loaded at line 3")
    assert found.stand_ins == {"model": [("num_classes", 5)], "other": [("y_train", 6)]}
    # Dividing by the maximum keeps the shape, and to_categorical with a class count knows its width.
    assert third.buildable and lines(source, third.slice) == [2, 3, 4, 7, 10]
    fixed = discover(source.replace("np.unique(y_train))", "np.unique(y_train))  # netviz: value=10"))
    assert fixed.factories[0].buildable and fixed.replacements[4] == "num_classes = 10"


def test_a_model_built_in_a_scope_block_runs_and_one_built_by_a_statement_that_never_runs_is_blocked():
    source = textwrap.dedent('''
        import tensorflow as tf
        import keras
        strategy = tf.distribute.MirroredStrategy()
        with strategy.scope():
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
            model.compile(loss="mse")
        model.fit([], [])
        sized = keras.Sequential([keras.Input((len(open("a").read()),))])
        with open("log.txt") as handle:
            logged = keras.Sequential([keras.Input((4,))])
    ''').lstrip()
    found = discover(source)
    model, sized, logged = found.factories
    # ``with strategy.scope():`` only places variables: the block runs, and the model is read after it.
    assert (model.name, model.line, model.slice, model.start, model.after, model.blocked) == (
        "model", 5, [0, 1, 2, 3], 3, 3, None)
    assert (sized.name, sized.slice) == ("sized", [])
    assert sized.blocked.message.startswith("`sized` is built at line 8, which reads files; NetViz never runs that.")
    assert (logged.name, logged.slice, logged.blocked.line) == ("logged", [], 10)
    assert logged.blocked.message == (
        "`logged` is built inside the `with` block at line 9, which NetViz does not run. "
        "Build it outside the block (or in a function) to preview it.")
    assert found.skipped == {4: "trains", 5: "reads files", 6: "with block"}


def test_names_one_never_run_line_unpacks_take_one_stand_in_there():
    source = textwrap.dedent('''
        import numpy as np
        import keras
        x, y = np.load("train.npz").values()
        model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(int(y.max()) + 1)])
    ''').lstrip()
    found = discover(source)
    (error,) = found.errors
    assert error.message == (
        "`x` and `y` come from a file read at line 3; NetViz does not run it. Add `# netviz: value=...` on that "
        "line to stand in for them, a value for each (`# netviz: value=..., ...`).")
    assert found.stand_ins == {"model": [("x, y", 3)]}
    stood = source.replace('.values()', '.values()  # netviz: value=np.zeros((8, 5)), np.arange(8) % 3')
    assert discover(stood).errors == []
