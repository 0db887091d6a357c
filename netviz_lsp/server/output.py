"""What user code prints in the worker goes to stderr and the client's log, never to stdout.

The pool forwards the worker's stdout and stderr (``BuildPool(on_output=...)``), capped
per build. The LSP stream is the server's stdout, so a user ``print()`` written there
would corrupt it: ``OutputForwarder`` writes to stderr and sends ``window/logMessage``
with its own cap per build, from the event loop.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, TextIO

from lsprotocol import types

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer

LOG_LIMIT = 16 * 1024
"""Characters of user output per build sent as ``window/logMessage``."""


class OutputForwarder:
    """The pool's ``on_output``: called on the pool's reader threads, one line at a time."""

    def __init__(self, server: "NetVizServer", stream: TextIO = sys.__stderr__):
        self._server = server
        self._stream = stream
        self._lock = threading.Lock()
        self._sent = 0
        self._buffer: list[str] = []
        self._flush_posted = False

    def reset(self) -> None:
        """A new build starts: its output gets a fresh allowance."""
        with self._lock:
            self._sent = 0

    def __call__(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            pass
        with self._lock:
            if self._sent >= LOG_LIMIT:
                return
            self._sent += len(text)
            if self._sent >= LOG_LIMIT:
                text += "\n[netviz: further output of this build is on the server's stderr only]\n"
            self._buffer.append(text)
            post, self._flush_posted = not self._flush_posted, True
        if post:  # lines arriving before the loop runs the flush join the same message
            self._server.post(self._flush)

    def _flush(self) -> None:
        with self._lock:
            text, self._buffer, self._flush_posted = "".join(self._buffer), [], False
        if text:
            self._server.window_log_message(
                types.LogMessageParams(type=types.MessageType.Log, message=text.rstrip("\n")))
