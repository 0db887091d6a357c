"""What a top-level statement does that NetViz never runs: the one table to audit.

A top-level statement is *skipped* (never part of any slice) when it makes a call listed in
``CALLS``, or is one of the statement kinds in ``STATEMENTS``, or calls one of the file's own
functions that downloads or reads files and builds no model (``facts._loaders``: ``x, y =
readucr(path)``). ``classify`` says why, as one of the ``REASONS``. Rows are matched in order; the first match wins. Every row carries an example
that ``tests/test_discovery_effects.py`` checks against this very row.

How a row matches a call, after import aliases are resolved (``plt.plot`` is
``matplotlib.pyplot.plot``, ``np.load`` is ``numpy.load``):

- ``name``: the whole dotted name equals ``pattern`` (``open``, ``os.listdir``);
- ``prefix``: the dotted name starts with ``pattern`` (``matplotlib.``, ``pandas.read_``);
- ``method``: the last part of the name, or the attribute called on any value
  (``Path(p).read_text()``, ``model.fit(...)``), equals ``pattern``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional

from netviz_lsp.discovery.astutil import LOOPS, WITHS, dotted, is_main_guard, last, module_level, resolve

#: Why a statement never runs, and how a message says where a value came from.
REASONS = {
    "downloads": "comes from a download at line {line}",
    "reads files": "comes from a file read at line {line}",
    "writes files": "comes from a file written at line {line}",
    "loads data": "comes from data loaded at line {line}",
    "trains": "comes from training at line {line}",
    "plots": "comes from plotting at line {line}",
    "runs a command": "comes from a command run at line {line}",
    "waits for input": "comes from input read at line {line}",
    "loop": "is set by the loop at line {line}",
    "with block": "is set in the `with` block at line {line}",
    "main guard": "is set in the `if __name__ == \"__main__\":` block at line {line}",
}


@dataclass(frozen=True)
class Row:
    match: str
    """``name``, ``prefix`` or ``method``."""
    pattern: str
    reason: str
    example: tuple[str, str]
    """``(imports, statement)`` that this row, and no earlier one, classifies."""


def _rows(reason: str, match: str, *items: tuple[str, str, str]) -> list[Row]:
    return [Row(match, pattern, reason, (imports, statement)) for pattern, imports, statement in items]


CALLS: tuple[Row, ...] = tuple([
    # Downloads (the network).
    *_rows("downloads", "method",
           ("get_file", "import keras", 'path = keras.utils.get_file("a.zip", URL)'),
           ("load_data", "import keras", "train = keras.datasets.mnist.load_data()[0]"),
           ("load_dataset", "from datasets import load_dataset", 'ds = load_dataset("imdb")')),
    *_rows("downloads", "prefix",
           ("urllib.", "import urllib.request", "urllib.request.urlretrieve(URL, 'a.csv')"),
           ("requests.", "import requests", "text = requests.get(URL).text"),
           ("wget.", "import wget", "wget.download(URL)"),
           ("gdown.", "import gdown", "gdown.download(URL)"),
           ("tensorflow_datasets.", "import tensorflow_datasets as tfds", 'ds = tfds.load("mnist")'),
           ("tensorflow_hub.load", "import tensorflow_hub as hub", "module = hub.load(URL)"),
           ("sklearn.datasets.", "from sklearn import datasets", "x, y = datasets.fetch_openml('mnist_784')")),
    # Training, evaluating, predicting, saving and loading models.
    *_rows("trains", "method",
           ("fit", "", "history = model.fit(x, y, epochs=5)"),
           ("fit_generator", "", "model.fit_generator(batches)"),
           ("train_on_batch", "", "loss = model.train_on_batch(x, y)"),
           ("test_on_batch", "", "loss = model.test_on_batch(x, y)"),
           ("evaluate", "", "score = model.evaluate(x, y)"),
           ("evaluate_generator", "", "score = model.evaluate_generator(batches)"),
           ("predict", "", "y_hat = model.predict(x)"),
           ("predict_generator", "", "y_hat = model.predict_generator(batches)"),
           ("predict_on_batch", "", "y_hat = model.predict_on_batch(x)"),
           ("predict_proba", "", "p = classifier.predict_proba(x)"),
           ("adapt", "", "normalizer.adapt(x_train)"),
           ("save", "", 'model.save("model.keras")'),
           ("save_weights", "", 'model.save_weights("w.weights.h5")'),
           ("load_weights", "", 'model.load_weights("w.weights.h5")'),
           ("load_model", "import keras", 'model = keras.models.load_model("model.keras")')),
    # Reading files and listing folders (the data the file was written for).
    *_rows("reads files", "prefix",
           ("pandas.read_", "import pandas as pd", 'df = pd.read_csv("train.csv")'),
           ("tensorflow.io.", "import tensorflow as tf", "raw = tf.io.read_file(path)")),
    *_rows("reads files", "name",
           ("os.listdir", "import os", 'names = os.listdir("data")'),
           ("os.walk", "import os", 'tree = list(os.walk("data"))'),
           ("os.scandir", "import os", 'entries = list(os.scandir("data"))')),
    *_rows("reads files", "method",
           ("open", "", 'text = open("labels.txt").read()'),
           ("glob", "import glob", 'files = glob.glob("data/*.png")'),
           ("iglob", "import glob", 'files = list(glob.iglob("data/*.png"))'),
           ("rglob", "from pathlib import Path", 'files = list(Path("data").rglob("*.png"))'),
           ("iterdir", "from pathlib import Path", 'folders = list(Path("data").iterdir())'),
           ("read_text", "from pathlib import Path", 'text = Path("labels.txt").read_text()'),
           ("read_bytes", "from pathlib import Path", 'raw = Path("x.bin").read_bytes()'),
           ("load", "import numpy as np", 'data = np.load("x.npz")'),
           ("loadtxt", "import numpy as np", "data = np.loadtxt(URL)"),
           ("genfromtxt", "import numpy as np", 'data = np.genfromtxt("x.csv", delimiter=",")'),
           ("fromfile", "import numpy as np", 'data = np.fromfile("x.bin")'),
           ("imread", "import cv2", 'image = cv2.imread("a.png")'),
           ("load_img", "import keras", 'image = keras.utils.load_img("a.png")'),
           ("image_dataset_from_directory", "import keras",
            'train_ds = keras.utils.image_dataset_from_directory("images")'),
           ("text_dataset_from_directory", "import keras",
            'train_ds = keras.utils.text_dataset_from_directory("texts")'),
           ("audio_dataset_from_directory", "import keras",
            'train_ds = keras.utils.audio_dataset_from_directory("audio")')),
    # Data pipelines built from arrays or files.
    *_rows("loads data", "method",
           ("timeseries_dataset_from_array", "import keras",
            "train_ds = keras.utils.timeseries_dataset_from_array(x, y, sequence_length=120)")),
    *_rows("loads data", "prefix",
           ("tensorflow.data.", "import tensorflow as tf", "ds = tf.data.Dataset.from_tensor_slices((x, y))")),
    # Writing files and folders.
    *_rows("writes files", "method",
           ("to_csv", "", 'df.to_csv("out.csv")'),
           ("to_pickle", "", 'df.to_pickle("out.pkl")'),
           ("savefig", "", 'fig.savefig("loss.png")'),
           ("dump", "import json", 'json.dump(history, open_file)'),
           ("savez", "import numpy as np", 'np.savez("x.npz", x=x)'),
           ("savetxt", "import numpy as np", 'np.savetxt("x.csv", x)'),
           ("write_text", "from pathlib import Path", 'Path("out.txt").write_text(text)'),
           ("write_bytes", "from pathlib import Path", 'Path("out.bin").write_bytes(raw)'),
           ("makedirs", "import os", 'os.makedirs("out", exist_ok=True)'),
           ("mkdir", "from pathlib import Path", 'Path("out").mkdir()')),
    *_rows("writes files", "prefix",
           ("shutil.", "import shutil", 'shutil.rmtree("out")')),
    # Plotting and displaying.
    *_rows("plots", "prefix",
           ("matplotlib.", "import matplotlib.pyplot as plt", "plt.plot(history.history['loss'])"),
           ("seaborn.", "import seaborn as sns", "sns.heatmap(matrix)"),
           ("plotly.", "import plotly.express as px", "figure = px.line(frame)"),
           ("IPython.", "from IPython.display import Image", 'Image("model.png")')),
    *_rows("plots", "method",
           ("display", "", "display(frame.head())"),
           ("plot_model", "import keras", 'keras.utils.plot_model(model, "model.png")'),
           ("summary", "", "model.summary()"),
           ("imshow", "", "axis.imshow(image)"),
           ("show", "", "figure.show()"),
           ("plot", "", "frame.plot()")),
    # Other processes and the terminal.
    *_rows("runs a command", "prefix",
           ("subprocess.", "import subprocess", 'subprocess.run(["wget", URL])')),
    *_rows("runs a command", "name",
           ("os.system", "import os", 'os.system("wget " + URL)'),
           ("os.popen", "import os", 'listing = os.popen("ls").read()')),
    *_rows("waits for input", "name",
           ("input", "", 'answer = input("continue? ")')),
])

#: Statement kinds that never run, whatever they contain.
STATEMENTS = {
    "loop": "a top-level `for`, `async for` or `while` loop",
    "with block": "a top-level `with` block",
    "main guard": 'the `if __name__ == "__main__":` block',
}

#: Context managers a top-level ``with`` may use and still run: they only choose where
#: variables go (``with strategy.scope():``, ``with tf.device("/CPU:0"):``).
SCOPE_METHODS = frozenset({"scope", "device", "name_scope"})

#: Reasons a later binding may be passed over for an earlier one that runs: a loop that
#: rebinds a name, or the main guard, does not change what the name held before.
PASSABLE = frozenset({"loop", "main guard"})

#: Reasons that keep a function from being an inferred factory (building it would do them).
#: A ``# netviz: preview`` comment or ``factoryArgs`` overrides.
FACTORY_EXCLUDED = frozenset({"downloads", "trains", "runs a command", "waits for input"})
#: ...except these calls, which a model-building function may harmlessly make (the worker
#: makes ``load_weights`` a no-op and ``save`` is rarely inside a factory).
_FACTORY_ALLOWED = frozenset({"load_weights", "adapt", "save", "save_weights", "load_model", "predict_proba"})


def call_reason(call: ast.Call, known: dict[str, str]) -> Optional[tuple[str, str]]:
    """``(reason, pattern)`` of the first row matching ``call``, or ``None``."""
    name = dotted(call.func)
    full = resolve(name, known) if name else None
    method = call.func.attr if isinstance(call.func, ast.Attribute) else (last(full) if full else None)
    for row in CALLS:
        if row.match == "method":
            hit = method == row.pattern
        elif full is None:
            continue
        elif row.match == "name":
            hit = full == row.pattern
        else:
            hit = full.startswith(row.pattern)
        if hit:
            return row.reason, row.pattern
    return None


def classify(stmt: ast.stmt, known: dict[str, str]) -> Optional[str]:
    """Why the top-level ``stmt`` never runs, or ``None`` when it may. ``if``/``try`` blocks
    run only when everything in them may; def and class bodies are not looked into."""
    if is_main_guard(stmt):
        return "main guard"
    if isinstance(stmt, LOOPS):
        return "loop"
    if isinstance(stmt, WITHS) and not placement_only(stmt):
        return "with block"
    for node in module_level([stmt]):
        if node is not stmt and isinstance(node, LOOPS):
            return "loop"
        if node is not stmt and isinstance(node, WITHS) and not placement_only(node):
            return "with block"
        if isinstance(node, ast.Call):
            found = call_reason(node, known)
            if found:
                return found[0]
    return None


def placement_only(stmt: ast.AST) -> bool:
    """A ``with`` whose every context manager is a scope call (``strategy.scope()``,
    ``tf.device(...)``): it runs when its body may."""
    return all(isinstance(item.context_expr, ast.Call) and isinstance(item.context_expr.func, ast.Attribute)
               and item.context_expr.func.attr in SCOPE_METHODS
               and (item.optional_vars is None or isinstance(item.optional_vars, ast.Name))
               for item in stmt.items)


def excluded_from_factories(calls: list[ast.Call], known: dict[str, str]) -> bool:
    """A function making any of ``calls`` is not an inferred factory: building it would train
    or download."""
    for call in calls:
        found = call_reason(call, known)
        if found and found[0] in FACTORY_EXCLUDED and found[1] not in _FACTORY_ALLOWED:
            return True
    return False

