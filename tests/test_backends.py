"""Keras backends: the same models built on TensorFlow and on JAX, and which one a build picks.

Real builds in real workers: one TensorFlow worker and one JAX worker serve the module (the
pool starts each on its first build). The user's backend is pinned to TensorFlow here
(``KERAS_BACKEND``), except where a test sets another. torch is not installed by the dev
extra: its branch is tested through the choice (``Engine.backend_for``, no torch import) and
through what a torch build gives in this interpreter (a clear start error without torch, the
model with it); nothing is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netviz_lsp.discovery import discover
from netviz_lsp.discovery.backend import direct_use
from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult, ModelGraph
from netviz_lsp.server.hover import model_summary
from netviz_lsp.settings import Settings
from netviz_lsp.worker.pool import BuildPool, user_backend

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "backends"

#: example file -> (the targets built, their total params as TensorFlow builds them)
EXAMPLE_TOTALS = {
    "seed_cnns.py": {"construct_model": 63_021_004, "sconstruct_model": 5_277_260, "cconstruct_model": 5_074_156},
    "applications.py": {"resnet50": 25_636_712},
    "multi_io.py": {"ticket_classifier": 1_392_097},
    "nested.py": {"feature_block": 512, "siamese": 529},
    "subclassed.py": {"residual_mlp": 55_050},
    "notebook_style_script.py": {"model": 15_558},
}


@pytest.fixture(scope="module", autouse=True)
def tensorflow_user():
    """The user's own backend is TensorFlow for this module, whatever this machine's keras.json says."""
    patch = pytest.MonkeyPatch()
    patch.setenv("KERAS_BACKEND", "tensorflow")
    yield
    patch.undo()


@pytest.fixture(scope="module")
def engine(tensorflow_user):
    pool = BuildPool()
    yield Engine(pool)
    pool.close()


def settings(**build) -> Settings:
    return Settings.from_json({"build": build})


def build(engine: Engine, path: Path, only=None, roots=(), **build_settings) -> FileResult:
    return engine.build(str(path), path.read_text(encoding="utf-8"), settings(**build_settings), roots=roots,
                        only=only)


def signature(model: ModelGraph) -> tuple:
    """Everything a diagram shows of a model, but how long it took and which backend built it."""
    return (model.class_name, model.total_params, model.trainable_params, model.non_trainable_params,
            model.inputs, model.outputs, model.edges,
            [(l.id, l.class_name, l.output_shape, l.params, l.trainable, l.activation, l.parent, l.line)
             for l in model.layers])


_BUILT: dict[tuple[str, str], FileResult] = {}


def built(engine: Engine, example: str, backend: str) -> FileResult:
    """``example``'s targets built on ``backend`` (once per module)."""
    if (example, backend) not in _BUILT:
        _BUILT[(example, backend)] = build(engine, EXAMPLES / example, only=list(EXAMPLE_TOTALS[example]),
                                           backend=backend)
    return _BUILT[(example, backend)]


# -- the same models on both backends ----------------------------------------------------------

@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
@pytest.mark.parametrize("example", list(EXAMPLE_TOTALS))
def test_examples_build_the_same_on_tensorflow_and_jax(engine, example, backend):
    result = built(engine, example, backend)
    assert result.errors == []
    assert {m.factory: m.total_params for m in result.models} == EXAMPLE_TOTALS[example]
    assert {m.build.backend for m in result.models} == {backend}
    assert all(m.build.shape_only for m in result.models)
    other = built(engine, example, "jax" if backend == "tensorflow" else "tensorflow")
    assert [signature(m) for m in result.models] == [signature(m) for m in other.models]


def test_the_hover_says_which_backend_built_the_model(engine):
    summary = model_summary(built(engine, "seed_cnns.py", "jax").model("construct_model"))
    assert " on jax, shape-only" in summary


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_the_offline_rules_hold_on_both_backends(engine, backend):
    """weights="imagenet" builds with weights=None, load_weights() does nothing, get_file() is refused."""
    result = build(engine, FIXTURES / "transfer_learning.py", backend=backend)
    model = result.model("fine_tuned")
    assert (model.build.backend, model.total_params) == (backend, 2_257_984 + 1280 * 5 + 5)
    assert "pretrained weights not loaded (shape-only)" in model.build.note
    assert "load_weights() skipped" in model.build.note
    (error,) = result.errors
    assert (error.factory, error.line) == ("review_classifier", 24)
    assert "NetViz does not download (https://example.com/imdb_vocab.txt)" in error.message


# -- which backend auto picks --------------------------------------------------------------------

