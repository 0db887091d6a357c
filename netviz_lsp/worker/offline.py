"""The worker never downloads, never uses the network and never loads weights.

Discovery keeps downloads, file reads and training out of the program slice; this module
is the second line of defence, inside the worker, for what slips through (a download
inside a factory, a pretrained backbone):

- ``keras.applications.*(weights="imagenet" | "path.h5")`` builds with ``weights=None`` and
  says so in the graph's note;
- ``Model.load_weights`` does nothing, with the same note;
- ``Model.fit`` (and ``train_on_batch``) trains nothing and ``Model.save``/``save_weights``/``export``
  write nothing, each with a note: a factory that trains or saves before it returns its model
  (one marked ``# netviz: preview``, or one that saves, which discovery allows) still draws,
  and the user's folder is never written;
- ``keras.utils.get_file`` and every internet socket raise ``NetVizOffline`` with a clear
  message (the error lands at the user's line like any other);
- ``config_reads`` checks the config files a top-level statement reads (the one file read
  discovery lets run, ``discovery/effects.py``'s ``CONFIG``): each must lie inside the file's
  folder or a workspace root and hold at most ``CONFIG_LIMIT_BYTES``; a missing one is an
  error naming it;
- ``dataset_stand_in`` gives ``keras.datasets.<name>.load_data()``'s arrays with the
  real shapes and dtypes and no download: images are zero-stride views (no memory),
  labels cycle through the real classes so ``len(np.unique(y))`` is right.

``install()`` patches once per process; ``notes`` collects what one target's build
skipped (the build module clears it per target).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import socket
import stat
import sys
import types
from typing import Any, Iterator, Optional

from netviz_lsp.discovery.effects import CONFIG_SUFFIXES

WEIGHTS_NOTE = "pretrained weights not loaded (shape-only)"
LOAD_WEIGHTS_NOTE = "load_weights() skipped: NetViz never loads weights"
#: Model methods that load weights, train or write files -> the note a build that called one carries.
SKIPPED_METHODS = {
    "load_weights": LOAD_WEIGHTS_NOTE,
    "fit": "fit() skipped: NetViz never trains",
    "train_on_batch": "train_on_batch() skipped: NetViz never trains",
    "save": "save() skipped: NetViz never writes files",
    "save_weights": "save_weights() skipped: NetViz never writes files",
    "export": "export() skipped: NetViz never writes files",
}
notes: list[str] = []
_installed = False


class NetVizOffline(PermissionError):
    """Something in a build tried to download or reach the network."""


class ConfigFileRefused(RuntimeError):
    """A top-level config read NetViz does not make (too big, outside the workspace). Not an
    ``OSError``, so a reader that skips unreadable files (configparser's ``read``) cannot hide it."""


def install() -> None:
    """Patch Keras and the socket module for this process; safe to call twice."""
    global _installed
    if _installed:
        return
    _installed = True
    _refuse_sockets()
    replacements = {**_refuse_get_file(), **_no_pretrained_weights()}
    _rebind(replacements)
    _skip_model_methods()


# -- network ---------------------------------------------------------------------------------

def _refuse_sockets() -> None:
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def internet(sock: socket.socket) -> bool:
        return sock.family in (socket.AF_INET, socket.AF_INET6)

    def connect(self, address):
        if internet(self):
            raise NetVizOffline(f"NetViz builds never use the network (a connection to {address!r} was refused); "
                                "keep downloads out of the code that builds the model")
        return original_connect(self, address)

    def connect_ex(self, address):
        if internet(self):
            connect(self, address)
        return original_connect_ex(self, address)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex


def _refuse_get_file() -> dict:
    from keras.src.utils import file_utils

    original = file_utils.get_file

    @functools.wraps(original)
    def get_file(fname=None, origin=None, *args, **kwargs):
        what = origin or fname or "a file"
        raise NetVizOffline(f"NetViz does not download ({what}); "
                            "add `# netviz: value=...` on the line that needs it to stand in for the data")

    return {id(original): (original, get_file)}


# -- config files ----------------------------------------------------------------------------

CONFIG_LIMIT_BYTES = 1_000_000
"""The largest config file a top-level statement may read (1 MB): configuration, not data."""
_READERS = frozenset({"open", "load", "loads", "safe_load", "full_load", "read", "read_file", "read_text"})
"""Names in a statement's code that may read a config file; other statements are not watched."""
_config_folders: Optional[tuple[str, ...]] = None
"""While a watched statement runs: the real folders its config reads must lie in."""
_hooked = False


@contextlib.contextmanager
def config_reads(code: types.CodeType, path: str, roots: list[str],
                 namespace: Optional[dict] = None) -> Iterator[None]:
    """While the top-level statement ``code`` of ``path`` runs, when it names a reader (``open``,
    ``json.load``, ``config.read``...), itself or through the file's own functions it calls (found
    in ``namespace``: ``config = load_config("config.yaml")``): every config file (``CONFIG_SUFFIXES``) it opens to read
    outside the import system must exist, lie in the file's folder or a workspace root, and hold
    at most ``CONFIG_LIMIT_BYTES``, or the open raises at the user's line."""
    global _config_folders, _hooked
    if not _names(code, path, namespace or {}) & _READERS:
        yield
        return
    if not _hooked:
        sys.addaudithook(_audit)  # cannot be removed: it acts only while _config_folders is set
        _hooked = True
    saved = _config_folders
    _config_folders = tuple(os.path.realpath(f) for f in [os.path.dirname(path), *roots] if f)
    try:
        yield
    finally:
        _config_folders = saved


def _names(code: types.CodeType, path: str, namespace: dict) -> set[str]:
    """The names ``code`` uses, and those of the functions of ``path`` it names, transitively."""
    names: set[str] = set()
    stack, seen = [code], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        for name in current.co_names:
            function = namespace.get(name)
            inner = getattr(function, "__code__", None)
            if isinstance(inner, types.CodeType) and inner.co_filename == path:
                stack.append(inner)
    return names


def _audit(event: str, args: tuple) -> None:
    if event != "open" or _config_folders is None:
        return
    file, mode, flags = args
    try:
        name = os.fsdecode(file)
    except TypeError:  # a file descriptor
        return
    if not name.lower().endswith(CONFIG_SUFFIXES):
        return
    writes = (any(c in mode for c in "wax+") if isinstance(mode, str)
              else bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)))
    if writes or _importing():
        return
    check_config_file(name, _config_folders, swallowed=_configparser_reading())


