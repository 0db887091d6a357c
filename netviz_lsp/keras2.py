"""Keras 2 code that Keras 3 rejects, and what Keras 3 calls it.

Most Keras code on the web (tutorials, Kaggle notebooks, answers) was written for Keras 2:
``from keras.layers.core import Dense``, ``from keras.utils.np_utils import to_categorical``,
``layers.experimental.preprocessing.RandomFlip``, ``Adam(lr=0.001)``. Keras 3 (and
``tf.keras`` since TensorFlow 2.16) fails on each. The worker adds the Keras 3 spelling to
the error (``hint``), and the server's quick fix rewrites a moved module on the import line
(``moved_module``). Pure: no Keras import, so both sides use it.
"""

from __future__ import annotations

import re
from typing import Optional

from netviz_lsp.discovery.astutil import keras_name

#: Keras 2 modules Keras 3 removed -> the Keras 3 module that exports the same names.
MOVED_MODULES = {
    "keras.layers.core": "keras.layers",
    "keras.layers.convolutional": "keras.layers",
    "keras.layers.convolutional_recurrent": "keras.layers",
    "keras.layers.pooling": "keras.layers",
    "keras.layers.recurrent": "keras.layers",
    "keras.layers.embeddings": "keras.layers",
    "keras.layers.normalization": "keras.layers",
    "keras.layers.merge": "keras.layers",
    "keras.layers.advanced_activations": "keras.layers",
    "keras.layers.wrappers": "keras.layers",
    "keras.layers.noise": "keras.layers",
    "keras.layers.local": "keras.layers",
    "keras.layers.experimental.preprocessing": "keras.layers",
    "keras.utils.np_utils": "keras.utils",
    "keras.utils.vis_utils": "keras.utils",
    "keras.utils.data_utils": "keras.utils",
    "keras.utils.generic_utils": "keras.utils",
    "keras.utils.layer_utils": "keras.utils",
    "keras.engine.topology": "keras.layers",
    "keras.engine.base_layer": "keras.layers",
    "keras.engine.input_layer": "keras.layers",
    "keras.engine.input_spec": "keras.layers",
    "keras.engine.training": "keras.models",
    "keras.engine.sequential": "keras.models",
    "keras.engine.functional": "keras.models",
    "keras.engine": "keras.layers",
}
#: Removed packages that a moved module's import names first (Python's ``ModuleNotFoundError.name``
#: is the first missing package: ``from tf.keras.layers.experimental.preprocessing import X``
#: names ``...layers.experimental``) -> where their contents went. Their error says how the
#: layers were renamed (``EXPERIMENTAL``); the quick fix moves only the modules of
#: ``MOVED_MODULES``: ``from keras.layers.experimental import preprocessing`` has no one-line
#: Keras 3 form.
MOVED_PACKAGES = {"keras.layers.experimental": "keras.layers"}
#: Keras 2 modules with no Keras 3 module to move to, and what to use instead.
GONE_MODULES = {
    "keras.wrappers.scikit_learn": "the scikit-learn wrappers are the `scikeras` package "
                                   "(`from scikeras.wrappers import KerasClassifier`)",
    "keras.wrappers": "the scikit-learn wrappers are the `scikeras` package "
                      "(`from scikeras.wrappers import KerasClassifier`)",
    "keras.preprocessing.text": "`Tokenizer` is gone: use the `keras.layers.TextVectorization` layer",
}
#: Keras 2 names Keras 3 dropped from a module that still exists -> what to use.
GONE_NAMES = {
    "CuDNNLSTM": "`keras.layers.LSTM` (it uses cuDNN by itself)",
    "CuDNNGRU": "`keras.layers.GRU` (it uses cuDNN by itself)",
    "Convolution2D": "`keras.layers.Conv2D`",
    "Convolution1D": "`keras.layers.Conv1D`",
    "Convolution3D": "`keras.layers.Conv3D`",
    "merge": "`keras.layers.concatenate`, `add` or `multiply`",
    "Merge": "`keras.layers.Concatenate`, `Add` or `Multiply`",
    "np_utils": "`keras.utils` (`keras.utils.to_categorical`)",
    "ThresholdedReLU": "`keras.layers.ReLU(threshold=...)`",
    "LocallyConnected1D": "a `Conv1D` (Keras 3 removed the layer)",
    "LocallyConnected2D": "a `Conv2D` (Keras 3 removed the layer)",
}
#: Keras 2 keyword arguments Keras 3 rejects ("Argument(s) not recognized: {'lr': 0.001}"), and
#: what Keras 3 calls them.
KERAS2_ARGUMENTS = {"lr": "learning_rate"}

EXPERIMENTAL = (" (Keras 2 code: Keras 3 has no `layers.experimental`; its preprocessing layers are in "
                "`keras.layers`, e.g. `layers.experimental.preprocessing.RandomFlip` is `layers.RandomFlip`)")
_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")


def moved_module(name: str, table: dict[str, str] = MOVED_MODULES) -> Optional[str]:
    """The Keras 3 module for the removed Keras 2 module ``name`` (in the user's spelling:
    ``tensorflow.keras.layers.core`` -> ``tensorflow.keras.layers``), or ``None``."""
    plain = keras_name(name)
    new = table.get(plain)
    if new is None:
        return None
    return name[: len(name) - len(plain)] + new if name.endswith(plain) else new


def _gone_module(name: str) -> Optional[str]:
    plain = keras_name(name)
    for old, instead in GONE_MODULES.items():
        if plain == old or plain.startswith(old + "."):
            return instead
    return None


def hint(error: BaseException) -> str:
    """What to write instead of the Keras 2 code ``error`` is about, as a parenthesised
    sentence to append to the error's message; ``""`` when it is not about Keras 2 code."""
    text = str(error)
    if isinstance(error, ModuleNotFoundError) and error.name:
        if not keras_name(error.name).startswith("keras."):
            return ""
        if moved_module(error.name, MOVED_PACKAGES) is not None:  # ...experimental(.preprocessing)
            return EXPERIMENTAL
        new = moved_module(error.name)
        if new is not None:
            return f" (Keras 2 code: Keras 3 has no `{error.name}`; import from `{new}` instead)"
        gone = _gone_module(error.name)
        return f" (Keras 2 code: Keras 3 has no `{error.name}`: {gone})" if gone else ""
    if isinstance(error, ImportError):
        found = _CANNOT_IMPORT.search(text)
        if found and keras_name(found.group(2)).startswith("keras") and found.group(1) in GONE_NAMES:
            return f" (Keras 2 code: Keras 3 has no `{found.group(1)}`; use {GONE_NAMES[found.group(1)]})"
        return ""
    if "keras" in text and ("has no attribute 'experimental'" in text or "layers.experimental'" in text):
        return EXPERIMENTAL
    if isinstance(error, AttributeError) and "keras" in text:
        found = re.search(r"has no attribute '(\w+)'", text)
        if found and found.group(1) in GONE_NAMES:
            return f" (Keras 2 code: Keras 3 has no `{found.group(1)}`; use {GONE_NAMES[found.group(1)]})"
        return ""
    if not isinstance(error, ValueError) or "Argument(s) not recognized" not in text:
        return ""
    renamed = [f"`{old}=` is `{new}=`" for old, new in KERAS2_ARGUMENTS.items() if f"'{old}'" in text]
    return f" (Keras 2 code: in Keras 3, {', '.join(renamed)})" if renamed else ""
