"""Notebooks (``.ipynb``): the code cells joined into one text, built, and mapped back to cells.

The joining is pure (``netviz_lsp/notebook.py``); the CLI test builds a real notebook with a
real worker and checks each model's and layer's cell and line, the errors' cells, and that the
data and training cells never ran.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from netviz_lsp.graph import BuildError, BuildInfo, FileResult, Layer, ModelGraph
from netviz_lsp.notebook import Cell, from_ipynb, join, map_result

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "tests" / "fixtures" / "notebooks" / "fashion_classifier.ipynb"


def cells(*texts: str) -> list[Cell]:
    """Code cells, or markdown for texts starting with ``#md``."""
    return [Cell(i, "markdown" if t.startswith("#md") else "code", t) for i, t in enumerate(texts)]


def test_code_cells_join_in_order_and_every_line_knows_its_cell():
    nb = join(cells("#md title", "import keras\nWIDTH = 4", "#md more", "model = keras.Sequential()\nmodel.add(x)\n"))
    assert nb.source == "import keras\nWIDTH = 4\nmodel = keras.Sequential()\nmodel.add(x)\n"
    assert [nb.where(n) for n in range(1, 5)] == [(1, 1), (1, 2), (3, 1), (3, 2)]
    assert nb.where(0) == nb.where(5) == (None, None)
    assert (nb.line_of(3, 2), nb.line_of(1, 3), nb.line_of(2, 1)) == (4, None, None)
    assert nb.errors == []


def test_magics_and_shell_lines_are_blanked_line_for_line():
    nb = join(cells("!pip install -q seaborn\n%matplotlib inline\nimport keras",
                    "files = !ls data\n  %time x = 1\nkeras?\n??keras.layers\nX = 1",
                    "%%bash\necho hi\nls",
                    "%%time\nY = 2\n",
                    "%%capture out\nZ = 3"))
    assert nb.source.split("\n") == ["", "", "import keras", "", "", "", "", "X = 1", "", "", "", "", "Y = 2", "",
                                     "Z = 3", ""]
    assert nb.where(13) == (3, 2) and nb.errors == []


def test_a_cell_that_does_not_parse_is_blanked_and_its_error_names_the_cell():
    nb = join(cells("import keras", "model = keras.Sequential([\n", "def f():\n    pass\nreturn 3", "W = 1"))
    assert [(e.kind, e.cell, e.line) for e in nb.errors] == [("syntax", 1, 1), ("syntax", 2, 3)]
    assert nb.errors[0].message == "'[' was never closed" and nb.errors[0].factory is None
    assert nb.source.split("\n") == ["import keras", "", "", "", "", "W = 1", ""]


def test_from_ipynb_reads_list_or_string_sources_and_rejects_what_is_no_notebook():
    text = json.dumps({"cells": [{"cell_type": "markdown", "source": ["# t"]},
                                 {"cell_type": "code", "source": ["a = 1\n", "b = 2"]},
                                 {"cell_type": "code", "source": "c = 3"}]})
    found, error = from_ipynb(text)
    assert error is None and [(c.index, c.kind, c.text) for c in found] == [
        (0, "markdown", "# t"), (1, "code", "a = 1\nb = 2"), (2, "code", "c = 3")]
    assert from_ipynb("{not json")[1].message.startswith("the notebook is not valid JSON")
    assert from_ipynb('{"cells": 3}')[1].message == "the notebook has no `cells` list"


def test_a_result_maps_to_cells_for_models_layers_call_chains_and_errors():
    nb = join(cells("#md", "import keras\ndef block(x):\n    return keras.layers.Dense(2)(x)", "#md", "model = f()"))
    layer = Layer("dense", "dense", "Dense", 3, [3, 4], [None, 2], 6, True)
    model = ModelGraph("model", 4, "Functional", 6, 6, 0, [[None, 2]], [[None, 2]], BuildInfo(1.0, True), [layer])
    errors = [BuildError("build", "boom", 4, "other"), BuildError("crash", "no line", None, "third")]
    mapped = map_result(FileResult("nb.ipynb", [model], errors), nb)
    (m,) = mapped.models
    assert (m.cell, m.line) == (3, 1)
    assert (m.layers[0].cell, m.layers[0].line, m.layers[0].call_lines, m.layers[0].call_cells) == (1, 3, [3, 1], [1, 3])
    assert [(e.factory, e.cell, e.line) for e in mapped.errors] == [("third", None, None), ("other", 3, 1)]


def test_netviz_render_builds_a_notebook_with_cells_and_lines_and_runs_no_data_or_training(tmp_path):
    notebook = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, notebook)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "netviz_lsp.cli", "render", str(notebook), "--format", "json"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 1, done.stderr  # two cells are broken on purpose
    result = json.loads(done.stdout)
    source = json.loads(NOTEBOOK.read_text())["cells"]

    def cell_line(cell: int, needle: str) -> int:
        return next(i for i, text in enumerate("".join(source[cell]["source"]).split("\n"), 1) if needle in text)

    model, mlp = result["models"]
    assert (model["factory"], model["kind"], model["cell"], model["line"]) == ("model", "variable", 5, 3)
    assert model["total_params"] == 320 + 13 * 13 * 32 * 10 + 10
    conv = model["layers"][0]
    assert (conv["class_name"], conv["cell"], conv["line"]) == ("Conv2D", 5, cell_line(5, "layers.Conv2D(32"))
    assert conv["output_shape"] == [None, 26, 26, 32]
    assert (mlp["factory"], mlp["cell"], mlp["line"], mlp["total_params"]) == ("residual_mlp", 6, 1, 59_210)
    syntax, build = result["errors"]
    assert (syntax["kind"], syntax["cell"], syntax["line"], syntax["factory"]) == ("syntax", 8, 1, None)
    assert (build["kind"], build["cell"], build["line"], build["factory"]) == ("build", 9, 2, "bad_head")
    assert "merge layer should be called on a list" in build["message"]
    assert f"{notebook}:cell 10:2: build error in bad_head" in done.stderr  # cells counted from 1
    # The data cell, the %%time training cell and the plot never ran: nothing downloaded or written.
    assert sorted(p.name for p in tmp_path.iterdir()) == [NOTEBOOK.name]


def test_a_subclassed_model_in_a_notebook_is_traced_and_its_layers_know_their_cells(tmp_path):
    def code(text: str) -> dict:
        return {"cell_type": "code", "metadata": {}, "outputs": [], "source": text}

    notebook = tmp_path / "subclassed.ipynb"
    notebook.write_text(json.dumps({"cells": [
        code("import keras\nfrom keras import layers"),
        {"cell_type": "markdown", "metadata": {}, "source": "## A subclassed model"},
        code("class Tiny(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
             "        self.hidden = layers.Dense(32, activation='relu')\n        self.out = layers.Dense(10)\n\n"
             "    def call(self, x):\n        return self.out(self.hidden(x))"),
        code("%time\nnet = Tiny()\nnet.build((None, 784))"),
    ], "nbformat": 4, "nbformat_minor": 5}))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "netviz_lsp.cli", "render", str(notebook), "--format", "json"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    (net,) = json.loads(done.stdout)["models"]
    assert (net["factory"], net["kind"], net["cell"], net["line"]) == ("net", "variable", 3, 2)
    assert net["total_params"] == 784 * 32 + 32 + 32 * 10 + 10
    hidden = next(layer for layer in net["layers"] if layer["class_name"] == "Dense")
    assert (hidden["cell"], hidden["line"]) == (2, 4)  # made in the class's cell, where __init__ builds it
