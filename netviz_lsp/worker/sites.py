"""Recording where each layer was constructed in the previewed file.

``Layer.__init__`` is wrapped for the duration of a build. When a layer is made,
the wrapper walks the Python stack outward and keeps the frames that belong to the
previewed file: the innermost one is the layer's ``line``, the whole chain its
``call_lines`` (a Conv2D made in ``conv_block`` and called from ``unet`` records
[helper line, call line]). A custom layer's own ``__init__`` is skipped, so a
``class Block(Layer)`` records the line that created the block, not its
``super().__init__()`` line. A Keras operation that is no layer (the ``subtract`` that
``preprocess_input`` makes on a symbolic tensor) records its line the same way, through
``Operation.__init__``.

The wrapper is transparent to warnings. Keras warns from inside ``Layer.__init__``
with a ``stacklevel`` that counts frames, so the wrapper's own frame would be named
(``sites.py``), and even without it Keras names its own ``Dense.__init__``, never the
user's line. So while the outermost constructor runs, ``warnings.showwarning`` is
hooked (no filter is touched): a warning that the filters let through and that points
into Keras or into this wrapper is issued again with ``warnings.warn_explicit`` at
the innermost line of the previewed file on the stack it was raised on (the line that
made the layer), or, when no frame of that file is on it, at the frame that called
the wrapper, as if the wrapper were not there. Any other warning is shown where it
points. Outside a build's capture, which warnings show, and how often, stays Python's
decision, as in a notebook.

Two more recorders serve a build (``build.py`` enters them around each statement and
each target):

- ``capturing_warnings``: Keras' and TensorFlow's ``UserWarning``/``DeprecationWarning``
  (and their kin, ``CAPTURED``) are collected on every build, at the innermost line of
  the previewed file, for ``FileResult.warnings``; the log still shows each once per worker.
- ``recording_calls``: every layer call (and every Keras operation that is no layer),
  with what produced its inputs and what it returned or raised, into a ``CallLog``. Read
  only when the build fails: ``extract.extract_partial`` turns it into the partial graph.
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
#: Keras 2's ``Embedding(..., input_length=N)``, which Keras 3 drops with a warning: kept on the
#: layer, so a Sequential it starts can still be drawn with the input (None, N) it meant.
INPUT_LENGTH_ATTR = "_netviz_input_length"


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
    from keras.src.ops.operation import Operation

    original = Layer.__init__
    keras_dir = os.path.dirname(keras.__file__) + os.sep
    outer: list = []  # the showwarning that the outermost constructor replaced

    def init_recording_site(self, *args, **kwargs):
        site = _site_from_stack(self, path)
        if _log is not None and isinstance(self, keras.Model):  # before a constructor that fails
            _log.models.append(self)
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
        if isinstance(self, keras.layers.Embedding):
            caller = sys._getframe(1)  # Embedding.__init__, which popped input_length from its kwargs
            length = caller.f_locals.get("input_length") if caller.f_locals.get("self") is self else None
            if isinstance(length, int) and not isinstance(length, bool) and length > 0:
                object.__setattr__(self, INPUT_LENGTH_ATTR, length)

    def show_placed(message, category, filename, lineno, file=None, line=None):
        """``warnings.showwarning`` while a layer is constructed: show the warning where it belongs."""
        place = _place(filename, lineno, path, keras_dir, sys._getframe(1))
        warnings.showwarning = outer[-1]  # what shows it, as it would have without the hook
        try:
            _show_at(place, message, category)
        finally:
            warnings.showwarning = show_placed

    def init_operation_site(self, *args, **kwargs):
        """A Keras operation that is no layer (``ops.subtract`` on a symbolic tensor, as
        ``preprocess_input`` does) records the line that made it, as a layer does."""
        if not isinstance(self, Layer) and SITE_ATTR not in self.__dict__:
            object.__setattr__(self, SITE_ATTR, _site_from_stack(self, path))
        operation_init(self, *args, **kwargs)

    operation_init = Operation.__init__
    Layer.__init__ = init_recording_site
    Operation.__init__ = init_operation_site
    try:
        yield
    finally:
        Layer.__init__ = original
        Operation.__init__ = operation_init


# -- layer calls, for the partial graph of a build that fails -------------------------------

class Call:
    """One call of a layer (or of a Keras operation that is no layer) while a target builds."""

    __slots__ = ("op", "parent", "sources", "outputs", "error")

    def __init__(self, op: Any, parent: Optional["Call"], sources: list):
        self.op = op
        self.parent = parent
        """The call this one ran inside (a subclassed model's ``call`` calling its layers), or None."""
        self.sources = sources
        """What made each input: the ``Call`` that returned it, or the operation in its Keras history
        (an ``InputLayer`` from ``keras.Input``)."""
        self.outputs: Any = None
        self.error: Optional[BaseException] = None
        """What the call raised, when it raised."""


class CallLog:
    """Every layer call and model construction since the log began, in order.

    Tensors are matched to the call that returned them by identity; the log keeps
    each call's outputs alive, so an ``id`` is never reused while the log lives.
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.models: list = []
        """Keras models constructed, in order (a Sequential's implicit ``InputLayer`` is hidden, as in a good build)."""
        self.history_nodes: dict[int, int] = {}
        """For each operation a call's input came from by its Keras history (no recorded call: an
        ``InputLayer``, an op of ``preprocess_input``), the index of the node that made the input."""
        self._producers: dict[int, Call] = {}
        self._open: list[Call] = []

    def begin(self, op: Any, args: tuple, kwargs: dict) -> Call:
        sources: list = []
        for leaf in _leaves((args, kwargs)):
            made = self._producers.get(id(leaf))
            if made is None:
                history = getattr(leaf, "_keras_history", None)
                made = history[0] if history is not None else None
                if made is not None:
                    self.history_nodes[id(made)] = history[1]
            if made is not None and made not in sources:
                sources.append(made)
        call = Call(op, self._open[-1] if self._open else None, sources)
        self.calls.append(call)
        self._open.append(call)
        return call

    def end(self, call: Call, outputs: Any = None, error: Optional[BaseException] = None) -> None:
        if self._open and self._open[-1] is call:
            self._open.pop()
        if error is not None:
            call.error = error
            return
        call.outputs = outputs
        for leaf in _leaves(outputs):
            self._producers[id(leaf)] = call


def _leaves(value: Any, depth: int = 0) -> Iterator[Any]:
    """The tensors (and other leaves) in a call's arguments: lists, tuples and dicts opened, a few levels deep."""
    if isinstance(value, (list, tuple)):
        if depth < 4:
            for item in value:
                yield from _leaves(item, depth + 1)
    elif isinstance(value, dict):
        if depth < 4:
            for item in value.values():
                yield from _leaves(item, depth + 1)
    elif value is not None and not isinstance(value, (bool, int, float, str)):
        yield value


_log: Optional[CallLog] = None
"""The log that layer calls and model constructions go to now; None: nothing is recorded."""


@contextlib.contextmanager
def recording_calls(log: CallLog) -> Iterator[CallLog]:
    """Within this context, every layer and operation call is appended to ``log``.

    A good build pays one list append and a flatten of the arguments per call; the log
    is only read when the build fails (``extract.extract_partial``).
    """
    global _log
    from keras.src.layers.layer import Layer
    from keras.src.ops.operation import Operation

    layer_call = Layer.__call__
    operation_call = Operation.__call__

    def recorded(original, layers_too: bool):
        """``original`` (a ``__call__``), its calls appended to the active log."""
        def call(self, *args, **kwargs):
            active = _log
            if active is None or (not layers_too and isinstance(self, Layer)):  # a layer's own call: above
                return original(self, *args, **kwargs)
            entry = active.begin(self, args, kwargs)
            try:
                outputs = original(self, *args, **kwargs)
            except BaseException as error:
                active.end(entry, error=error)
                raise
            active.end(entry, outputs)
            return outputs
        return call

    call_recorded = recorded(layer_call, layers_too=True)
    operation_recorded = recorded(operation_call, layers_too=False)

    previous = _log
    _log = log
    if getattr(layer_call, "_netviz_recorder", False):  # nested: the hooks are in place already
        try:
            yield log
        finally:
            _log = previous
        return
    call_recorded._netviz_recorder = True  # type: ignore[attr-defined]
    Layer.__call__ = call_recorded
    Operation.__call__ = operation_recorded
    try:
        yield log
    finally:
        Layer.__call__ = layer_call
        Operation.__call__ = operation_call
        _log = previous


# -- warnings, captured as the build's own ------------------------------------------------

#: The warnings a build hands back as diagnostics (subclasses included).
CAPTURED = (UserWarning, DeprecationWarning, PendingDeprecationWarning, FutureWarning)


@dataclass
class Caught:
    """A warning raised while a target built, at the innermost line of the previewed file."""

    message: str
    category: str
    line: Optional[int]


_shown: set = set()
"""(file, line, text) of the captured warnings already shown on stderr: the log keeps Python's
'once per location', while every build captures every warning."""


@contextlib.contextmanager
def capturing_warnings(path: str) -> Iterator[list[Caught]]:
    """Within this context, Keras' and TensorFlow's warnings (``CAPTURED``) are collected, every time.

    Python shows a warning once per location, so a second build in the same worker would see
    nothing: ``always`` filters for ``CAPTURED`` go in front while the context lasts (filters
    the user's code adds during it still come before them), and ``showwarning`` collects them.
    Each is still shown on stderr the first time, as before. Other warnings, and the filters
    the user's code set, are left alone.
    """
    caught: list[Caught] = []
    previous = warnings.showwarning
    ours = [("always", None, category, None, 0) for category in CAPTURED]

    def collect(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, CAPTURED):
            previous(message, category, filename, lineno, file, line)
            return
        if filename == path:
            where: Optional[int] = lineno
        else:
            frame = _frame_in(sys._getframe(1), path)
            where = frame.f_lineno if frame is not None else None
        text = str(message)
        caught.append(Caught(text, category.__name__, where))
        key = (filename, lineno, text)
        if key not in _shown:
            _shown.add(key)
            previous(message, category, filename, lineno, file, line)

    warnings.filters[:0] = ours
    warnings._filters_mutated()  # type: ignore[attr-defined]
    warnings.showwarning = collect
    try:
        yield caught
    finally:
        if warnings.showwarning is collect:
            warnings.showwarning = previous
        for item in ours:
            for index, present in enumerate(warnings.filters):
                if present is item:
                    del warnings.filters[index]
                    break
        warnings._filters_mutated()  # type: ignore[attr-defined]
