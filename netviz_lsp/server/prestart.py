"""The worker's head start: started before the language server imports its own modules.

``python -m netviz_lsp`` calls ``begin()`` first thing. The server's imports take about
0.8 s here (``lsprotocol.types`` alone about half of it) before it can even answer
``initialize``; a worker started now imports Keras on the other core meanwhile, with the
default settings (the backend a backend-neutral file builds on, the default memory cap).
``NetVizServer`` then takes this engine instead of making one; at ``initialize`` the
settings the editor sent decide: another memory cap restarts the workers, another backend
starts its own worker. Nothing here imports pygls, lsprotocol or Keras.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:
    from netviz_lsp.engine import Engine

_engine: Optional["Engine"] = None
_sink: Optional[Callable[[str], None]] = None


def begin() -> None:
    """Start the engine's first worker now; a failure leaves the start to ``initialize``."""
    global _engine
    if _engine is not None:
        return
    try:
        from netviz_lsp.engine import Engine
        from netviz_lsp.settings import Settings

        settings = Settings()
        engine = Engine(spare=True, memory_mb=settings.build.effective_memory_limit_mb(), on_output=_forward)
        engine.start(settings)
    except Exception:  # the server starts its worker at initialize, as without a head start
        return
    _engine = engine


def take(on_output: Callable[[str], None]) -> Optional["Engine"]:
    """The engine ``begin`` started (once), its workers' output now going to ``on_output``."""
    global _engine, _sink
    engine, _engine = _engine, None
    if engine is not None:
        _sink = on_output
    return engine


def _forward(text: str) -> None:
    (_sink or sys.stderr.write)(text)