def _called_from(found) -> bool:
    """Whether a frame below the audit hook's caller runs code for which ``found(code)`` holds."""
    frame = sys._getframe(3)
    while frame is not None:
        if found(frame.f_code):
            return True
        frame = frame.f_back
    return False


def _importing() -> bool:
    return _called_from(lambda code: code.co_filename.startswith("<frozen importlib"))


def _configparser_reading() -> bool:
    """Whether the open is ``ConfigParser.read``'s, which skips a file it cannot open."""
    return _called_from(lambda code: code.co_name == "read" and os.path.basename(code.co_filename) == "configparser.py")


def check_config_file(name: str, folders: tuple[str, ...], swallowed: bool = False) -> None:
    """Raise ``ConfigFileRefused`` unless ``name`` (relative to the working folder, the file's own
    during a build) is a regular file of at most ``CONFIG_LIMIT_BYTES`` inside one of ``folders``
    (real paths); ``FileNotFoundError`` naming it when it is missing (as Python would, so a
    script's own ``except FileNotFoundError:`` fallback still works), or ``ConfigFileRefused``
    when the reader would swallow that (``swallowed``: ``ConfigParser.read`` skips a missing
    file, and the script then fails later at a ``KeyError`` far from the cause)."""
    full = os.path.abspath(name)
    real = os.path.realpath(full)
    if not any(real == f or real.startswith(os.path.join(f, "")) for f in folders):
        raise ConfigFileRefused(f"NetViz reads config files only inside the workspace or the file's folder; "
                              f"{name!r} is {real}. Add `# netviz: value=...` to the assignment that reads "
                              "it to stand in for what it holds")
    try:
        info = os.stat(real)
    except FileNotFoundError:
        missing = (f"config file {name!r} not found ({full}); create it, or add `# netviz: value=...` to the "
                   "assignment that reads it to stand in for what it holds")
        raise (ConfigFileRefused(missing) if swallowed else FileNotFoundError(missing)) from None
    except OSError:
        return  # the open itself says what is wrong
    if not stat.S_ISREG(info.st_mode):
        raise ConfigFileRefused(f"NetViz reads config files only from regular files; {name!r} is not one")
    if info.st_size > CONFIG_LIMIT_BYTES:
        raise ConfigFileRefused(f"config file {name!r} holds {info.st_size:,} bytes; NetViz reads config files "
                              f"of at most {CONFIG_LIMIT_BYTES:,} bytes (1 MB) at a script's top level. Add "
                              "`# netviz: value=...` to the assignment that reads it to stand in for what it holds")


# -- weights ---------------------------------------------------------------------------------

