"""What a top-level statement does that NetViz never runs: the one table to audit.

A top-level statement is *skipped* (never part of any slice) when it makes a call listed in
``CALLS``, or is one of the statement kinds in ``STATEMENTS``, or calls one of the file's own
functions that downloads or reads files and builds no model (``facts._loaders``: ``x, y =
readucr(path)``). ``classify`` says why, as one of the ``REASONS``.

One narrow exception, ``CONFIG``: a read whose result is parsed as configuration (``json.load``,
``yaml.safe_load``, ``tomllib.load``, configparser's ``read``, ``OmegaConf.load``...) of a
*config path* (``config_path``: a string literal, a module-level constant, an ``os.path.join``
or ``Path`` ``/`` of such, or an ``argparse`` default, ending in one of ``CONFIG_SUFFIXES``)
runs, and so does a top-level ``with open(P) as f:`` whose body only parses ``f``. The worker
checks each such read again (``worker/offline.py``: inside the workspace or the file's folder,
at most 1 MB). Rows are matched in order; the first match wins. Every row carries an example
that ``tests/test_discovery_effects.py`` checks against this very row.

How a row matches a call, after import aliases are resolved (``plt.plot`` is
``matplotlib.pyplot.plot``, ``np.load`` is ``numpy.load``):

- ``name``: the whole dotted name equals ``pattern`` (``open``, ``os.listdir``);
- ``prefix``: the dotted name starts with ``pattern`` (``matplotlib.``, ``pandas.read_``);
- ``method``: the last part of the name, or the attribute called on any value
  (``Path(p).read_text()``, ``model.fit(...)``), equals ``pattern``;
- ``argument``: as ``method``, for a call given an argument (``config.read("train.ini")``,
  ``soundfile.read(path)``; not ``f.read()``, whose file was opened by an earlier call);
- ``keras``: the dotted name, ``tensorflow.keras.``/``tf_keras.`` read as ``keras.``, matches the
  glob ``pattern`` (``keras.datasets.*.load_data``: ``mnist.load_data()`` after ``from
  tensorflow.keras.datasets import mnist``, never a file's own ``def load_data(path)``, which
  ``facts._loaders`` judges by its body).
"""

from __future__ import annotations

import ast
import fnmatch
import os
from dataclasses import dataclass, field
from typing import Optional

from netviz_lsp.discovery.astutil import (LOOPS, WITHS, builds_in_place, dotted, is_main_guard, keras_name, last,
                                          module_level, resolve)

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
    "returns": "is set at line {line}, in a block that may `return` from the function the script runs",
}


@dataclass(frozen=True)
class Row:
    match: str
    """``name``, ``prefix``, ``method``, ``argument`` or ``keras``."""
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
           ("load_dataset", "from datasets import load_dataset", 'ds = load_dataset("imdb")')),
    *_rows("downloads", "keras",
           ("keras.datasets.*.load_data", "import keras", "train = keras.datasets.mnist.load_data()[0]")),
    *_rows("downloads", "prefix",
           ("urllib.", "import urllib.request", "urllib.request.urlretrieve(URL, 'a.csv')"),
           ("requests.", "import requests", "text = requests.get(URL).text"),
           ("wget.", "import wget", "wget.download(URL)"),
           ("gdown.", "import gdown", "gdown.download(URL)"),
           ("tensorflow_datasets.", "import tensorflow_datasets as tfds", 'ds = tfds.load("mnist")'),
           ("tensorflow_hub.load", "import tensorflow_hub as hub", "module = hub.load(URL)"),
           ("sklearn.datasets.", "from sklearn import datasets", "x, y = datasets.fetch_openml('mnist_784')"),
           # Weights & Biases: init logs in and syncs the run, log/save upload, a sweep's config
           # comes from the server (``wandb_config`` stands in for a literal ``config=``).
           ("wandb.", "import wandb", 'run = wandb.init(project="mnist-mlp", entity="lab")')),
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
    # A KerasTuner tuner builds the hypermodel, writes its project folder and searches: its
    # hypermodel is drawn instead (``hypermodels.py``), the tuner is never made.
    *_rows("trains", "name", *[
        (f"{package}.{tuner}", "import keras_tuner as kt" if package == "keras_tuner"
         else "from keras_tuner import tuners",
         f"tuner = {'kt' if package == 'keras_tuner' else 'tuners'}.{tuner}(build_model, objective='val_loss')")
        for package in ("keras_tuner", "keras_tuner.tuners")
        for tuner in ("RandomSearch", "Hyperband", "BayesianOptimization", "GridSearch")]),
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
           ("read_file", "import configparser", 'configparser.ConfigParser().read_file(handle)'),
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
    *_rows("reads files", "argument",
           ("read", "import soundfile", 'audio, rate = soundfile.read("speech.wav")')),
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
    "returns": "a statement of a function the script runs (``main()``) that may `return` from it",
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


