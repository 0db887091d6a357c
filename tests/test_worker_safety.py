"""The worker's second line of defence, with real Keras: no downloads, no network, no weights,
nothing written under ``~/.keras``, and a failing statement costing only the targets that need it.

These requests are made by hand (``worker/messages.py``), so they test the worker and the pool
whatever discovery decides; ``test_realworld.py`` tests the two together on user-shaped files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from netviz_lsp.graph import ModelGraph
from netviz_lsp.worker.messages import BuildRequest, TargetSpec


@pytest.fixture(scope="module")
def pool(home_pool):
    """The worker, with an empty HOME (``conftest.home_pool``)."""
    return home_pool


def request(tmp_path: Path, source: str, *targets: TargetSpec, replacements=None) -> BuildRequest:
    path = tmp_path / "user.py"
    path.write_text(source)
    return BuildRequest(path=str(path), source=source, targets=list(targets), replacements=replacements or {})


def statements(source: str) -> int:
    return len(ast.parse(source).body)


def factory(name: str, source: str, args: str = "") -> TargetSpec:
    """A factory target needing every statement of ``source`` (as a slice would, for small files)."""
    line = next(i for i, text in enumerate(source.splitlines(), 1) if text.startswith(f"def {name}("))
    return TargetSpec(name, line, f"{name}({args})", list(range(statements(source))))


def graph(outcome, name: str) -> ModelGraph:
    found = [ModelGraph.from_dict(m) for m in outcome.models if m["factory"] == name]
    assert found, f"{name} did not build: {outcome.errors}"
    return found[0]


def test_a_pretrained_backbone_builds_shape_only_without_weights(pool, tmp_path, home):
    source = ("import keras\n\n\n"
              "def backbone():\n"
              "    base = keras.applications.ResNet50(weights='imagenet', include_top=False, input_shape=(96, 96, 3))\n"
              "    base.load_weights('/nonexistent/weights.h5')\n"
              "    x = keras.layers.GlobalAveragePooling2D()(base.output)\n"
              "    return keras.Model(base.input, keras.layers.Dense(5)(x))\n")
    outcome = pool.build(request(tmp_path, source, factory("backbone", source)), 60)
    model = graph(outcome, "backbone")
    assert model.total_params == 23_587_712 + 2048 * 5 + 5
    assert model.build.shape_only
    assert "pretrained weights not loaded (shape-only)" in model.build.note
    assert "load_weights() skipped" in model.build.note
    assert not (home / ".keras").exists(), "the worker wrote under ~/.keras"


def test_a_factory_that_trains_and_saves_draws_and_writes_nothing(pool, tmp_path):
    """A factory marked for preview that fits on a batch it makes and saves before it returns
    (a user's `train_and_export()`): fit trains nothing, save and save_weights write nothing."""
    source = ("import numpy as np\nimport keras\n\n\n"
              "def train_and_export():  # netviz: preview\n"
              "    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation='relu'),\n"
              "                              keras.layers.Dense(1)])\n"
              "    model.compile('adam', 'mse')\n"
              "    history = model.fit(np.ones((32, 8)), np.ones((32, 1)), epochs=3, verbose=0)\n"
              "    model.train_on_batch(np.ones((4, 8)), np.ones((4, 1)))\n"
              "    model.save('trained.keras')\n"
              "    model.save_weights('trained.weights.h5')\n"
              "    model.export('saved_model')\n"
              "    assert history.history == {} and history.model is model\n"
              "    return model\n")
    outcome = pool.build(request(tmp_path, source, factory("train_and_export", source)), 60)
    model = graph(outcome, "train_and_export")
    assert model.total_params == 8 * 16 + 16 + 16 + 1
    for note in ("fit() skipped", "train_on_batch() skipped", "save() skipped", "save_weights() skipped",
                 "export() skipped"):
        assert note in model.build.note
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user.py"]


def test_get_file_and_sockets_are_refused_at_the_users_line(pool, tmp_path):
    source = ("import keras\nimport urllib.request\n\n\n"
              "def downloads():\n"
              "    keras.utils.get_file('data.csv', 'https://example.com/data.csv')\n"
              "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])\n\n\n"
              "def connects():\n"
              "    urllib.request.urlopen('http://10.255.255.1/', timeout=30)\n"
              "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])\n")
    outcome = pool.build(request(tmp_path, source, factory("downloads", source), factory("connects", source)), 60)
    errors = {e.factory: e for e in outcome.errors}
    assert errors["downloads"].line == 6
    assert "NetViz does not download (https://example.com/data.csv)" in errors["downloads"].message
    assert errors["connects"].line == 11
    assert "never use the network" in errors["connects"].message


def test_a_failing_statement_costs_only_the_targets_that_need_it(pool, tmp_path):
    source = ("import keras\n"                                        # 0
              "import cv2\n"                                          # 1: not installed
              "WIDTH = 8\n"                                           # 2
              "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(WIDTH)])\n"  # 3
              "def needs_cv2():\n"                                    # 4
              "    return keras.Sequential([keras.Input((cv2.IMREAD_COLOR,)), keras.layers.Dense(1)])\n")
    variable = TargetSpec("model", 4, "model", [0, 2, 3], kind="variable", after=3, start=3)
    needs = TargetSpec("needs_cv2", 5, "needs_cv2()", [0, 1, 4])
    outcome = pool.build(request(tmp_path, source, variable, needs), 60)
    model = graph(outcome, "model")
    assert (model.kind, model.total_params, model.layers[0].line) == ("variable", 40, 4)
    (error,) = outcome.errors
    assert (error.factory, error.line, error.kind) == ("needs_cv2", 2, "build")
    assert "No module named 'cv2'" in error.message and "pip install opencv-python" in error.message


def test_a_variable_is_read_before_later_code_rebinds_it(pool, tmp_path):
    source = ("import keras\n"
              "model = keras.Sequential([keras.Input((4,))])\n"
              "model.add(keras.layers.Dense(3))\n"
              "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(9)])\n")
    first = TargetSpec("model", 2, "model", [0, 1, 2], kind="variable", after=2, start=1)
    second = TargetSpec("model@4", 4, "model", [0, 3], kind="variable", after=3, start=3)
    outcome = pool.build(request(tmp_path, source, first, second), 60)
    assert graph(outcome, "model").total_params == 15
    assert graph(outcome, "model@4").total_params == 27
    assert [layer.id for layer in graph(outcome, "model@4").layers] == ["dense"], "names restart per model"


def test_keras_datasets_are_stood_in_with_their_real_shapes(pool, tmp_path, home):
    source = ("import keras\nimport numpy as np\n"
              "(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()\n"
              "num_classes = len(np.unique(y_train))\n"
              "model = keras.Sequential([keras.Input(x_train.shape[1:]), keras.layers.Flatten(),\n"
              "                          keras.layers.Dense(num_classes)])\n")
    stand_in = "(x_train, y_train), (x_test, y_test) = __netviz_dataset__('cifar10')"
    target = TargetSpec("model", 5, "model", [0, 1, 2, 3, 4], kind="variable", after=4, start=4)
    outcome = pool.build(request(tmp_path, source, target, replacements={2: stand_in}), 60)
    model = graph(outcome, "model")
    assert model.inputs == [[None, 32, 32, 3]]
    assert model.total_params == 32 * 32 * 3 * 10 + 10
    assert "keras.datasets.cifar10 stood in" in model.build.note
    assert not (home / ".keras").exists()


def test_a_hanging_statement_times_out_only_its_targets(pool, tmp_path):
    source = ("import keras\nimport time\n"
              "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])\n"
              "SLOW = time.sleep(600)\n"
              "def slow():\n"
              "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])\n")
    fine = TargetSpec("model", 3, "model", [0, 2], kind="variable", after=2, start=2)
    slow = TargetSpec("slow", 5, "slow()", [0, 1, 3, 4])
    outcome = pool.build(request(tmp_path, source, fine, slow), 2)
    assert graph(outcome, "model").total_params == 10
    (error,) = outcome.errors
    assert (error.kind, error.factory, error.line) == ("timeout", "slow", 4)


def test_the_files_future_imports_hold_for_every_statement(pool, tmp_path):
    source = ("from __future__ import annotations\n"
              "import keras\n\n\n"
              "def build(width: Width = 3) -> keras.Model:\n"  # ``Width`` exists nowhere: fine only lazily
              "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(width)])\n")
    outcome = pool.build(request(tmp_path, source, factory("build", source)), 60)
    assert graph(outcome, "build").total_params == 15


def test_tf_keras_and_submodule_spellings_of_an_application_load_no_weights(pool, tmp_path, home):
    source = ("import tensorflow as tf\nfrom keras.applications.mobilenet_v2 import MobileNetV2\n\n\n"
              "def via_tf():\n"
              "    return tf.keras.applications.MobileNetV2(weights='imagenet', include_top=False, input_shape=(96, 96, 3))\n\n\n"
              "def via_module():\n"
              "    return MobileNetV2(weights='imagenet', include_top=False, input_shape=(96, 96, 3))\n")
    outcome = pool.build(request(tmp_path, source, factory("via_tf", source), factory("via_module", source)), 60)
    for name in ("via_tf", "via_module"):
        model = graph(outcome, name)
        assert model.total_params == 2_257_984
        assert "pretrained weights not loaded (shape-only)" in model.build.note
    assert not (home / ".keras").exists()
