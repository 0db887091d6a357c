"""Builder methods of plain classes: ``CNNTrainer.build_model`` draws.

A method that builds a model, of a top-level class the file makes with arguments NetViz can
evaluate (constants, top-level values, ``Config()``) and whose construction does nothing the
effects table lists, is a target named ``Class.method`` (``discovery/builders.py``). The
fixture is a whole training script (data loading, training, checkpoints under the main guard),
copied to a temporary folder and built through ``Engine.build``; nothing it reads or writes
happens.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from real_builds import copy_and_build, drawn, line_of, model

from netviz_lsp.discovery import discover

BUILDERS = Path(__file__).resolve().parent / "fixtures" / "builders"

TRAINER = """
    import keras
    from keras import layers


    class Config:
        def __init__(self, units=64):
            self.units = units


    class Trainer:
        def __init__(self, config, classes=10):
            self.config = config
            self.classes = classes
            {init}

        def build_model(self):
            inputs = keras.Input((28, 28))
            x = layers.Flatten()(inputs)
            x = layers.Dense(self.config.units, activation="relu")(x)
            return keras.Model(inputs, layers.Dense(self.classes)(x))

        def train(self, x, y):
            return self.model.fit(x, y, epochs=5)


    {make}
"""


def targets(init: str = "self.model = self.build_model()", make: str = "trainer = Trainer(Config(), classes=5)"):
    found = discover(textwrap.dedent(TRAINER.format(init=init, make=make)))
    return [(t.name, t.args, t.expr) for t in found.factories], found.errors


def test_a_builder_method_is_built_from_the_model_init_keeps():
    assert targets() == ([("Trainer.build_model", "Config(), classes=5",
                           "Trainer(Config(), classes=5).model")], [])


def test_a_builder_method_init_does_not_call_is_called_on_the_instance():
    found, errors = targets(init="self.model = None", make='if __name__ == "__main__":\n        t = Trainer(Config(32))')
    assert errors == []
    assert found == [("Trainer.build_model", "Config(32)", "Trainer(Config(32)).build_model()")]


@pytest.mark.parametrize("init, make", [
    # Making the instance would read files: NetViz never makes it.
    ('self.data = keras.utils.image_dataset_from_directory("images")', "trainer = Trainer(Config())"),
    ("self.history = self.train(None, None)", "trainer = Trainer(Config())"),
    # Arguments NetViz cannot evaluate: a value read from the data, a function's result.
    ("self.model = self.build_model()", 'import os\n    trainer = Trainer(Config(len(os.listdir("data"))))'),
    ("self.model = self.build_model()", "trainer = Trainer(load_config())"),
    # Never made.
    ("self.model = self.build_model()", ""),
])
def test_no_target_when_the_instance_cannot_be_made_without_running_what_must_not_run(init, make):
    assert targets(init, make) == ([], [])


def test_a_config_class_whose_construction_reads_a_file_makes_no_instance():
    source = """
        import json
        import keras


        class Config:
            def __init__(self):
                with open("config.json") as f:
                    self.units = json.load(f)["units"]


        class Builder:
            def __init__(self, config):
                self.config = config

            def build(self):
                return keras.Sequential([keras.Input((4,)), keras.layers.Dense(self.config.units)])


        builder = Builder(Config())
    """
    assert discover(textwrap.dedent(source)).factories == []


def test_the_training_script_draws_its_trainers_model_and_runs_nothing_else(engine, tmp_path):
    result, path = copy_and_build(engine, BUILDERS / "cnn_trainer.py", tmp_path)
    assert result.errors == []
    # Plain Keras 3: Input((160, 160, 3)), Rescaling, 3 x [Conv2D(f, 3, relu), BatchNormalization,
    # MaxPooling2D] for f in (32, 64, 128), GlobalAveragePooling2D, Dropout, Dense(5): 94,789
    # params, 94,341 trainable. Built once, by __init__ (self.model = self.build_model()).
    assert drawn(result) == {"CNNTrainer.build_model": ("Functional", 94_789)}
    graph = model(result, "CNNTrainer.build_model")
    assert graph.name == "flower_cnn" and graph.trainable_params == 94_341
    assert graph.line == line_of(path, "def build_model(self):")
    convs = [layer for layer in graph.layers if layer.class_name == "Conv2D"]
    assert [layer.id for layer in convs] == ["conv2d", "conv2d_1", "conv2d_2"]
    assert {layer.line for layer in convs} == {line_of(path, "layers.Conv2D(filters")}
    assert convs[0].call_lines[-1] == line_of(path, "self.model = self.build_model()")
    assert graph.layers[-1].output_shape == [None, 5]
    # No dataset read, no checkpoints/, no history.json.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn_trainer.py"]


def test_an_error_in_the_builder_method_lands_at_its_line(engine, tmp_path):
    result, path = copy_and_build(engine, BUILDERS / "cnn_trainer.py", tmp_path,
                                  lambda text: text.replace("layers.Dense(c.num_classes", "layers.Dense(c.n_classes"))
    (error,) = result.errors
    assert (error.kind, error.factory) == ("build", "CNNTrainer.build_model")
    assert error.line == line_of(path, "layers.Dense(c.n_classes")
    assert "n_classes" in error.message


def test_a_trainer_made_from_argparse_in_main_draws_with_the_parsers_defaults(engine, tmp_path):
    result, path = copy_and_build(engine, BUILDERS / "mlp_argparse.py", tmp_path)
    assert result.errors == []
    # Plain Keras 3: Sequential([Input((784,)), Dense(128, relu), Dropout(0.2), Dense(10)]): 101,770.
    assert drawn(result) == {"MLPTrainer.build": ("Sequential", 101_770)}
    graph = model(result, "MLPTrainer.build")
    assert graph.line == line_of(path, "def build(self):")
    assert [layer.output_shape for layer in graph.layers] == [[None, 128], [None, 128], [None, 10]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp_argparse.py"]  # no mlp.keras