def _by_pattern(match: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for i, row in enumerate(CALLS):
        if row.match == match:
            found.setdefault(row.pattern, []).append(i)
    return found


#: ``CALLS`` indexed by what a call is compared with (discovery runs as the user types, and
#: every call of the file is looked up): row indexes, so the first matching row still wins.
_METHOD_ROWS, _ARGUMENT_ROWS, _NAME_ROWS = _by_pattern("method"), _by_pattern("argument"), _by_pattern("name")
_SCANNED_ROWS = [i for i, row in enumerate(CALLS) if row.match in ("prefix", "keras")]


def call_reason(call: ast.Call, known: dict[str, str]) -> Optional[tuple[str, str]]:
    """``(reason, pattern)`` of the first row matching ``call``, or ``None``."""
    name = dotted(call.func)
    full = resolve(name, known) if name else None
    method = call.func.attr if isinstance(call.func, ast.Attribute) else (last(full) if full else None)
    hits = list(_METHOD_ROWS.get(method, ())) if method else []
    if method and (call.args or call.keywords):
        hits += _ARGUMENT_ROWS.get(method, ())
    if full is not None:
        hits += _NAME_ROWS.get(full, ())
        for i in _SCANNED_ROWS:
            row = CALLS[i]
            if (fnmatch.fnmatchcase(keras_name(full), row.pattern) if row.match == "keras"
                    else full.startswith(row.pattern)):
                hits.append(i)
                break  # later scanned rows cannot come first
    if not hits:
        return None
    row = CALLS[min(hits)]
    return row.reason, row.pattern


def classify(stmt: ast.stmt, known: dict[str, str], paths: Optional["ConfigPaths"] = None) -> Optional[str]:
    """Why the top-level ``stmt`` never runs, or ``None`` when it may. ``if``/``try`` blocks
    run only when everything in them may; def and class bodies are not looked into. A config
    read (``config_reads``, with the file's ``paths``) is not held against it."""
    if is_main_guard(stmt):
        return "main guard"
    runs_loops = builds_in_place(stmt)  # a loop building something in place over the script's own values
    if isinstance(stmt, LOOPS) and not runs_loops:
        return "loop"
    allowed = config_reads(stmt, known, paths or ConfigPaths())
    if isinstance(stmt, WITHS) and not (placement_only(stmt) or id(stmt) in allowed):
        return "with block"
    for node in module_level([stmt]):
        if node is not stmt and isinstance(node, LOOPS) and not runs_loops:
            return "loop"
        if node is not stmt and isinstance(node, WITHS) and not (placement_only(node) or id(node) in allowed):
            return "with block"
        if isinstance(node, ast.Call) and id(node) not in allowed:
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



# -- config files: the one kind of file read that runs -------------------------------------

#: What a config file's name ends with (compared without case).
CONFIG_SUFFIXES = (".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf")

#: What a parser's first argument may be: an open config file (``open(P)``, ``Path(P).open()``,
#: or the ``f`` of ``with open(P) as f:``), its text (``open(P).read()``, ``Path(P).read_text()``,
#: ``f.read()``), or the config path ``P`` itself.
FILE, TEXT, PATH = "file", "text", "path"

#: ``open`` modes that only read.
READ_MODES = frozenset({"r", "rt", "tr", "rb", "br"})
#: Keywords ``open``/``Path.open``/``read_text`` may take in a config read.
_OPEN_KEYWORDS = frozenset({"mode", "encoding", "errors", "newline"})
#: ``yaml.load`` runs only with a loader that builds no Python objects.
SAFE_YAML_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "FullLoader", "CFullLoader", "BaseLoader", "CBaseLoader"})


@dataclass(frozen=True)
class ConfigRow:
    match: str
    """``name`` (the dotted name, aliases resolved) or ``method`` (the attribute called)."""
    pattern: str
    takes: frozenset
    """What its first argument may be: ``FILE``, ``TEXT``, ``PATH``."""
    example: tuple[str, str]
    """``(imports, statement)``: this row makes the statement run; with ``.csv`` for the
    suffix the same statement never runs."""