def test_auto_builds_a_backend_neutral_file_with_jax(engine):
    result = build(engine, EXAMPLES / "seed_cnns.py")
    assert result.errors == []
    assert {m.build.backend for m in result.models} == {"jax"}
    assert {m.factory: m.total_params for m in result.models} == EXAMPLE_TOTALS["seed_cnns.py"]


def test_auto_keeps_a_file_with_tf_ops_on_tensorflow(engine):
    result = build(engine, FIXTURES / "augmented_classifier.py")
    assert result.errors == []
    (model,) = result.models
    assert (model.factory, model.build.backend, model.total_params) == ("make_classifier", "tensorflow", 19_717)
    assert model.build.note is None  # the user's own backend: nothing to explain
    on_jax = build(engine, FIXTURES / "augmented_classifier.py", backend="jax")
    assert on_jax.models == [] and on_jax.errors[0].factory == "make_classifier"  # tf.image needs TensorFlow


def test_auto_reads_the_workspace_modules_the_slice_imports(engine):
    project = FIXTURES / "project"
    result = build(engine, project / "train.py", roots=[str(project)])
    assert result.errors == []
    assert {m.factory: m.build.backend for m in result.models} == {
        "tabular_model": "tensorflow", "linear_baseline": "tensorflow"}  # blocks.py calls tf.nn.gelu
    baseline = build(engine, project / "train.py", roots=[str(project)], only=["linear_baseline"])
    (model,) = baseline.models
    assert model.build.backend == "jax"  # its slice imports heads.py alone: plain Keras
    assert model.total_params == result.model("linear_baseline").total_params == 99


def test_tf_keras_and_tensorflow_outside_the_slice_leave_a_script_on_jax(engine):
    path = FIXTURES / "flowers_training.py"
    result = build(engine, path)
    assert result.errors == []
    (model,) = result.models
    assert (model.factory, model.build.backend) == ("model", "jax")
    on_tf = build(engine, path, backend="tensorflow")
    assert signature(on_tf.models[0]) == signature(model) and model.total_params == 3_989_285


def test_a_jax_failure_that_looks_backend_specific_is_built_on_tensorflow_with_a_note(engine):
    path = FIXTURES / "ported_layers.py"
    result = build(engine, path)
    assert result.errors == []  # JAX's NotImplementedError is not the user's: their backend builds it
    backbone, head = result.model("backbone"), result.model("head")
    assert backbone.build.backend == "tensorflow" and head.build.backend == "jax"
    assert "built with tensorflow, your Keras backend: jax failed (NotImplementedError" in backbone.build.note
    assert backbone.total_params == 9408 + 128 + 73_856
    assert build(engine, path, backend="tensorflow").model("backbone").total_params == backbone.total_params
    (error,) = build(engine, path, backend="jax").errors  # asked for JAX by name: its error is shown
    assert error.factory == "backbone" and "only implemented for the TensorFlow backend" in error.message


def test_the_backend_is_part_of_the_cache_key(engine):
    path = EXAMPLES / "nested.py"
    build(engine, path)
    again = build(engine, path)
    assert {(m.build.backend, m.build.cached) for m in again.models} == {("jax", True)}
    on_tf = build(engine, path, backend="tensorflow")  # nothing changed but the backend: built again
    assert {(m.build.backend, m.build.cached) for m in on_tf.models} == {("tensorflow", False)}
    assert [signature(m) for m in on_tf.models] == [signature(m) for m in again.models]
    on_tf_again = build(engine, path, backend="tensorflow")
    assert {(m.build.backend, m.build.cached) for m in on_tf_again.models} == {("tensorflow", True)}


