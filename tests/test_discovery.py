"""discovery: factories, their arguments and program slices, read from source without running it."""

from __future__ import annotations

import ast
import textwrap
import warnings

import pytest
from hypothesis import given, settings, strategies as st

from netviz_lsp.discovery import Discovery, Factory, discover, slice_module
from netviz_lsp.discovery.parse import script_module


def find(source: str, **kwargs) -> Discovery:
    return discover(textwrap.dedent(source).lstrip("\n"), "model.py", **kwargs)


def factory(found: Discovery, name: str) -> Factory:
    return next(f for f in found.factories if f.name == name)


def statements(source: str, indexes: list[int]) -> list[str]:
    """The first source line of each statement in ``indexes``."""
    source = textwrap.dedent(source).lstrip("\n")
    lines = source.splitlines()
    body = ast.parse(source).body
    return [lines[body[i].lineno - 1].strip() for i in indexes]


# The article's file: three CNN factories, then top-level data loading, a call and training.
ARTICLE = '''
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def construct_model():
    model = keras.Sequential([
        layers.Input(shape=(128, 128, 1)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.Flatten(),
        layers.Dense(12, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def sconstruct_model():
    model = keras.Sequential()
    model.add(layers.Input(shape=(128, 128, 1)))
    model.add(layers.Conv2D(32, (3, 3), activation="relu"))
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dense(12, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def cconstruct_model(learningRate):
    model = tf.keras.models.Sequential()
    model.add(layers.Input(shape=(128, 128, 1)))
    model.add(layers.Conv2D(32, (3, 3), activation="relu"))
    model.add(layers.Flatten())
    model.add(layers.Dense(12, activation="softmax"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learningRate),
                  loss="categorical_crossentropy")
    return model


(x, y), _ = keras.datasets.mnist.load_data()
model = cconstruct_model(0.001)
model.summary()
model.fit(x, y)
'''


# -- the article -----------------------------------------------------------------------------

def test_article_factories_lines_and_arguments():
    found = find(ARTICLE)
    assert found.errors == []
    # ``model = cconstruct_model(0.001)``, the file's only call of it, gives the factory its
    # arguments: the model keeps the factory's name (a second call would make two variables).
    assert [(f.name, f.line, f.kind) for f in found.factories] == [
        ("construct_model", 6, "factory"), ("sconstruct_model", 18, "factory"), ("cconstruct_model", 28, "factory")]
    first, second, third = found.factories
    assert (first.args, first.args_origin, first.params, first.expr) == ("", "defaults", [], "construct_model()")
    assert (second.args, second.args_origin, second.after, second.start) == ("", "defaults", None, None)
    assert (third.args, third.args_origin, third.params, third.expr) == (
        "0.001", "call", ["learningRate"], "cconstruct_model(0.001)")
    assert (third.start, third.after) == (None, None)
    assert first.end_line == 15 and all(f.buildable for f in found.factories)
    # ``from tensorflow import keras`` names a module candidate ``tensorflow.keras`` too.
    assert found.skipped == {8: "plots", 9: "trains"}
    assert found.replacements == {6: "(x, y), _ = __netviz_dataset__('mnist')"}


def test_a_factory_assigned_once_stays_a_factory_unless_top_level_code_changes_its_model():
    source = ("import keras\n\n\ndef make(width):\n"
              "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(width)])\n\n\n"
              "model = make(8)\nmodel.compile(optimizer='adam')\n")
    (target,) = find(source).factories
    assert (target.name, target.kind, target.args, target.args_origin) == ("make", "factory", "8", "call")
    grown = source + "model.add(keras.layers.Dense(2))\n"
    (target,) = find(grown).factories
    assert (target.name, target.kind, target.expr) == ("model", "variable", "model")
    twice = source + "other = make(16)\n"
    assert [(t.name, t.kind) for t in find(twice).factories] == [("model", "variable"), ("other", "variable")]