def _config(match: str, pattern: str, takes: tuple[str, ...], imports: str, statement: str) -> ConfigRow:
    return ConfigRow(match, pattern, frozenset(takes), (imports, statement))


CONFIG: tuple[ConfigRow, ...] = (
    _config("name", "json.load", (FILE,), "import json", 'config = json.load(open("config.json"))'),
    _config("name", "json.loads", (TEXT,), "import json\nfrom pathlib import Path",
            'config = json.loads(Path("configs/base.json").read_text())'),
    _config("name", "yaml.safe_load", (FILE, TEXT), "import yaml",
            'config = yaml.safe_load(open("config.yaml"))'),
    _config("name", "yaml.load", (FILE, TEXT), "import yaml",
            'config = yaml.load(open("config.yml"), Loader=yaml.SafeLoader)'),
    _config("name", "yaml.full_load", (FILE, TEXT), "import yaml",
            'config = yaml.full_load(open("params.yaml").read())'),
    _config("name", "tomllib.load", (FILE,), "import tomllib",
            'config = tomllib.load(open("train.toml", "rb"))'),
    _config("name", "tomllib.loads", (TEXT,), "import tomllib\nfrom pathlib import Path",
            'config = tomllib.loads(Path("train.toml").read_text())'),
    _config("name", "tomli.load", (FILE,), "import tomli", 'config = tomli.load(open("train.toml", "rb"))'),
    _config("name", "toml.load", (PATH, FILE), "import toml", 'config = toml.load("train.toml")'),
    _config("name", "omegaconf.OmegaConf.load", (PATH, FILE), "from omegaconf import OmegaConf",
            'cfg = OmegaConf.load("conf/model.yaml")'),
    _config("method", "read", (PATH,), "import configparser\nconfig = configparser.ConfigParser()",
            'config.read("train.ini")'),
    _config("method", "read_file", (FILE,), "import configparser\nconfig = configparser.ConfigParser()",
            'config.read_file(open("setup.cfg"))'),
)


@dataclass(frozen=True)
class ConfigPaths:
    """What the file's names hold, for ``config_path`` (``facts.config_paths`` finds them)."""

    files: frozenset = frozenset()
    """Names (``CONFIG_PATH``, or ``args.config`` for an ``argparse`` default) holding a config path."""
    folders: frozenset = frozenset()
    """Names holding a folder (``ROOT = Path(__file__).parent``, ``CONFIG_DIR = "configs"``)."""
    values: dict = field(default_factory=dict, compare=False, hash=False)
    """Name -> the expression it holds, for the names bound once (``config_path_value``)."""


def config_row(call: ast.Call, known: dict[str, str]) -> Optional[ConfigRow]:
    """The ``CONFIG`` row naming ``call``'s parser, or ``None``."""
    name = dotted(call.func)
    full = resolve(name, known) if name else None
    method = call.func.attr if isinstance(call.func, ast.Attribute) else None
    for row in CONFIG:
        if (full == row.pattern) if row.match == "name" else (method == row.pattern):
            return row
    return None


def config_path(node: ast.AST, known: dict[str, str], paths: ConfigPaths) -> bool:
    """``node`` is the path of a config file: ``"configs/base.yaml"``, a name in ``paths.files``,
    ``os.path.join(FOLDER..., P)``, ``Path(FOLDER..., P)``, ``FOLDER / P``, or
    ``os.path.abspath``/``realpath``, ``Path.resolve()``/``absolute()`` of one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value.lower().endswith(CONFIG_SUFFIXES)
    name = dotted(node)
    if name is not None:
        return name in paths.files
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return folder(node.left, known, paths) and config_path(node.right, known, paths)
    if not isinstance(node, ast.Call) or node.keywords:
        return False
    full = resolve(dotted(node.func) or "", known)
    if full in ("os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath") and node.args:
        return (all(folder(a, known, paths) for a in node.args[:-1])
                and config_path(node.args[-1], known, paths))
    if full in ("os.path.abspath", "os.path.realpath", "os.path.normpath") and len(node.args) == 1:
        return config_path(node.args[0], known, paths)
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("resolve", "absolute") and not node.args:
        return config_path(node.func.value, known, paths)
    return False


def folder(node: ast.AST, known: dict[str, str], paths: ConfigPaths) -> bool:
    """``node`` is a folder a config path may start from: a string literal, a name in
    ``paths.folders``, the file's own folder (``os.path.dirname(__file__)``,
    ``Path(__file__).parent``), or a join of such."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    name = dotted(node)
    if name is not None:
        return name in paths.folders
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        return _this_file(node.value, known) or folder(node.value, known, paths)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return folder(node.left, known, paths) and folder(node.right, known, paths)
    if not isinstance(node, ast.Call) or node.keywords:
        return False
    full = resolve(dotted(node.func) or "", known)
    if full == "os.path.dirname" and len(node.args) == 1:
        return _this_file(node.args[0], known) or folder(node.args[0], known, paths)
    if full in ("os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath") and node.args:
        return all(folder(a, known, paths) for a in node.args)
    if full in ("os.path.abspath", "os.path.realpath", "os.path.normpath") and len(node.args) == 1:
        return folder(node.args[0], known, paths)
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("resolve", "absolute") and not node.args:
        return folder(node.func.value, known, paths)
    return False


