"""Recording where each layer was constructed in the previewed file.

``Layer.__init__`` is wrapped for the duration of a build. When a layer is made,
the wrapper walks the Python stack outward and keeps the frames that belong to the
previewed file: the innermost one is the layer's ``line``, the whole chain its
``call_lines`` (a Conv2D made in ``conv_block`` and called from ``unet`` records
[helper line, call line]). A custom layer's own ``__init__`` is skipped, so a
``class Block(Layer)`` records the line that created the block, not its
``super().__init__()`` line.

The wrapper is transparent to warnings. Keras warns from inside ``Layer.__init__``
with a ``stacklevel`` that counts frames, and the wrapper's frame would be the one
named (``sites.py``, not the user's file). So while the outermost constructor runs,
warnings are held back with the stack they were raised on, then issued again with
``warnings.warn_explicit`` where the user should look: a warning that points into
Keras or into this wrapper moves to the innermost line of the previewed file on that
stack (the line that made the layer), or, when no frame of that file is on it, to the
frame that called the wrapper, as if the wrapper were not there. Any other warning
keeps its place. The filters then in force decide what is shown, as they would have
for a warning issued at that line, except that ``error`` raises when the constructor
has returned instead of inside it.
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
class _HeldWarning:
    """A warning raised inside a layer constructor, and where it is issued again."""

    message: Any
    category: type
    filename: str
    lineno: int
    globals: Optional[dict]
    """The namespace of the code at ``filename:lineno`` (its ``__warningregistry__``), when known."""
    source: Any = None


def _outermost_frame_in(frame: Optional[FrameType], filename: str) -> Optional[FrameType]:
    """The innermost frame at or above ``frame`` running code from ``filename``."""
    while frame is not None and frame.f_code.co_filename != filename:
        frame = frame.f_back
    return frame


def _is_keras(filename: str, keras_dir: str) -> bool:
    return filename.startswith(keras_dir)


def _place(message: Any, category: type, filename: str, lineno: int, source: Any,
           path: str, keras_dir: str, stack: FrameType) -> _HeldWarning:
    """Where a warning raised on ``stack`` should be issued (see the module docstring)."""
    if filename == __file__ or _is_keras(filename, keras_dir):
        user = _outermost_frame_in(stack, path)
        if user is not None:
            return _HeldWarning(message, category, path, user.f_lineno, user.f_globals, source)
        if filename == __file__:  # nothing of the previewed file on the stack: skip the wrapper alone
            wrapper = stack
            while wrapper is not None and not (wrapper.f_code.co_filename == __file__
                                               and wrapper.f_code.co_name == "init_recording_site"):
                wrapper = wrapper.f_back
            caller = wrapper.f_back if wrapper is not None else None
            if caller is not None:
                return _HeldWarning(message, category, caller.f_code.co_filename, caller.f_lineno,
                                    caller.f_globals, source)
    here = _outermost_frame_in(stack, filename)
    return _HeldWarning(message, category, filename, lineno, here.f_globals if here else None, source)


def _issue(held: _HeldWarning) -> None:
    module_globals = held.globals
    registry = module_globals.setdefault("__warningregistry__", {}) if module_globals is not None else None
    module = module_globals.get("__name__") if module_globals is not None else None
    warnings.warn_explicit(held.message, held.category, held.filename, held.lineno,
                           module=module, registry=registry, module_globals=module_globals,
                           source=held.source)


@contextlib.contextmanager
def recording_sites(path: str) -> Iterator[None]:
    """Within this context, every Keras layer built records its creation site in ``path``."""
    import keras
    from keras.src.layers.layer import Layer

    original = Layer.__init__
    keras_dir = os.path.dirname(keras.__file__) + os.sep
    depth = 0

    def init_recording_site(self, *args, **kwargs):
        nonlocal depth
        site = _site_from_stack(self, path)
        if depth:  # an inner layer: the outermost constructor holds the warnings
            original(self, *args, **kwargs)
        else:
            held: list[_HeldWarning] = []

            def hold(message, category, filename, lineno, file=None, line=None, source=None):
                held.append(_place(message, category, filename, lineno, source, path, keras_dir,
                                   sys._getframe(1)))

            depth += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("always")  # the filters decide when it is issued again
                    warnings.showwarning = hold
                    original(self, *args, **kwargs)
            finally:
                depth -= 1
                for warning in held:
                    _issue(warning)
        # Only the outermost constructor's site counts: keep the first one recorded.
        if SITE_ATTR not in self.__dict__:
            object.__setattr__(self, SITE_ATTR, site)

    Layer.__init__ = init_recording_site
    try:
        yield
    finally:
        Layer.__init__ = original