def test_article_slice_keeps_imports_defs_and_the_models_own_call():
    found = find(ARTICLE)
    assert statements(ARTICLE, found.slice) == [
        "import tensorflow as tf", "from tensorflow import keras", "from tensorflow.keras import layers",
        "def construct_model():", "def sconstruct_model():", "def cconstruct_model(learningRate):"]
    assert factory(found, "construct_model").slice == [1, 2, 3]  # ``tf`` is not used by it
    assert factory(found, "cconstruct_model").slice == [0, 1, 2, 5]  # it uses ``tf.keras``


# -- program slices --------------------------------------------------------------------------

TRANSITIVE = '''
import keras
from keras import layers

NUM_CLASSES = 12
KERNEL = 3
KERNEL *= 1
DATA = load()
model = "a global the factory's local shadows"


def conv_block(x, f):
    return layers.Conv2D(f, KERNEL, activation="relu")(x)


def build():
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, layers.Dense(NUM_CLASSES)(conv_block(inputs, 8)))
    return model


def unrelated():
    return DATA
'''


def test_slice_follows_constants_and_helpers_transitively():
    found = find(TRANSITIVE)
    assert [f.name for f in found.factories] == ["build"]
    assert statements(TRANSITIVE, found.slice) == [
        "import keras", "from keras import layers", "NUM_CLASSES = 12", "KERNEL = 3", "KERNEL *= 1",
        "def conv_block(x, f):", "def build():"]


def test_main_guard_and_top_level_expressions_never_run_and_import_blocks_do():
    source = '''
    try:
        import tensorflow as tf
    except ImportError:
        tf = None
    import keras
    if keras.__version__ < "3":
        from keras import models
    else:
        from keras import models

    SIZE = 4
    print(SIZE)


    def build():
        return models.Sequential([keras.layers.Dense(SIZE)])


    if __name__ == "__main__":
        SIZE = 5
        build().summary()
    '''
    found = find(source)
    # The ``try`` block imports ``tf``, which nothing needs: an import no model needs never runs.
    assert statements(source, found.slice) == [
        "import keras", 'if keras.__version__ < "3":', "SIZE = 4", "def build():"]
    # ``print`` may run, but nothing needs it. The guard's body runs as the script runs it
    # (discovery/script.py): ``build().summary()`` never runs (it plots), and its ``SIZE = 5`` is
    # not what the factory is built with (module code sees module bindings).
    assert found.skipped == {7: "plots"}


def test_compound_statement_that_binds_a_needed_name_runs_and_training_assignment_does_not():
    source = '''
    import keras
    if True:
        WIDTH = 8
    history = keras.Sequential().fit([], [])
    for _ in range(3):
        history = None


    def build():
        return keras.Sequential([keras.layers.Dense(WIDTH)])
    '''
    found = find(source)
    assert statements(source, found.slice) == ["import keras", "if True:", "def build():"]


def test_names_in_decorators_defaults_and_class_bases_are_followed():
    source = '''
    import keras
    UNITS = 3
    DECO = lambda f: f
    MIXIN = object
    OTHER = 1


    class Net(keras.Model, MIXIN):
        def call(self, x):
            return x * OTHER


    @DECO
    def build(units=UNITS):
        return Net()
    '''
    found = find(source)
    assert [f.name for f in found.factories] == ["build"]
    assert statements(source, found.slice) == [
        "import keras", "UNITS = 3", "DECO = lambda f: f", "MIXIN = object", "OTHER = 1",
        "class Net(keras.Model, MIXIN):", "def build(units=UNITS):"]


def test_imports_are_dotted_and_relative_ones_keep_their_dots():
    source = '''
    import helpers.blocks
    import tensorflow as tf, numpy as np
    from .layers import conv
    from .. import utils
    from keras.applications import ResNet50
    try:
        import yaml
    except ImportError:
        yaml = None


    def build():
        import inside_a_function
        return ResNet50(weights=None)


    if __name__ == "__main__":
        import argparse
    '''
    found = find(source)
    assert [(f.name, f.args) for f in found.factories] == [("build", "")]


