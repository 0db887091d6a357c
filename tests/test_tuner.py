"""KerasTuner hypermodels draw with KerasTuner's own default hyperparameters.

A factory whose parameter takes KerasTuner's hyperparameters, and a ``keras_tuner.HyperModel``
subclass, are called with a real, fresh ``keras_tuner.HyperParameters()`` (KerasTuner is
installed in the dev extra): each hyperparameter takes the value a first trial gives it (its
default, ``min_value``, the first choice, ``False``), and the diagram's note lists them. The
fixtures in ``tests/fixtures/tuner/`` are whole programs (data, tuner, search, retraining),
copied to a temporary folder and built through ``Engine.build``; the tuner is never made and
never searches, so no tuner directory appears. Totals are those of plain Keras 3 building the
same layers with the default values (the comments give the plain model).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from real_builds import copy_and_build, drawn, line_of, model, untouched

from netviz_lsp import notebook
from netviz_lsp.discovery import discover
from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult
from netviz_lsp.settings import Settings

TUNER = Path(__file__).resolve().parent / "fixtures" / "tuner"


def build(engine: Engine, tmp_path: Path, name: str, edit=None) -> tuple[FileResult, Path]:
    return copy_and_build(engine, TUNER / name, tmp_path, edit)


def target(source: str, name: str, settings=None):
    found = discover(textwrap.dedent(source), factory_args=settings)
    return next(t for t in found.factories if t.name == name), found


def statements(source: str, indexes: list[int]) -> list[str]:
    import ast

    body = ast.parse(textwrap.dedent(source)).body
    return [ast.unparse(body[i]).splitlines()[0] for i in indexes]


# -- discovery: which parameter takes the hyperparameters, and with what -------------------------

def test_the_getting_started_factory_gets_a_fresh_hyperparameters_through_the_files_import():
    source = (TUNER / "getting_started.py").read_text()
    found = discover(source)
    assert found.errors == []
    (factory,) = found.factories
    # The file's first call passes keras_tuner.HyperParameters(); the retraining call's
    # best_hps[0] (from the search, which never runs) is not needed.
    assert (factory.name, factory.args, factory.args_origin) == (
        "build_model", "keras_tuner.HyperParameters()", "call")
    assert factory.expr == "build_model(keras_tuner.HyperParameters())"
    assert statements(source, factory.slice) == [
        "import keras", "import keras_tuner", "from keras import layers", "def build_model(hp):"]


def test_a_hypermodel_passed_to_a_tuner_takes_hp_in_place_of_a_tuner_result():
    source = """
        import keras
        import keras_tuner as kt

        def make(hparams, width=28):
            return keras.Sequential([keras.Input((width,)), keras.layers.Dense(8)])

        tuner = kt.Hyperband(make, objective="val_loss", max_epochs=3)
        tuner.search(x, y)
        model = make(tuner.get_best_hyperparameters()[0], width=32)
        model.fit(x, y)
    """
    factory, found = target(source, "make")
    assert found.errors == []
    # Its parameter is unused, yet a tuner takes the function: the parameter is KerasTuner's.
    # The retraining call is previewed as the factory, its other argument kept.
    assert [t.name for t in found.factories] == ["make"]
    assert (factory.args, factory.args_origin) == ("kt.HyperParameters(), width=32", "call")


@pytest.mark.parametrize("how", [
    "tuner = kt.RandomSearch(hypermodel=build, objective='val_loss')",
    "build(kt.HyperParameters())",
    "",  # the parameter's use alone (p.Int below)
])
def test_the_evidence_that_a_parameter_is_keras_tuners(how):
    units = "16" if how else 'p.Int("units", 8, 64, step=8)'
    source = f"""
        import keras
        import keras_tuner as kt

        def build(p):
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense({units})])

        {how}
    """
    factory, found = target(source, "build")
    assert found.errors == []
    assert factory.args == "kt.HyperParameters()"


def test_an_unused_hp_in_a_file_importing_keras_tuner_and_a_from_import():
    source = """
        import keras
        from keras_tuner import HyperParameters

        def build_model(hp):
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    """
    factory, found = target(source, "build_model")
    assert found.errors == []
    assert factory.args == "HyperParameters()"


def test_a_file_that_never_imports_keras_tuner_makes_it_by_name_and_without_uses_needs_arguments():
    source = """
        import keras

        def build_model(hp):
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8))])

        def other(hp):
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp)])
    """
    factory, found = target(source, "build_model")
    assert factory.args == '__import__("keras_tuner").HyperParameters()'
    other, _ = target(source, "other")
    assert other.args is None and other.missing == ["hp"]


def test_a_hypermodel_with_a_required_extra_parameter_needs_only_that_one():
    source = """
        import keras
        import keras_tuner as kt

        def build_model(hp, num_classes):
            model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten()])
            model.add(keras.layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"))
            model.add(keras.layers.Dense(num_classes, activation="softmax"))
            return model

        tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=3)
    """
    factory, found = target(source, "build_model")
    assert factory.args is None and factory.missing == ["num_classes"]
    (error,) = found.errors
    assert (error.kind, error.line) == ("arguments", 5)
    assert error.message.startswith("build_model(hp, num_classes) needs arguments for: num_classes. ")


def test_a_comment_or_the_settings_still_win_and_hp_is_added_when_they_leave_it_out():
    source = """
        import keras
        import keras_tuner as kt

        # netviz: args=(num_classes=5)
        def build_model(hp, num_classes):
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(num_classes)])

        class Net(kt.HyperModel):
            def __init__(self, classes):
                super().__init__()
                self.classes = classes

            def build(self, hp):
                return keras.Sequential([keras.Input((4,)), keras.layers.Dense(self.classes)])
    """
    factory, found = target(source, "build_model")
    assert (factory.args, factory.args_origin) == ("num_classes=5, hp=kt.HyperParameters()", "comment")
    # A HyperModel subclass needs its constructor's arguments like any factory its own.
    (error,) = found.errors
    assert (error.factory, error.line) == ("Net", 9)  # the class, where a comment's quick fix goes
    assert error.message.startswith("Net(classes) needs arguments for: classes. ")
    net, found = target(source, "Net", {"Net": {"classes": 3}, "build_model": [None, 7]})
    assert (net.args, net.args_origin, net.params) == ("classes=3", "settings", ["classes"])
    assert net.expr == "Net(classes=3).build(kt.HyperParameters())"
    factory, _ = target(source, "build_model", {"build_model": [None, 7]})
    assert factory.args == "None, 7"  # positional settings are the whole call, as for any factory


def test_a_hypermodel_subclass_takes_its_constructor_arguments_from_the_tuner_call():
    cells, _ = notebook.from_ipynb((TUNER / "fashion_hypermodel.ipynb").read_text())
    found = discover(notebook.join(cells).source)
    assert found.errors == []
    (net,) = found.factories
    assert (net.name, net.args, net.args_origin) == ("FashionHyperModel", "num_classes=10", "call")
    assert net.expr == "FashionHyperModel(num_classes=10).build(kt.HyperParameters())"


def test_a_hypermodel_subclass_without_a_constructor_and_one_of_it_build_with_no_arguments():
    source = """
        import keras
        import keras_tuner

        class Base(keras_tuner.HyperModel):
            def build(self, hp):
                return keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8))])

        class Wider(Base):
            pass

        tuner = keras_tuner.GridSearch(Wider(tunable=True), objective="val_loss")
    """
    found = discover(textwrap.dedent(source))
    assert found.errors == []
    assert [(t.name, t.args, t.expr) for t in found.factories] == [
        ("Base", "", "Base().build(keras_tuner.HyperParameters())"),
        ("Wider", "tunable=True", "Wider(tunable=True).build(keras_tuner.HyperParameters())")]


# -- real builds ----------------------------------------------------------------------------

def test_the_keras_io_getting_started_script_draws_its_first_trial(engine, tmp_path):
    result, path = build(engine, tmp_path, "getting_started.py")
    assert result.errors == []
    # Plain Keras 3: Sequential([Input((28, 28)), Flatten(), Dense(32, "relu"), Dense(10, "softmax")])
    # has 25,450 params: num_layers=1 (min_value), units_0=32, no dropout.
    assert drawn(result) == {"build_model": ("Sequential", 25_450)}
    graph = model(result, "build_model")
    assert [layer.class_name for layer in graph.layers] == ["Flatten", "Dense", "Dense"]
    assert graph.layers[1].activation == "relu"
    assert graph.layers[1].line == line_of(path, "layers.Dense(")
    assert graph.build.note == ("drawn with KerasTuner's default hyperparameters: num_layers=1, units_0=32, "
                                "activation='relu', dropout=False, lr=0.0001")
    untouched(tmp_path, "getting_started.py")


def test_the_notebooks_hypermodel_subclass_draws_with_its_defaults(engine, tmp_path):
    result, _ = build(engine, tmp_path, "fashion_hypermodel.ipynb")
    assert result.errors == []
    # Plain Keras 3: Input((28, 28)), Flatten, Dense(32, relu), Dense(128, relu) (second_layer's
    # default=True, second_units' default=128), Dropout(0.2), Dense(10): 30,634 params.
    assert drawn(result) == {"FashionHyperModel": ("Functional", 30_634)}
    graph = model(result, "FashionHyperModel")
    assert graph.name == "fashion_classifier"
    assert [layer.class_name for layer in graph.layers] == [
        "InputLayer", "Flatten", "Dense", "Dense", "Dropout", "Dense"]
    assert [layer.cell for layer in graph.layers if layer.class_name == "Dense"] == [6, 6, 6]
    assert graph.build.note == ("drawn with KerasTuner's default hyperparameters: units=32, second_layer=True, "
                                "second_units=128, dropout=0.2, learning_rate=0.01")
    untouched(tmp_path, "fashion_hypermodel.ipynb")


def test_the_cnn_hypermodel_draws_the_active_branch_of_its_conditional_scopes(engine, tmp_path):
    result, path = build(engine, tmp_path, "cifar_cnn_search.py")
    assert result.errors == []
    # Plain Keras 3: Rescaling, 3 blocks (conv_blocks' default=3) of 2 x [Conv2D(32, 3, no bias),
    # BatchNormalization, ReLU] + MaxPooling2D, then Flatten, Dense(64), Dropout(0.5), Dense(10):
    # 81,194 params, 80,810 trainable, 27 layers with the InputLayer.
    assert drawn(result) == {"build_cnn": ("Functional", 81_194)}
    graph = model(result, "build_cnn")
    assert (graph.trainable_params, len(graph.layers)) == (80_810, 27)
    classes = [layer.class_name for layer in graph.layers]
    assert classes.count("MaxPooling2D") == 3 and "GlobalAveragePooling2D" not in classes
    dense = [layer for layer in graph.layers if layer.class_name == "Dense"]
    assert dense[0].line == line_of(path, 'layers.Dense(hp.Int("dense_units"')
    assert dense[0].output_shape == [None, 64]
    # Only the values of the active branch: global_pool's scope asked for nothing, dense's did.
    assert graph.build.note == (
        "drawn with KerasTuner's default hyperparameters: conv_blocks=3, filters_0=32, pooling_0='max', "
        "filters_1=32, pooling_1='max', filters_2=32, pooling_2='max', head='dense', dense_units=64, "
        "dense_dropout=0.5, learning_rate=0.0001")
    untouched(tmp_path, "cifar_cnn_search.py")


def test_an_hp_call_with_a_typo_fails_at_its_line(engine, tmp_path):
    result, path = build(engine, tmp_path, "getting_started.py",
                         lambda text: text.replace("min_value=32, max_value=512", "min_value=32, max=512"))
    assert result.models == []
    (error,) = result.errors
    assert (error.kind, error.factory) == ("build", "build_model")
    assert error.line == line_of(path, "max=512")
    assert "unexpected keyword argument 'max'" in error.message
    untouched(tmp_path, "getting_started.py")


def test_a_conditional_scope_on_an_unknown_parent_fails_at_the_with_line(engine, tmp_path):
    result, path = build(engine, tmp_path, "cifar_cnn_search.py",
                         lambda text: text.replace('hp.Choice("head", ', 'hp.Choice("head_type", '))
    (error,) = result.errors
    assert (error.kind, error.factory) == ("build", "build_cnn")
    assert error.line == line_of(path, 'with hp.conditional_scope("head", ["dense"])')
    assert "head" in error.message
    untouched(tmp_path, "cifar_cnn_search.py")


def test_an_unused_hp_draws_and_says_no_hyperparameter_was_asked_for(engine, tmp_path):
    path = tmp_path / "baseline.py"
    path.write_text(textwrap.dedent('''
        """A fixed baseline next to the tuned model: the tuner API wants an hp argument."""
        import keras
        import keras_tuner as kt


        def baseline(hp):
            return keras.Sequential([
                keras.Input((28, 28)),
                keras.layers.Flatten(),
                keras.layers.Dense(128, activation="relu"),
                keras.layers.Dense(10),
            ])


        tuner = kt.RandomSearch(baseline, objective="val_accuracy", max_trials=1, directory="my_dir")
        tuner.search(x_train, y_train, epochs=1)
    '''), encoding="utf-8")
    result = engine.build(str(path), path.read_text(), Settings())
    assert result.errors == []
    # Plain Keras 3: Flatten, Dense(128), Dense(10) on 28 x 28: 101,770 params.
    assert drawn(result) == {"baseline": ("Sequential", 101_770)}
    assert model(result, "baseline").build.note == (
        "built with KerasTuner's HyperParameters(); it asked for no hyperparameter")
    untouched(tmp_path, "baseline.py")


REFUSE_KERAS_TUNER = '''
import sys


class _Refuse:
    """An interpreter without KerasTuner: its import fails as an uninstalled package's does."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("keras_tuner", "kerastuner"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Refuse())
