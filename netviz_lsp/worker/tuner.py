"""KerasTuner hypermodels in the worker: say which hyperparameter values a diagram was drawn with.

Discovery calls a hypermodel with a real, fresh ``keras_tuner.HyperParameters()``
(``discovery/hypermodels.py``); nothing here stands in for KerasTuner. While a target builds,
``noting_hyperparameters`` records the ``HyperParameters`` objects made (only when the file's
statements imported ``keras_tuner``), and after a build that returned, adds one note to
``offline.notes``: "drawn with KerasTuner's default hyperparameters: num_layers=1, units_0=32, ..."
(the active values, in the order the build asked for them).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from netviz_lsp.worker import offline

#: The most values a note lists before "...".
SHOWN = 12


@contextlib.contextmanager
def noting_hyperparameters() -> Iterator[None]:
    module = sys.modules.get("keras_tuner")
    cls = getattr(module, "HyperParameters", None)
    if not isinstance(cls, type):
        yield
        return
    made: list = []
    own = "__init__" in cls.__dict__
    original = cls.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    cls.__init__ = init
    try:
        yield
    finally:
        if own:
            cls.__init__ = original
        else:
            del cls.__init__
    if made:
        offline.notes.append(note(made[0]))


def note(hp) -> str:
    try:
        values = dict(hp.values)
    except Exception:  # noqa: BLE001 - a note never costs the diagram
        values = {}
    if not values:
        return "built with KerasTuner's HyperParameters(); it asked for no hyperparameter"
    shown = [f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}"
             for name, value in list(values.items())[:SHOWN]]
    more = ", ..." if len(values) > SHOWN else ""
    return f"drawn with KerasTuner's default hyperparameters: {', '.join(shown)}{more}"