# -- detection -------------------------------------------------------------------------------

DETECTION = '''
import keras
import tensorflow as tf
from keras.applications import MobileNetV2
from tensorflow.keras.applications.efficientnet import EfficientNetB0 as Effnet
from keras.applications.resnet50 import preprocess_input


class Base(keras.Model):
    pass


class Net(Base):
    pass


def resnet():
    return keras.applications.ResNet50(weights=None)


def nested_application():
    return tf.keras.applications.resnet50.ResNet50(weights=None)


def mobilenet():
    return MobileNetV2(weights=None)


def effnet():
    return Effnet(weights=None)


def subclassed():
    net = Net()
    return net


def wrapper():
    return resnet()


def annotated() -> keras.Model:
    return load()


def annotated_string() -> "tf.keras.Model":
    return load()


# netviz: preview
def marked():
    return load()


def marked_inline():  # netviz: preview
    return load()


def marked_in_body():
    # netviz: preview
    return load()


def local_import():
    from keras.applications import MobileNetV2 as Mobile
    return Mobile(weights=None)


def in_lambda():
    make = lambda: keras.Sequential()
    return make()


def number():
    return 42


NOTE = """
# netviz: preview
"""


def not_marked(doc="# netviz: preview"):  # a comment, but no directive
    text = """
# netviz: preview
"""
    return text


def preprocess(x):
    return preprocess_input(x)


def train():
    model = resnet()
    model.fit([], [])
    return model


async def asynchronous():
    return keras.Sequential()
'''


def test_detects_every_kind_of_factory_and_nothing_else():
    found = find(DETECTION)
    assert [f.name for f in found.factories] == [
        "resnet", "nested_application", "mobilenet", "effnet", "subclassed", "wrapper", "annotated",
        "annotated_string", "marked", "marked_inline", "marked_in_body", "local_import", "in_lambda"]
    assert found.errors == []


def test_preview_comment_block_above_decorators_counts_but_not_one_separated_by_code():
    source = '''
    import functools
    # netviz: preview
    # Builds the thing (the block above counts as a whole).
    @functools.lru_cache()
    def cached():
        return load()

    # netviz: preview
    X = 1
    def after_code():
        return load()
    '''
    assert [f.name for f in find(source).factories] == ["cached"]


def test_a_function_that_trains_is_previewed_when_marked():
    source = '''
    import keras
    def train():  # netviz: preview
        model = keras.Sequential()
        model.fit([], [])
        return model
    '''
    assert [f.name for f in find(source).factories] == ["train"]


# -- arguments -------------------------------------------------------------------------------

ARGUMENTS = '''
import keras

LR = 0.01
IMAGE = (180, 180)


def by_keyword(units):
    return keras.Sequential([keras.layers.Dense(units)])


def by_name(lr, depth=2):
    return keras.Sequential()


def from_settings(units=4):
    return keras.Sequential()


# netviz: args=(64, 12)
def from_comment(units, classes):
    return keras.Sequential()


def from_short_comment(lr):  # netviz: args=0.001
    return keras.Sequential()


def with_keywords_comment(units, n_classes):
    # netviz: args=(64, n_classes=12)
    return keras.Sequential()


def needs(units, depth, *layers, scale=1.0, **options):
    return keras.Sequential()


def block(units):
    return keras.Sequential([keras.layers.Dense(units)])


def by_expression(shape, classes=10):
    return keras.Sequential([keras.Input(shape), keras.layers.Dense(classes)])


def stack():
    return keras.Sequential([block(3), block(4)])


by_keyword(units=3)
by_name(lr=compute())
by_name(LR)
needs(1, depth=compute())
by_expression(IMAGE + (3,), classes=2 ** 3)
'''