'''


def test_without_keras_tuner_installed_the_build_fails_at_the_import_naming_the_package(tmp_path, monkeypatch):
    from netviz_lsp.worker.pool import BuildPool

    blocker = tmp_path / "interpreter"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(REFUSE_KERAS_TUNER, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(blocker))
    folder = tmp_path / "project"
    folder.mkdir()
    pool = BuildPool()
    pool.start()
    try:
        result, path = copy_and_build(Engine(pool), TUNER / "getting_started.py", folder)
    finally:
        pool.close()
    assert result.models == []
    (error,) = result.errors
    assert (error.kind, error.factory, error.line) == ("build", "build_model", line_of(path, "import keras_tuner"))
    assert error.message.startswith("No module named 'keras_tuner' in ")
    assert "pip install keras-tuner" in error.message
    untouched(folder, "getting_started.py")


@pytest.mark.parametrize("given, args", [
    ("functools.partial(build_model, num_classes=10)", "kt.HyperParameters(), num_classes=10"),
    ("partial(build_model, num_classes=NUM_CLASSES)", "kt.HyperParameters(), num_classes=NUM_CLASSES"),
    ("lambda hp: build_model(hp, 10)", "kt.HyperParameters(), 10"),
    ("lambda h: build_model(num_classes=3, hp=h)", "num_classes=3, hp=kt.HyperParameters()"),
])
def test_a_tuner_given_a_partial_or_a_lambda_supplies_the_other_arguments(given, args):
    source = f"""
        import functools
        from functools import partial

        import keras
        import keras_tuner as kt

        NUM_CLASSES = 10

        def build_model(hp, num_classes):
            model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten()])
            model.add(keras.layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"))
            model.add(keras.layers.Dense(num_classes, activation="softmax"))
            return model

        tuner = kt.RandomSearch({given}, objective="val_accuracy", max_trials=3)
    """
    factory, found = target(source, "build_model")
    assert found.errors == []
    assert (factory.args, factory.args_origin) == (args, "call")
