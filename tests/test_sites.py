"""Creation sites and the warnings Keras raises while a layer is constructed (``worker/sites.py``).

Real Keras, in this process: the user's file is written to disk and its code compiled
under that name, as the worker runs it, inside ``recording_sites``. A warning must
name the user's line, never ``sites.py``, the wrapper that records the sites. The last
test does the same through ``netviz render`` and a real worker, whose stderr is the log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import pytest

from netviz_lsp.worker import sites
from netviz_lsp.worker.sites import creation_site, recording_sites

INPUT_SHAPE = "Do not pass an `input_shape`"


def run_user_file(tmp_path: Path, source: str, name: str = "model.py") -> tuple[dict, list, str]:
    """Run ``source`` as the file ``name`` inside ``recording_sites``; its namespace, warnings and path."""
    path = tmp_path / name
    path.write_text(source)
    namespace: dict = {"__name__": "__netviz_main__"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with recording_sites(str(path)):
            exec(compile(source, str(path), "exec"), namespace)
    return namespace, caught, str(path)


def line_of(source: str, needle: str) -> int:
    return next(i for i, line in enumerate(source.split("\n"), 1) if needle in line)


def input_shape_warnings(caught: list) -> list:
    return [w for w in caught if INPUT_SHAPE in str(w.message)]


def test_a_keras_warning_in_a_layer_constructor_names_the_users_line(tmp_path):
    source = (
        "import keras\n"
        "\n"
        "model = keras.Sequential([\n"
        "    keras.layers.Dense(4, input_shape=(3,)),\n"
        "    keras.layers.Dense(2),\n"
        "])\n"
    )
    namespace, caught, path = run_user_file(tmp_path, source)
    (warning,) = input_shape_warnings(caught)
    assert (warning.filename, warning.lineno) == (path, line_of(source, "input_shape=(3,)"))
    assert warning.category is UserWarning
    assert not any(w.filename == sites.__file__ for w in caught)
    first = namespace["model"].layers[0]
    assert creation_site(first, path) == (4, [4])  # the sites are still recorded


def test_a_warning_from_a_layer_built_inside_a_custom_layer_names_the_inner_line(tmp_path):
    source = (
        "import keras\n"
        "\n"
        "class Block(keras.layers.Layer):\n"
        "    def __init__(self, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.dense = keras.layers.Dense(4, input_shape=(3,))\n"
        "\n"
        "    def call(self, x):\n"
        "        return self.dense(x)\n"
        "\n"
        "block = Block()\n"
    )
    namespace, caught, path = run_user_file(tmp_path, source)
    (warning,) = input_shape_warnings(caught)
    assert (warning.filename, warning.lineno) == (path, line_of(source, "input_shape=(3,)"))
    assert creation_site(namespace["block"], path)[0] == line_of(source, "block = Block()")


def test_the_users_own_warnings_keep_their_place(tmp_path):
    source = (
        "import warnings\n"
        "import keras\n"
        "\n"
        "class Noisy(keras.layers.Layer):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        warnings.warn('mine', stacklevel=2)\n"
        "\n"
        "noisy = Noisy()\n"
    )
    _, caught, path = run_user_file(tmp_path, source)
    (mine,) = [w for w in caught if str(w.message) == "mine"]
    assert (mine.filename, mine.lineno) == (path, line_of(source, "noisy = Noisy()"))


def test_with_no_line_of_the_file_on_the_stack_the_wrapper_is_skipped(tmp_path):
    # The layer is made while another file is previewed: no frame of it is on the stack,
    # so the warning names what Keras itself would have named without the wrapper.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with recording_sites(str(tmp_path / "elsewhere.py")):
            keras.layers.Dense(4, input_shape=(3,))
    (warning,) = input_shape_warnings(caught)
    assert warning.filename != sites.__file__
    assert os.path.basename(warning.filename) == "dense.py"
    assert warning.filename.startswith(os.path.dirname(keras.__file__))


def test_filters_still_decide_and_everything_is_restored_afterwards(tmp_path):
    source = "import keras\n\nlayer = keras.layers.Dense(4, input_shape=(3,))\n"
    path = tmp_path / "strict.py"
    path.write_text(source)
    shown_before = warnings.showwarning
    init_before = keras.layers.Layer.__init__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="input_shape"):
            with recording_sites(str(path)):
                exec(compile(source, str(path), "exec"), {"__name__": "__netviz_main__"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore")
        with recording_sites(str(path)):
            exec(compile(source, str(path), "exec"), {"__name__": "__netviz_main__"})
    assert caught == []
    assert warnings.showwarning is shown_before
    assert keras.layers.Layer.__init__ is init_before


def test_in_a_real_worker_the_log_names_the_users_line(tmp_path):
    source = (
        "import keras\n"
        "\n"
        "\n"
        "def make():\n"
        "    return keras.Sequential([\n"
        "        keras.layers.Dense(4, input_shape=(3,)),\n"
        "        keras.layers.Dense(2),\n"
        "    ])\n"
    )
    path = tmp_path / "warned.py"
    path.write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "netviz_lsp.cli", "render", str(path), "--format", "dot", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr
    # the CLI reports the build's warning like an error, at the user's line (its raw echo is dropped)
    assert f"{path}:{line_of(source, 'input_shape=(3,)')}: warning: UserWarning: {INPUT_SHAPE}" in done.stderr
    assert "sites.py" not in done.stderr