def test_argument_sources_in_priority_order():
    found = find(ARGUMENTS, factory_args={"from_settings": [8, "relu", None], "missing_fn": [1]})
    got = {f.name: (f.args, f.args_origin) for f in found.factories}
    assert got == {
        "by_keyword": ("units=3", "call"),
        "by_name": ("LR", "call"),
        "from_settings": ("8, 'relu', None", "settings"),
        "from_comment": ("64, 12", "comment"),
        "from_short_comment": ("0.001", "comment"),
        "with_keywords_comment": ("64, n_classes=12", "comment"),
        "needs": (None, None),
        "stack": ("", "defaults"),
        # Constant expressions of top-level names are kept as source; the call beats the default.
        "by_expression": ("IMAGE + (3,), classes=2 ** 3", "call"),
    }
    # block: a helper, dropped
    assert [f.name for f in found.factories][-3:] == ["needs", "by_expression", "stack"]
    assert statements(ARGUMENTS, factory(found, "by_expression").slice) == [
        "import keras", "IMAGE = (180, 180)", "def by_expression(shape, classes=10):"]
    assert factory(found, "by_expression").expr == "by_expression(IMAGE + (3,), classes=2 ** 3)"


def test_name_argument_pulls_its_assignment_into_the_slice():
    found = find(ARGUMENTS)
    assert statements(ARGUMENTS, factory(found, "by_name").slice) == [
        "import keras", "LR = 0.01", "def by_name(lr, depth=2):"]
    assert statements(ARGUMENTS, factory(found, "by_keyword").slice) == [
        "import keras", "def by_keyword(units):"]


def test_missing_arguments_are_an_error_at_the_def_naming_the_parameters():
    found = find(ARGUMENTS)
    needs = factory(found, "needs")
    assert needs.missing == ["units", "depth"]
    assert needs.params == ["units", "depth", "*layers", "scale", "**options"]
    assert [(e.kind, e.factory, e.line) for e in found.errors] == [("arguments", "needs", 33)]
    assert found.errors[0].message.startswith(
        "needs(units, depth, *layers, scale, **options) needs arguments for: units, depth. "
        "Give them defaults, call it once at the top level")
    assert "netviz.build.factoryArgs" in found.errors[0].message
    assert 33 not in [ast.parse(textwrap.dedent(ARGUMENTS)).body[i].lineno for i in found.slice]


def test_settings_win_over_a_comment_and_take_keyword_objects():
    found = find(ARGUMENTS, factory_args={"from_comment": {"units": 1, "classes": 2}})
    assert (factory(found, "from_comment").args, factory(found, "from_comment").args_origin) == (
        "units=1, classes=2", "settings")


def test_the_first_qualifying_call_wins_including_one_in_the_main_guard():
    source = '''
    import keras
    def build(units, depth=1):
        return keras.Sequential()
    build(depth=3)
    if __name__ == "__main__":
        build(
            16,
            depth=2,
        )
        build(32)
    '''
    found = find(source)
    assert (factory(found, "build").args, found.errors) == ("16, depth=2", [])


def test_malformed_args_comment_is_an_error_at_its_line():
    source = '''
    import keras


    # netviz: args=(64, units)
    def build(units, classes):
        return keras.Sequential()


    def other(units):  # netviz: args=(1,
        return keras.Sequential()
    '''
    found = find(source)
    assert [(f.name, f.args) for f in found.factories] == [("build", None), ("other", None)]
    assert [(e.kind, e.factory, e.line) for e in found.errors] == [
        ("arguments", "build", 4), ("arguments", "other", 9)]
    assert "`units` is not a literal" in found.errors[0].message
    assert "invalid syntax" in found.errors[1].message
    assert found.slice == []


# -- bad input -------------------------------------------------------------------------------

def test_syntax_error_is_a_value_with_its_line_and_column():
    found = discover("import keras\n\ndef build(:\n    pass\n")
    assert found.factories == [] and found.slice == []
    [error] = found.errors
    assert (error.kind, error.factory, error.line, error.column) == ("syntax", None, 3, 10)
    assert error.message