def test_keras_backend_jax_is_the_users_backend(engine, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert user_backend() == "jax"
    result = build(engine, EXAMPLES / "subclassed.py", shapeOnly=False)  # auto: the user's backend
    (model,) = result.models
    assert (model.build.backend, model.build.shape_only, model.total_params) == ("jax", False, 55_050)
    (tf_file,) = build(engine, FIXTURES / "augmented_classifier.py").errors  # their backend's own error
    assert tf_file.factory == "make_classifier" and tf_file.kind == "build"


def test_the_cli_honours_the_users_keras_json(tmp_path):
    """No KERAS_BACKEND: ~/.keras/keras.json says jax, and the private KERAS_HOME does not hide it."""
    home = tmp_path / "home"
    (home / ".keras").mkdir(parents=True)
    (home / ".keras" / "keras.json").write_text(json.dumps({"backend": "jax", "floatx": "float32"}))
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME")}
    env.update(HOME=str(home), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "netviz_lsp.cli", "render", str(EXAMPLES / "multi_io.py"),
                           "--format", "json", "--no-shape-only"], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    (model,) = json.loads(done.stdout)["models"]
    assert (model["build"]["backend"], model["build"]["shape_only"], model["total_params"]) == ("jax", False, 1_392_097)
    assert sorted(p.name for p in (home / ".keras").iterdir()) == ["keras.json"]  # nothing written there


def test_start_begins_with_the_worker_a_neutral_file_builds_on():
    pool = BuildPool()
    try:
        Engine(pool).start(Settings())
        assert list(pool.backends()) == ["jax"]  # not the user's TensorFlow: auto builds neutral files on JAX
        Engine(pool).start(settings(shapeOnly=False))
        assert sorted(pool.backends()) == ["jax", "tensorflow"]
    finally:
        pool.close()
    assert pool.backends() == {}


# -- torch: the choice, and what a torch build gives here ---------------------------------------

def test_the_torch_branch_is_chosen_as_jax_and_tensorflow_are(engine, monkeypatch, tmp_path):
    neutral = (EXAMPLES / "nested.py").read_text()
    uses_torch = "import torch\nimport keras\n\n\ndef mlp():\n    return keras.Sequential([keras.Input((4,)), " \
                 "keras.layers.Dense(2)])\n\n\nDEVICE = torch.device('cpu')\n"
    assert engine.backend_for(settings(backend="torch"), "nested.py", neutral) == "torch"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert engine.backend_for(settings(), "nested.py", neutral) == "jax"  # shape-only and neutral
    assert engine.backend_for(settings(shapeOnly=False), "nested.py", neutral) == "torch"
    assert engine.backend_for(settings(), "mlp.py", uses_torch) == "torch"  # the whole file: torch is used
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    assert engine.backend_for(settings(), "mlp.py", uses_torch) == "tensorflow"  # the user's, not JAX
    assert engine.backend_for(settings(backend="jax"), "mlp.py", uses_torch) == "jax"  # asked by name


def test_a_torch_build_says_what_to_install_or_builds(engine):
    result = build(engine, EXAMPLES / "nested.py", backend="torch")
    if importlib.util.find_spec("torch") is None:
        assert result.models == []
        assert {e.kind for e in result.errors} == {"crash"}
        assert "with the torch backend" in result.errors[0].message
        assert "pip install torch" in result.errors[0].message
    else:
        assert {m.build.backend for m in result.models} == {"torch"}
        assert {m.factory: m.total_params for m in result.models} == EXAMPLE_TOTALS["nested.py"]


# -- direct uses, by ast ---------------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("import keras\nfrom keras import layers\nm = keras.Sequential([layers.Dense(3)])\n", None),
    ("import tensorflow as tf\nfrom tensorflow import keras\nfrom tensorflow.keras import layers\n"
     "m = tf.keras.Sequential([layers.Dense(3)])\n", None),
    ("import tensorflow.keras\nm = tensorflow.keras.Sequential()\n", None),
    ("import tensorflow as tf\nimport keras\n\n\ndef f():\n    x = keras.Input((3,))\n"
     "    return keras.Model(x, keras.layers.Lambda(lambda t: tf.nn.relu(t))(x))\n",
     ("tensorflow", 7, "tf.nn")),
    ("from tensorflow import image\n", ("tensorflow", 1, "from tensorflow import image")),
    ("from tensorflow.image import resize\n", ("tensorflow", 1, "from tensorflow.image import resize")),
    ("import tensorflow as tf\nops = [tf]\n", ("tensorflow", 2, "tf")),
    ("import tensorflow_hub as hub\n", ("tensorflow", 1, "import tensorflow_hub")),
    ("import tf_keras\n", ("tensorflow", 1, "import tf_keras")),
    ("import torch.nn as nn\n", ("torch", 1, "import torch.nn")),
    ("from torchvision import models\n", ("torch", 1, "from torchvision import models")),
    ("def broken(:\n", None),
])
def test_direct_uses(source, expected):
    found = direct_use(source, "/project/model.py")
    assert (found and (found.backend, found.line, found.what)) == expected


def test_only_the_slices_statements_count():
    path = FIXTURES / "flowers_training.py"
    source = path.read_text()
    found = discover(source, str(path))
    (model,) = found.factories
    assert direct_use(source, str(path), model.slice) is None
    whole = direct_use(source, str(path))
    assert (whole.backend, whole.what) == ("tensorflow", "tf.random")


def test_build_backend_setting():
    assert Settings().build.backend == "auto"
    for value, parsed in [("jax", "jax"), ("TensorFlow", "tensorflow"), ("torch", "torch"), ("numpy", "auto"),
                          (3, "auto"), (None, "auto")]:
        assert Settings.from_json({"build": {"backend": value}}).build.backend == parsed
