"""Keras 2 code under Keras 3: the hint each real error gets, and the import quick fix.

The errors are the ones real Keras 3 raises for code copied from Keras 2 tutorials (each
statement is run here, against the installed Keras); ``netviz_lsp/keras2.py`` turns them
into the Keras 3 spelling, and the server's fix rewrites a moved module on its import line.
"""

from __future__ import annotations

import ast

import pytest

from netviz_lsp import keras2
from netviz_lsp.server.actions import moved_module_fixes


def raised(code: str) -> BaseException:
    try:
        exec(code, {})
    except Exception as error:  # noqa: BLE001 - the error Keras 3 raises is the input
        return error
    raise AssertionError(f"Keras 3 accepted {code!r}")


@pytest.mark.parametrize("code, hint", [
    ("from keras.layers.core import Dense, Dropout",
     "Keras 3 has no `keras.layers.core`; import from `keras.layers` instead"),
    ("from tensorflow.keras.layers.core import Dense",
     "Keras 3 has no `tensorflow.keras.layers.core`; import from `tensorflow.keras.layers` instead"),
    ("from keras.utils.np_utils import to_categorical",
     "Keras 3 has no `keras.utils.np_utils`; import from `keras.utils` instead"),
    ("from keras.layers.convolutional import Conv2D, MaxPooling2D",
     "import from `keras.layers` instead"),
    ("from keras.engine.topology import Layer", "Keras 3 has no `keras.engine`; import from `keras.layers` instead"),
    ("from tensorflow.keras.layers.experimental.preprocessing import Rescaling",
     "Keras 3 has no `layers.experimental`; its preprocessing layers are in `keras.layers`"),
    ("from tensorflow.keras.layers.experimental import preprocessing",
     "`layers.experimental.preprocessing.RandomFlip` is `layers.RandomFlip`"),
    ("from keras.wrappers.scikit_learn import KerasClassifier", "the `scikeras` package"),
    ("from keras.preprocessing.text import Tokenizer", "use the `keras.layers.TextVectorization` layer"),
    ("from keras.layers import CuDNNLSTM", "Keras 3 has no `CuDNNLSTM`; use `keras.layers.LSTM`"),
    ("import keras\nkeras.layers.CuDNNGRU(32)", "Keras 3 has no `CuDNNGRU`; use `keras.layers.GRU`"),
    ("from keras.layers import merge", "use `keras.layers.concatenate`, `add` or `multiply`"),
    ("import keras\nkeras.optimizers.Adam(lr=0.01)", "in Keras 3, `lr=` is `learning_rate=`"),
    ("import tensorflow as tf\ntf.keras.layers.experimental.preprocessing.RandomFlip('horizontal')",
     "`layers.experimental.preprocessing.RandomFlip` is `layers.RandomFlip`"),
])
def test_each_keras2_error_says_the_keras3_spelling(code, hint):
    assert hint in keras2.hint(raised(code))


@pytest.mark.parametrize("code", [
    "import keras\nkeras.layers.Dense(-1)",
    "from keras.layers import NoSuchLayer",
    "import not_a_package_netviz",
    "from numpy.core import nothing_here",
])
def test_other_errors_get_no_hint(code):
    assert keras2.hint(raised(code)) == ""


SCRIPT = """\
import numpy as np
from keras.models import Sequential
from keras.layers.core import Dense, Dropout
from tensorflow.keras.layers.convolutional import Conv2D
import keras.layers.pooling as pooling
import keras.utils.np_utils
from tensorflow.keras.layers.experimental import preprocessing
from tensorflow.keras.layers.experimental.preprocessing import Rescaling, RandomFlip
"""


def test_the_fix_rewrites_the_moved_module_on_each_failing_import_line():
    lines = SCRIPT.splitlines()
    fixes = moved_module_fixes(lines, range(len(lines)), ast.parse(SCRIPT))
    fixed = list(lines)
    for fix in fixes:
        (edit,) = fix.edits
        assert edit.line == edit.end_line == fix.line
        fixed[fix.line] = fixed[fix.line][:edit.start] + edit.text + fixed[fix.line][edit.end:]
    assert fixed == [
        "import numpy as np",
        "from keras.models import Sequential",
        "from keras.layers import Dense, Dropout",
        "from tensorflow.keras.layers import Conv2D",
        "import keras.layers as pooling",
        "import keras.utils.np_utils",  # used as keras.utils.np_utils.X: no one-line fix
        "from tensorflow.keras.layers.experimental import preprocessing",  # no Keras 3 module to name
        "from tensorflow.keras.layers import Rescaling, RandomFlip",
    ]
    assert {fix.title for fix in fixes} == {"Import from `keras.layers` (Keras 3)",
                                            "Import from `tensorflow.keras.layers` (Keras 3)"}
    fixed_script = "\n".join(fixed[:5] + fixed[7:]) + "\n"
    exec(fixed_script, {})  # the fixed imports run on Keras 3


def test_only_the_diagnostics_lines_are_fixed():
    lines = SCRIPT.splitlines()
    (fix,) = moved_module_fixes(lines, [3], ast.parse(SCRIPT))
    assert fix.line == 3 and fix.edits[0].text == "tensorflow.keras.layers"