def test_compile_time_errors_that_ast_accepts_are_syntax_errors_too():
    [error] = discover("x = 1\nnonlocal x\n").errors
    assert (error.kind, error.line) == ("syntax", 2)


@pytest.mark.parametrize("source", [
    "x = 1\0\n", "caf\udce9 = 1\n", "\ufeffimport keras\n", "def f(:", "(" * 5000, "-" * 100000 + "1",
    "x = " + "[" * 150 + "]" * 150, "\x0c\n", "'''", "# netviz: args=(\n", "\\",
])
def test_odd_input_never_raises(source):
    found = discover(source)
    assert all(e.kind == "syntax" for e in found.errors)


#: A training script with what discovery reads as the script's statements (``script.py``): a click
#: command run by the guard, a main() it calls, loops that build or carry values, a wandb config,
#: a KerasTuner hypermodel and a builder class.
SCRIPT = '''
import argparse
import click
import keras
import keras_tuner as kt
import numpy as np
import wandb
from keras import layers

HIDDEN = [64, 32]
wandb.init(project="p", config={"units": 16, "dropout": 0.1})
config = wandb.config
blocks = []
for units in HIDDEN:
    blocks.append(layers.Dense(units))

def build_model(hp):
    model = keras.Sequential([keras.Input((8,))])
    for i in range(hp.Int("layers", 1, 3)):
        model.add(layers.Dense(hp.Choice(f"u{i}", [8, 16])))
    return model

class Trainer:
    def __init__(self, width=8):
        self.width = width
    def build(self):
        return keras.Sequential([keras.Input((4,)), layers.Dense(self.width)])

def train(epochs):
    x = np.loadtxt("train.csv")
    inputs = keras.Input((x.shape[1],))
    h = inputs
    for block in blocks:
        h = block(h)
    net = keras.Model(inputs, layers.Dense(config.units)(h))
    net.fit(x, x, epochs=epochs)

@click.command()
@click.option("--epochs", default=3)
def main(epochs):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    trainer = Trainer(width=16)
    tuner = kt.RandomSearch(build_model, objective="val_loss")
    train(epochs)

if __name__ == "__main__":
    main()
'''

MUTATIONS = ["(", ")", "#", "# netviz: preview", "# netviz: args=(", "'", '"""', "\n", "    ", "def ",
             "lambda", ":", "=", "*", "\\", "@", "class ", "if __name__ == '__main__':\n", "\0", "\udc80",
             "\r", "async ", "nonlocal x\n", "match x:\n case [a, *b]: pass\n", "f'{x}'", "x := 1",
             "for i in range(2):\n    ", "wandb.config.", "return ", "@click.option('--u', default=1)\n",
             "global x\n", "yield ", "hp.Int('u', 1, 2)"]


def check_invariants(found: Discovery, source: str) -> None:
    """What holds for any input: a syntax error alone, or targets whose slices fit the file,
    never hold a statement that does not run, and compile; every other error owned by a target."""
    if any(e.kind == "syntax" for e in found.errors):
        assert len(found.errors) == 1 and found.factories == [] and found.slice == []
        return
    with warnings.catch_warnings():  # "invalid escape sequence" and the like
        warnings.simplefilter("ignore")
        count = len(script_module(source, "m.py").body)  # as discovery reads it: shell lines blanked, guard lifted
    names = [f.name for f in found.factories]
    assert len(names) == len(set(names))
    assert [f.line for f in found.factories] == sorted(f.line for f in found.factories)
    assert all(e.kind == "arguments" and e.factory in names for e in found.errors)
    assert found.slice == sorted(set(found.slice)) and all(0 <= i < count for i in found.slice)
    assert set(found.replacements).isdisjoint(found.skipped)
    for target in found.factories:
        assert target.slice == sorted(set(target.slice)) and not set(target.slice) & set(found.skipped)
        assert target.buildable == (target.args is not None and target.blocked is None)
        assert (target.blocked is None) or target.blocked in found.errors
        if target.kind == "variable":
            assert target.args == "" and target.start <= target.after
            assert (target.start in target.slice and target.after in target.slice) or not target.buildable
            assert all(i <= target.after for i in target.slice)  # evaluated right after ``after``
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(slice_module(source, found.slice, "m.py", found.replacements), "m.py", "exec")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_sources_never_raise(data):
    source = textwrap.dedent(data.draw(st.sampled_from([ARTICLE, DETECTION, ARGUMENTS, TRANSITIVE, SCRIPT])))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(source)))
        piece = data.draw(st.sampled_from(MUTATIONS) | st.text(max_size=3))
        source = source[:at] + piece + source[at + data.draw(st.integers(0, 5)):]
    check_invariants(discover(source, factory_args={"needs": [1], "build": {"units": 2}}), source)