def _no_pretrained_weights() -> dict:
    import keras.src.applications  # noqa: F401  (the package; its modules below)

    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("keras.src.applications.") or module is None:
            continue
        for value in list(vars(module).values()):
            if inspect.isfunction(value) and value.__module__ == name and _takes_weights(value):
                found[id(value)] = (value, _without_weights(value))
    return found


def _takes_weights(function) -> bool:
    try:
        return "weights" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _without_weights(function):
    signature = inspect.signature(function)

    @functools.wraps(function)
    def build_without_weights(*args, **kwargs):
        bound = signature.bind_partial(*args, **kwargs)
        weights = bound.arguments.get("weights", signature.parameters["weights"].default)
        if weights is not None:
            bound.arguments["weights"] = None
            if WEIGHTS_NOTE not in notes:
                notes.append(WEIGHTS_NOTE)
        return function(*bound.args, **bound.kwargs)

    build_without_weights.__netviz_wrapped__ = True
    return build_without_weights


def _skip_model_methods() -> None:
    from keras.src.callbacks.history import History
    from keras.src.models.model import Model

    def skipped(name: str, note: str):
        def method(self, *args, **kwargs):
            if note not in notes:
                notes.append(note)
            if name == "fit":  # what fit returns, holding no epochs: `history.history["loss"]` raises at its line
                history = History()
                history.set_model(self)
                return history
            return None

        method.__name__ = method.__qualname__ = name
        return method

    for name, note in SKIPPED_METHODS.items():
        setattr(Model, name, skipped(name, note))


def _rebind(replacements: dict) -> None:
    """Put each replacement wherever a Keras module holds its original, in one pass.

    ``replacements`` maps ``id(original)`` to ``(original, replacement)``. TensorFlow's
    ``tf.keras`` is Keras' own modules (``keras._tf_keras``), so Keras' are all there is to scan.
    Nothing here is TensorFlow's: the same patches hold on every backend, and a module imported
    later (``tf.keras`` on first use in a JAX worker) reads the replacements from the modules
    rebound here (``tests/test_backends.py`` builds the offline cases on TensorFlow and JAX).
    """
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("keras", "tf_keras")):
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in items:
            hit = replacements.get(id(value))
            if hit is not None and hit[0] is value:
                setattr(module, attr, hit[1])


# -- datasets --------------------------------------------------------------------------------

#: name -> (train size, test size, sample shape, sample dtype, classes, label shape, label dtype)
DATASETS: dict[str, tuple] = {
    "mnist": (60000, 10000, (28, 28), "uint8", 10, (), "uint8"),
    "fashion_mnist": (60000, 10000, (28, 28), "uint8", 10, (), "uint8"),
    "cifar10": (50000, 10000, (32, 32, 3), "uint8", 10, (1,), "uint8"),
    "cifar100": (50000, 10000, (32, 32, 3), "uint8", 100, (1,), "int64"),
    "imdb": (25000, 25000, None, "object", 2, (), "int64"),
    "reuters": (8982, 2246, None, "object", 46, (), "int64"),
    "boston_housing": (404, 102, (13,), "float64", None, (), "float64"),
    "california_housing": (16512, 4128, (8,), "float64", None, (), "float32"),
}


def dataset_stand_in(name: str, **kwargs: Any):
    """``((x_train, y_train), (x_test, y_test))`` shaped as ``keras.datasets.<name>.load_data()``'s."""
    import numpy as np

    if name not in DATASETS:
        raise NetVizOffline(f"NetViz has no stand-in for keras.datasets.{name}; "
                            "add `# netviz: value=...` on that line")
    train, test, shape, dtype, classes, label_shape, label_dtype = DATASETS[name]
    if name == "cifar100" and kwargs.get("label_mode") == "coarse":
        classes = 20
    if name == "reuters" and kwargs.get("test_split") is not None:
        total = train + test
        test = int(total * float(kwargs["test_split"]))
        train = total - test
    words = kwargs.get("num_words") or 10000
    notes.append(f"keras.datasets.{name} stood in by empty arrays of its shapes (nothing downloaded)")

    def samples(n: int):
        if shape is None:  # sequences of word indices
            data = np.empty(n, dtype=object)
            sequence = list(range(1, min(int(words), 200)))
            for i in range(n):
                data[i] = sequence
            return data
        return np.broadcast_to(np.zeros((), dtype=dtype), (n, *shape))

    def labels(n: int):
        if classes is None:
            return np.broadcast_to(np.zeros((), dtype=label_dtype), (n, *label_shape))
        return np.resize(np.arange(classes, dtype=label_dtype), n).reshape((n, *label_shape))

    return (samples(train), labels(train)), (samples(test), labels(test))
