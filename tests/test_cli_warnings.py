"""``netviz render`` prints the build's warnings on stderr, compiler style, once each, and Python's
own echo of them from the worker (at the joined script's line, for a notebook) never reaches it.

Two real runs of the CLI (a Keras 2 script and a Keras 2 notebook, real worker and Keras), then
the echo filter and the report on their own, without Keras."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

from netviz_lsp.cli import WarningEchoes, _report
from netviz_lsp.graph import BuildError, BuildWarning, FileResult

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "warnings"
INPUT_SHAPE = ("Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential models, "
               "prefer using an `Input(shape)` object as the first layer in the model instead.")
ECHO = re.compile(r"^.*:\d+: \w*Warning: ", re.M)
"""Python's ``formatwarning`` line (``file:12: UserWarning: ...``): never on the CLI's stderr."""


def netviz(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netviz_lsp.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def test_a_keras2_script_s_input_shape_warning_is_printed_once_at_its_line_and_not_echoed():
    script = "tests/fixtures/warnings/mnist_mlp.py"
    line = 1 + (FIXTURES / "mnist_mlp.py").read_text().splitlines().index(
        "model.add(Dense(512, activation='relu', input_shape=(784,)))")
    done = netviz("render", script, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # stdout is the JSON alone
    assert [(w["line"], w["category"], w["message"]) for w in data["warnings"]] == [(line, "UserWarning", INPUT_SHAPE)]
    assert data["models"][0]["total_params"] == 669_706
    lines = done.stderr.splitlines()
    assert lines.count(f"{script}:{line}: warning: UserWarning: {INPUT_SHAPE}") == 1, done.stderr
    assert ECHO.findall(done.stderr) == [], done.stderr
    assert "input_shape=(784,)))" not in done.stderr, "the echo's source line"
    assert any(l.startswith("model: Sequential, 5 layers, 669,706 params") for l in lines), done.stderr


def test_a_notebook_s_warning_names_its_cell_from_1_and_the_joined_line_is_never_shown():
    notebook = "tests/fixtures/warnings/mnist_convnet.ipynb"
    cells = json.loads((FIXTURES / "mnist_convnet.ipynb").read_text())["cells"]
    cell, line = next((index, number) for index, c in enumerate(cells)
                      for number, text in enumerate("".join(c["source"]).splitlines(), 1) if "input_shape=input_shape" in text)
    done = netviz("render", notebook, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [(w["cell"], w["line"], w["message"]) for w in data["warnings"]] == [(cell, line, INPUT_SHAPE)]
    assert done.stderr.splitlines().count(f"{notebook}:cell {cell + 1}:{line}: warning: UserWarning: {INPUT_SHAPE}") == 1, \
        done.stderr
    assert ECHO.findall(done.stderr) == [], done.stderr  # the worker's echo said mnist_convnet.ipynb:<joined line>
    assert '"metadata"' not in done.stderr, "the echo's 'source line' (a line of the notebook's JSON)"


# -- without Keras ------------------------------------------------------------------------------

ECHOED = f"/home/me/mnist_mlp.py:37: UserWarning: {INPUT_SHAPE}\n"
SOURCE = "  model.add(Dense(512, activation='relu', input_shape=(784,)))\n"


def warning(message: str = INPUT_SHAPE, category: str = "UserWarning", line: int = 37) -> BuildWarning:
    return BuildWarning(message=message, category=category, line=line, factory="model")


def test_the_echo_of_a_reported_warning_is_dropped_and_other_output_keeps_its_order():
    out = io.StringIO()
    echoes = WarningEchoes(out.write)
    echoes("x_train shape: (60000, 28, 28, 1)\n")
    assert out.getvalue() == "x_train shape: (60000, 28, 28, 1)\n", "plain output is written at once"
    for text in (ECHOED, SOURCE, "60000 train samples\n"):
        echoes(text)
    assert out.getvalue() == "x_train shape: (60000, 28, 28, 1)\n", "held from the echo on until the build settles"
    echoes.settle([warning()])
    assert out.getvalue() == "x_train shape: (60000, 28, 28, 1)\n60000 train samples\n"


def test_an_echo_the_build_did_not_report_is_written_as_it_came():
    out = io.StringIO()
    echoes = WarningEchoes(out.write)
    other = "/usr/lib/python3/site-packages/h5py/__init__.py:36: FutureWarning: Conversion of the second argument\n"
    for text in (other, "  from ._conv import register_converters\n", "done\n"):
        echoes(text)
    echoes.settle([warning()])
    assert out.getvalue() == other + "  from ._conv import register_converters\ndone\n"


def test_a_late_echo_of_a_reported_warning_is_dropped_with_its_source_line():
    out = io.StringIO()
    echoes = WarningEchoes(out.write)
    echoes.settle([warning()])
    echoes(ECHOED)
    echoes(SOURCE)
    echoes("  indented user output\n")
    assert out.getvalue() == "  indented user output\n"


def test_a_multi_line_message_is_matched_whole():
    out = io.StringIO()
    echoes = WarningEchoes(out.write)
    message = "`build()` was called on layer 'encoder', however the layer does not have a `build()` method.\nIt is recommended to implement it."
    first, second = message.split("\n")
    for text in (f"/w/vae.py:12: UserWarning: {first}\n", f"{second}\n", "  z = Sampling()([z_mean, z_log_var])\n",
                 f"/w/vae.py:12: UserWarning: {first}\n", "Something else\n"):
        echoes(text)
    echoes.settle([warning(message, line=12)])
    echoes.close()
    assert out.getvalue() == f"/w/vae.py:12: UserWarning: {first}\nSomething else\n", \
        "the second echo's next line is not its message: it is no echo of the warning"


def test_close_writes_what_is_still_held():
    out = io.StringIO()
    echoes = WarningEchoes(out.write)
    echoes.settle([warning("first line\nsecond line")])
    echoes("/w/a.py:3: UserWarning: first line\n")
    assert out.getvalue() == ""
    echoes.close()
    assert out.getvalue() == "/w/a.py:3: UserWarning: first line\n"


def test_the_report_prints_each_warning_once_like_errors(capsys):
    shared = BuildWarning(INPUT_SHAPE, "UserWarning", line=4, factory="encoder", cell=2)
    result = FileResult(file="vae.ipynb", warnings=[
        shared, BuildWarning(INPUT_SHAPE, "UserWarning", line=4, factory="decoder", cell=2),
        BuildWarning("`tf.keras.backend.set_learning_phase` is deprecated.", "DeprecationWarning", line=None)],
        errors=[BuildError(kind="build", message="ValueError: bad", line=7, factory="decoder", cell=3)])
    _report(result, {})
    assert capsys.readouterr().err.splitlines() == [
        f"vae.ipynb:cell 3:4: warning: UserWarning: {INPUT_SHAPE}",
        "vae.ipynb: warning: DeprecationWarning: `tf.keras.backend.set_learning_phase` is deprecated.",
        "vae.ipynb:cell 4:7: build error in decoder: ValueError: bad",
    ]