def test_empty_file_has_nothing():
    assert discover("") == Discovery()


def test_every_prefix_of_a_file_is_handled():
    source = textwrap.dedent(ARGUMENTS) + textwrap.dedent(DETECTION) + textwrap.dedent(ARTICLE)
    outcomes = set()
    for end in range(0, len(source), 7):
        found = discover(source[:end], factory_args={"needs": [1, 2]})
        check_invariants(found, source[:end])
        outcomes.add("syntax" if found.errors and found.errors[0].kind == "syntax" else len(found.factories))
    # Cut mid-statement most prefixes do not parse; the others find ever more targets.
    assert "syntax" in outcomes and max(o for o in outcomes if o != "syntax") >= 20


def generated(functions: int) -> str:
    """Five lines per factory; every tenth carries a directive comment."""
    one = '''
def block_{i}(x=None, units={i}):  # {comment}
    """Doc."""
    y = layers.Dense(units, activation="relu")(x)
    return keras.Model(x, y)
'''
    return "import keras\nfrom keras import layers\n" + "".join(
        one.format(i=i, comment="netviz: preview" if i % 10 == 0 else "a comment") for i in range(functions))


def test_a_thousand_line_file_finds_every_factory():
    # Its speed is measured in benchmarks/, never asserted here (the machine is shared).
    source = generated(200)
    assert len(source.splitlines()) > 1000
    found = discover(source)
    assert len(found.factories) == 200 and found.errors == []


# -- slice_module ----------------------------------------------------------------------------

def test_slice_module_runs_only_the_slice_with_original_lines():
    source = textwrap.dedent('''
        import math
        RADIUS = 2
        ran = []
        ran.append("top level")
        print("this never runs")

        def area():
            return math.pi * RADIUS ** 2


        ran.append("after")
        if __name__ == "__main__":
            ran.append("main")
    ''').lstrip("\n")
    found = discover(source, factory_args={"area": []})
    assert [(f.name, f.line, f.args) for f in found.factories] == [("area", 7, "")]
    assert found.slice == [0, 1, 5]
    code = compile(slice_module(source, found.slice, "area.py"), "area.py", "exec")
    namespace: dict = {"__name__": "__main__"}
    exec(code, namespace)
    assert namespace["area"]() == pytest.approx(12.566, abs=1e-3)
    assert namespace["area"].__code__.co_firstlineno == 7
    assert "ran" not in namespace


def test_slice_module_rejects_a_slice_of_another_version():
    with pytest.raises(ValueError):
        slice_module("x = 1\n", [0, 3], "f.py")


def test_what_ast_accepts_but_compile_rejects_is_a_syntax_error_at_its_line():
    # found by test_mutated_sources_never_raise: ast.parse takes a starred return, compile does not
    source = "import keras\n\n\ndef build():\n    x = keras.Input((4,))\n    return *keras.layers.Dense(2)(x)\n"
    found = discover(source, "m.py")
    assert [(e.kind, e.line) for e in found.errors] == [("syntax", 6)]
    assert found.factories == []
    # a notebook's top-level await is no syntax error (IPython runs it)
    assert discover("import asyncio\nawait asyncio.sleep(0)\n", "m.py").errors == []
