"""Colab-style notebooks and scripts: the boilerplate around the model must not cost it.

Each fixture in ``tests/fixtures/colab/`` is shaped like a notebook written on Colab: Drive
mounts, ``!pip install`` and ``%tensorflow_version`` lines, GPU/TPU probes, a TPU strategy
with a fallback, ``tfds.load(..., with_info=True)``, Weights & Biases callbacks, ``%%time``
training cells. ``colab_export.py`` is a notebook saved with File > Download .py, which keeps
its ``!pip`` line as it was. Each is built for real through ``Engine.build`` as the CLI builds
it; totals are plain Keras 3's for the same layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

from real_builds import copy_and_build, drawn, line_of, model, untouched

from netviz_lsp.discovery import discover
from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult

COLAB = Path(__file__).resolve().parent / "fixtures" / "colab"


def build(engine: Engine, tmp_path: Path, name: str, edit=None) -> tuple[FileResult, Path]:
    return copy_and_build(engine, COLAB / name, tmp_path, edit)


def test_a_tpu_notebook_draws_its_model_through_the_strategy_fallback(engine, tmp_path):
    result, _ = build(engine, tmp_path, "tpu_flowers.ipynb")
    assert result.errors == []
    # Rescaling, 3 × (Conv2D, BatchNormalization, MaxPooling2D), pooling, Dropout, Dense(5):
    # 896 + 128 + 18,496 + 256 + 73,856 + 512 + 645.
    assert drawn(result) == {"model": ("Functional", 94_789)}
    cnn = model(result, "model")
    assert cnn.cell == 9  # `with strategy.scope(): model = build_model()` (markdown cells counted)
    assert cnn.layers[-1].output_shape == [None, 5]
    untouched(tmp_path, "tpu_flowers.ipynb")


def test_a_gpu_probe_that_raises_when_no_gpu_is_found_does_not_cost_the_model(engine, tmp_path):
    result, _ = build(engine, tmp_path, "gpu_textcls.ipynb")
    assert result.errors == []
    # Embedding(20000, 128) 2,560,000 + BiLSTM(64) 98,816 + BiLSTM(64) 98,816 + Dense(1) 129.
    assert drawn(result) == {"model": ("Functional", 2_757_761)}
    untouched(tmp_path, "gpu_textcls.ipynb")


NUM_CLASSES_LINE = "num_classes = info.features['label'].num_classes"


def test_tfds_num_classes_is_an_arguments_error_whose_stand_in_draws_the_model(engine, tmp_path):
    result, _ = build(engine, tmp_path, "tfds_wandb.ipynb")
    assert drawn(result) == {}
    [error] = result.errors
    assert (error.kind, error.factory, error.cell, error.line) == ("arguments", "model", 6, 1)
    assert error.message == (
        "`num_classes` (cell 5, line 2) needs `info`, which comes from a download at cell 5, line 1; "
        "NetViz does not run that. Add `# netviz: value=...` on cell 5, line 2 to stand in for it. "
        "It is the dataset's number of classes (`# netviz: value=10` for ten).")

    stood_in, _ = build(engine, tmp_path, "tfds_wandb.ipynb", lambda text: text.replace(NUM_CLASSES_LINE, NUM_CLASSES_LINE + "  # netviz: value=10"))
    assert stood_in.errors == []
    # Conv2D 896 + Conv2D 18,496 + Dense(128) over 6·6·64 295,040 + Dense(10) 1,290.
    assert drawn(stood_in) == {"model": ("Sequential", 315_722)}
    assert model(stood_in, "model").layers[-1].output_shape == [None, 10]


def test_a_script_downloaded_from_colab_keeps_its_pip_line_and_still_parses():
    source = (COLAB / "colab_export.py").read_text(encoding="utf-8")
    assert "\n!pip install -q tensorflow-datasets\n" in source
    found = discover(source, "colab_export.py")
    # Only the tfds value blocks it; the error's lines are the file's own (nothing shifted).
    [error] = found.errors
    assert error.kind == "arguments" and error.line == line_of(COLAB / "colab_export.py", "    model = build_model(")
    assert error.message == (
        "`NUM_CLASSES` (line 35) needs `info`, which comes from a download at line 34; NetViz does not run "
        "that. Add `# netviz: value=...` on line 35 to stand in for it. It is the dataset's number of "
        "classes (`# netviz: value=10` for ten).")
    # The quick fix puts `# netviz: value=` at the end of line 35.
    assert found.stand_ins == {"model": [("NUM_CLASSES", 35)]}


def test_a_shell_line_inside_code_is_still_a_syntax_error_at_its_line():
    source = "import keras\n!pip install keras\nif True:\n    x = (1,\n"
    [error] = discover(source, "broken.py").errors
    assert (error.kind, error.line) == ("syntax", 4)
    untouched_source = "def f():\n    !ls\n"
    [error] = discover(untouched_source, "f.py").errors
    assert (error.kind, error.line) == ("syntax", 2)


def test_a_colab_download_draws_with_the_stand_in_or_the_files_own_fallback(engine, tmp_path):
    path = COLAB / "colab_export.py"
    result, _ = build(engine, tmp_path, "colab_export.py")
    assert drawn(result) == {}
    [error] = result.errors
    assert (error.kind, error.line) == ("arguments", line_of(path, "    model = build_model("))

    # Conv2D 320 + Conv2D 18,496 + Dense(128) over 12·12·64 1,179,776 + Dense(10) 1,290.
    line = "NUM_CLASSES = info.features['label'].num_classes"
    stood_in, _ = build(engine, tmp_path, "colab_export.py",
                        lambda text: text.replace(line, line + "  # netviz: value=10"))
    assert stood_in.errors == []
    assert drawn(stood_in) == {"model": ("Sequential", 1_199_882)}

    # The same download in a try whose except gives a fallback: the model takes the fallback.
    load = "dataset, info = tfds.load('mnist', with_info=True, as_supervised=True)\n" + line + "\n"
    fallback = ("try:\n    dataset, info = tfds.load('mnist', with_info=True, as_supervised=True)\n"
                "    NUM_CLASSES = info.features['label'].num_classes\n"
                "except Exception:\n    NUM_CLASSES = 10\n")
    guarded, _ = build(engine, tmp_path, "colab_export.py", lambda text: text.replace(load, fallback))
    assert drawn(guarded) == {"model": ("Sequential", 1_199_882)}
    # (the data pipeline below still needs `dataset`, but no model does)
    assert guarded.errors == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["colab_export.py"]


def test_a_try_fallback_runs_at_its_own_lines_and_a_handler_that_cannot_run_is_no_fallback():
    source = ("import keras\nimport tensorflow_datasets as tfds\n"
              "try:\n    ds, info = tfds.load('mnist', with_info=True)\n    N = info.features['label'].num_classes\n"
              "except Exception:\n    N = 10\n"
              "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(N)])\n")
    found = discover(source, "fallback.py")
    assert found.errors == [] and found.skipped == {}
    replacement = found.replacements[2]
    assert ast.parse(replacement).body[0].body[0].lineno + 2 == 7  # `N = 10` stays on line 7

    # `except Exception as error:` is a fallback unless its body reads `error`.
    named = source.replace("except Exception:\n", "except Exception as error:\n")
    assert discover(named, "fallback.py").errors == []
    reads_it = named.replace("    N = 10\n", "    print(error)\n    N = 10\n")
    assert discover(reads_it, "fallback.py").skipped == {2: "downloads"}

    downloads_again = source.replace("    N = 10\n", "    ds, info = tfds.load('mnist', data_dir='/content')\n"
                                                      "    N = info.features['label'].num_classes\n")
    found = discover(downloads_again, "fallback.py")
    assert found.skipped == {2: "downloads"} and [e.kind for e in found.errors] == ["arguments"]


def test_the_server_and_the_engine_read_a_colab_export_as_discovery_does():
    from netviz_lsp.engine.workspace import imported_names
    from netviz_lsp.server import actions, diagnostics

    source = "!pip install -q wandb\n%load_ext tensorboard\nimport blocks\n\n\ndef residual(x):\n    return x\n"
    assert (0, "blocks") in imported_names(source)  # a workspace module it imports is still watched
    assert diagnostics.enclosing_functions(source)(7) == "residual"  # the call chain names the helper
    assert actions.parse(source) is not None  # quick fixes find their calls
    assert actions.parse("def broken(:\n") is None
