"""Recording where each layer was constructed in the previewed file.

``Layer.__init__`` is wrapped for the duration of a build. When a layer is made,
the wrapper walks the Python stack outward and keeps the frames that belong to the
previewed file: the innermost one is the layer's ``line``, the whole chain its
``call_lines`` (a Conv2D made in ``conv_block`` and called from ``unet`` records
[helper line, call line]). A custom layer's own ``__init__`` is skipped, so a
``class Block(Layer)`` records the line that created the block, not its
``super().__init__()`` line.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator, Optional

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


@contextlib.contextmanager
def recording_sites(path: str) -> Iterator[None]:
    """Within this context, every Keras layer built records its creation site in ``path``."""
    from keras.src.layers.layer import Layer

    original = Layer.__init__

    def init_recording_site(self, *args, **kwargs):
        site = _site_from_stack(self, path)
        original(self, *args, **kwargs)
        # Only the outermost constructor's site counts: keep the first one recorded.
        if SITE_ATTR not in self.__dict__:
            object.__setattr__(self, SITE_ATTR, site)

    Layer.__init__ = init_recording_site
    try:
        yield
    finally:
        Layer.__init__ = original
