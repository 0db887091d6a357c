"""Recording where each layer was constructed in the previewed file.

``Layer.__init__`` is wrapped for the duration of a build. When a layer is made,
the wrapper walks the Python stack outward and keeps the frames that belong to the
previewed file: the innermost one is the layer's ``line``, the whole chain its
``call_lines`` (a Conv2D made in ``conv_block`` and called from ``unet`` records
[helper line, call line]). A custom layer's own ``__init__`` is skipped, so a
``class Block(Layer)`` records the line that created the block, not its
``super().__init__()`` line.

The wrapper is transparent to warnings. Keras warns from inside ``Layer.__init__``
with a ``stacklevel`` that counts frames, so the wrapper's own frame would be named
(``sites.py``), and even without it Keras names its own ``Dense.__init__``, never the
user's line. So while the outermost constructor runs, ``warnings.showwarning`` is
hooked (no filter is touched): a warning that the filters let through and that points
into Keras or into this wrapper is issued again with ``warnings.warn_explicit`` at
the innermost line of the previewed file on the stack it was raised on (the line that
made the layer), or, when no frame of that file is on it, at the frame that called
the wrapper, as if the wrapper were not there. Any other warning is shown where it
points. Which warnings show, and how often, stays Python's decision, as in a notebook:
a Keras warning shows once per worker, then at the line that caused it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from dataclasses import dataclass
from types import FrameType
from typing import Any, Iterator, Optional

SITE_ATTR = "_netviz_site"


def creation_site(layer: object, path: str) -> tuple[Optional[int], list[int]]:
    """The line and call chain of ``layer``; ``(None, [])`` when it was not made in ``path``."""
    return getattr(layer, SITE_ATTR, (None, []))


def _site_from_stack(layer: object, path: str) -> tuple[Optional[int], list[int]]:
    chain: list[int] = []
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_filename == path and not (
            code.co_name == "__init__" and frame.f_locals.get("self") is layer
        ):
            chain.append(frame.f_lineno)
        frame = frame.f_back
    return (chain[0] if chain else None), chain


@dataclass
class _Placed:
    """Where a warning raised inside a layer constructor is shown."""

    filename: str
    lineno: int
    globals: Optional[dict]
    """The namespace of the code at ``filename:lineno`` (its ``__warningregistry__``), when known."""


def _frame_in(frame: Optional[FrameType], filename: str) -> Optional[FrameType]:
    """The innermost frame, at ``frame`` or outside it, running code from ``filename``."""
    while frame is not None and frame.f_code.co_filename != filename:
        frame = frame.f_back
    return frame


def _place(filename: str, lineno: int, path: str, keras_dir: str, stack: Optional[FrameType]) -> _Placed:
    """Where a warning that points at ``filename:lineno``, raised on ``stack``, is shown."""
    if filename == __file__ or filename.startswith(keras_dir):
        user = _frame_in(stack, path)
        if user is not None:
            return _Placed(path, user.f_lineno, user.f_globals)
        if filename == __file__:  # no frame of the previewed file: skip the wrapper alone
            wrapper = stack
            while wrapper is not None and not (wrapper.f_code.co_filename == __file__
                                               and wrapper.f_code.co_name == "init_recording_site"):
                wrapper = wrapper.f_back
            caller = wrapper.f_back if wrapper is not None else None
            if caller is not None:
                return _Placed(caller.f_code.co_filename, caller.f_lineno, caller.f_globals)
    here = _frame_in(stack, filename)
    return _Placed(filename, lineno, here.f_globals if here is not None else None)


def _show_at(place: _Placed, message: Any, category: type) -> None:
    """``message`` as if raised at ``place``: its module's registry and the filters decide."""
    module_globals = place.globals
    registry = module_globals.setdefault("__warningregistry__", {}) if module_globals is not None else None
    module = module_globals.get("__name__") if module_globals is not None else None
    warnings.warn_explicit(message, category, place.filename, place.lineno,
                           module=module, registry=registry, module_globals=module_globals)


@contextlib.contextmanager
def recording_sites(path: str) -> Iterator[None]:
    """Within this context, every Keras layer built records its creation site in ``path``."""
    import keras
    from keras.src.layers.layer import Layer

    original = Layer.__init__
    keras_dir = os.path.dirname(keras.__file__) + os.sep
    outer: list = []  # the showwarning that the outermost constructor replaced

    def init_recording_site(self, *args, **kwargs):
        site = _site_from_stack(self, path)
        if warnings.showwarning is show_placed:  # an inner layer: the outermost one hooked warnings
            original(self, *args, **kwargs)
        else:
            outer.append(warnings.showwarning)
            warnings.showwarning = show_placed
            try:
                original(self, *args, **kwargs)
            finally:
                previous = outer.pop()
                if warnings.showwarning is show_placed:  # unless the constructor replaced it
                    warnings.showwarning = previous
        # Only the outermost constructor's site counts: keep the first one recorded.
        if SITE_ATTR not in self.__dict__:
            object.__setattr__(self, SITE_ATTR, site)

    def show_placed(message, category, filename, lineno, file=None, line=None):
        """``warnings.showwarning`` while a layer is constructed: show the warning where it belongs."""
        place = _place(filename, lineno, path, keras_dir, sys._getframe(1))
        warnings.showwarning = outer[-1]  # what shows it, as it would have without the hook
        try:
            _show_at(place, message, category)
        finally:
            warnings.showwarning = show_placed

    Layer.__init__ = init_recording_site
    try:
        yield
    finally:
        Layer.__init__ = original