def _this_file(node: ast.AST, known: dict[str, str]) -> bool:
    """``__file__``, ``os.path.abspath(__file__)``, ``Path(__file__)``, ``Path(__file__).resolve()``."""
    if isinstance(node, ast.Name):
        return node.id == "__file__"
    if isinstance(node, ast.Call) and not node.keywords:
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("resolve", "absolute") and not node.args:
            return _this_file(node.func.value, known)
        full = resolve(dotted(node.func) or "", known)
        if full in ("os.path.abspath", "os.path.realpath", "pathlib.Path") and len(node.args) == 1:
            return _this_file(node.args[0], known)
    return False


def _read_mode(call: ast.Call, first: int) -> bool:
    """``call``'s mode (positional at ``first``, or ``mode=``) only reads, and it takes no other
    keywords than ``_OPEN_KEYWORDS``."""
    if any(k.arg not in _OPEN_KEYWORDS for k in call.keywords) or len(call.args) > first + 1:
        return False
    modes = [*call.args[first:first + 1], *(k.value for k in call.keywords if k.arg == "mode")]
    return all(isinstance(m, ast.Constant) and m.value in READ_MODES for m in modes)


def opens_config(node: ast.AST, known: dict[str, str], paths: ConfigPaths,
                 found: Optional[list] = None) -> bool:
    """``open(P)``, ``open(P, "rb", encoding=...)`` or ``Path(P).open()`` of a config path, to read
    (``P`` is appended to ``found``)."""
    if not isinstance(node, ast.Call):
        return False
    if resolve(dotted(node.func) or "", known) in ("open", "io.open"):
        path = node.args[0] if node.args else None
        ok = path is not None and config_path(path, known, paths) and _read_mode(node, 1)
    else:
        path = node.func.value if isinstance(node.func, ast.Attribute) and node.func.attr == "open" else None
        ok = path is not None and config_path(path, known, paths) and _read_mode(node, 0)
    if ok and found is not None:
        found.append(path)
    return ok


def _parsed_input(row: ConfigRow, arg: ast.AST, known: dict[str, str], paths: ConfigPaths,
                  handles: frozenset, found: list) -> Optional[set[int]]:
    """The ids of the nodes that make ``arg`` a config input ``row`` takes, or ``None``; the
    config paths it reads are appended to ``found``."""
    if PATH in row.takes and config_path(arg, known, paths):
        found.append(arg)
        return set()
    if PATH in row.takes and isinstance(arg, (ast.List, ast.Tuple)) and arg.elts and all(
            config_path(e, known, paths) for e in arg.elts):
        found.extend(arg.elts)
        return set()
    if FILE in row.takes:
        if isinstance(arg, ast.Name) and arg.id in handles:
            return {id(arg)}
        if opens_config(arg, known, paths, found):
            return {id(arg)}
    if TEXT in row.takes and isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute):
        receiver, method = arg.func.value, arg.func.attr
        if method == "read" and not arg.args and not arg.keywords:
            if isinstance(receiver, ast.Name) and receiver.id in handles:
                return {id(arg), id(receiver)}
            if opens_config(receiver, known, paths, found):
                return {id(arg), id(receiver)}
        if (method == "read_text" and not arg.args and all(k.arg in ("encoding", "errors") for k in arg.keywords)
                and config_path(receiver, known, paths)):
            found.append(receiver)
            return {id(arg)}
    return None


def config_call(call: ast.Call, known: dict[str, str], paths: ConfigPaths,
                handles: frozenset = frozenset(), found: Optional[list] = None) -> Optional[set[int]]:
    """When ``call`` parses a config file (a ``CONFIG`` row, its input a config path, an open
    config file or its text; ``handles`` are the names of ``with``-opened config files): the
    ids of ``call`` and of the nodes making its input. Else ``None``."""
    row = config_row(call, known)
    if row is None or not call.args:
        return None
    if row.pattern == "yaml.load":
        loaders = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "Loader")]
        if len(loaders) != 1 or last(dotted(loaders[0]) or "") not in SAFE_YAML_LOADERS:
            return None
    elif any(k.arg not in ("encoding",) for k in call.keywords) or len(call.args) > 1:
        return None
    read: list = []
    made = _parsed_input(row, call.args[0], known, paths, handles, read)
    if made is not None and found is not None:
        found.extend(read)
    return None if made is None else {id(call), *made}


def _config_with(stmt: ast.With, known: dict[str, str], paths: ConfigPaths, found: list) -> set[int]:
    """A ``with open(P) as f:`` (each item a config file opened to read) whose body is simple
    statements that use ``f`` only as the input of a config parser, at least once: the ids of
    ``stmt``, its ``open`` calls and its config parses. Else nothing."""
    if not isinstance(stmt, ast.With) or not stmt.items:
        return set()
    opened: list = []
    if not all(isinstance(i.optional_vars, ast.Name) and opens_config(i.context_expr, known, paths, opened)
               for i in stmt.items):
        return set()
    handles = frozenset(i.optional_vars.id for i in stmt.items)
    if not all(isinstance(s, (ast.Assign, ast.AnnAssign, ast.Expr, ast.Return)) for s in stmt.body):
        return set()
    allowed = {id(stmt), *(id(i.context_expr) for i in stmt.items)}
    parses = 0
    for node in ast.walk(ast.Module(body=stmt.body, type_ignores=[])):
        if isinstance(node, ast.Call):
            made = config_call(node, known, paths, handles)
            if made is not None:
                allowed |= made
                parses += 1
    uses = [n for n in ast.walk(ast.Module(body=stmt.body, type_ignores=[]))
            if isinstance(n, ast.Name) and n.id in handles]
    if not parses or any(id(n) not in allowed for n in uses):
        return set()
    found.extend(opened)
    return allowed


def config_reads(stmt: ast.stmt, known: dict[str, str], paths: ConfigPaths,
                 found: Optional[list] = None) -> set[int]:
    """The ids of the nodes of ``stmt`` (module level) that read config files and may run: each
    ``config_call`` and its input, and each ``with`` block of ``_config_with``. The path
    expressions read are appended to ``found``."""
    allowed: set[int] = set()
    found = [] if found is None else found
    for node in module_level([stmt]):
        if isinstance(node, WITHS):
            allowed |= _config_with(node, known, paths, found)
        elif isinstance(node, ast.Call) and id(node) not in allowed:
            allowed |= config_call(node, known, paths, found=found) or set()
    return allowed


def config_path_value(node: ast.AST, known: dict[str, str], paths: ConfigPaths, file: str,
                      depth: int = 0) -> Optional[str]:
    """The path a ``config_path`` (or ``folder``) expression names, relative to the folder of
    ``file`` (where the worker runs the script), or ``None`` when ``paths`` lacks a name's value."""
    if depth > 20:
        return None
    again = lambda n: config_path_value(n, known, paths, file, depth + 1)  # noqa: E731
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id == "__file__":
        return file
    name = dotted(node)
    if name is not None:
        value = paths.values.get(name)
        return None if value is None else again(value)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = again(node.value)
        return None if inner is None else os.path.dirname(inner)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = again(node.left), again(node.right)
        return None if left is None or right is None else os.path.join(left, right)
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("resolve", "absolute") and not node.args:
        return again(node.func.value)
    full = resolve(dotted(node.func) or "", known)
    parts = [again(a) for a in node.args]
    if not parts or None in parts:
        return None
    if full in ("os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath"):
        return os.path.join(*parts)
    if full in ("os.path.abspath", "os.path.realpath", "os.path.normpath") and len(parts) == 1:
        return parts[0]
    if full == "os.path.dirname" and len(parts) == 1:
        return os.path.dirname(parts[0])
    return None
