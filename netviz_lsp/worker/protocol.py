"""The worker's channel: length-prefixed JSON messages over a pair of pipes.

The channel is never stdout, so whatever user code prints cannot corrupt it. Both
sides use this module; it imports nothing heavy.

Requests (parent -> worker)::

    {"op": "build", "id": 7, "path": "/abs/file.py", "source": "...", "slice": [0, 1, 4],
     "factories": [{"name": "build", "line": 5, "args": ""}], "shape_only": true,
     "roots": ["/abs/workspace"]}

Events (worker -> parent), in order::

    {"event": "ready", "import_ms": 2400.0, "pid": 123}    once, after Keras is imported
    {"event": "stage", "stage": "slice"}                    before the file's slice runs
    {"event": "stage", "stage": "factory", "factory": "build"}
    {"event": "model", "graph": {...}}                       one factory's graph
    {"event": "error", "error": {...}}                       one BuildError
    {"event": "dropped", "factory": "f", "returned": "int"}  returned something that is not a model
    {"event": "done", "id": 7}
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any, Optional

_HEADER = struct.Struct(">I")


class ChannelClosed(EOFError):
    """The other side went away (exited, crashed or was killed)."""


def send(fd: int, message: dict[str, Any]) -> None:
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def receive(fd: int) -> dict[str, Any]:
    """Block until a whole message arrives; raise ChannelClosed at EOF."""
    (length,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
    return json.loads(_read_exactly(fd, length))


def _read_exactly(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class Reader:
    """Reads messages with a deadline, for the parent side (which must never block forever)."""

    def __init__(self, fd: int):
        self.fd = fd
        self._buffer = bytearray()

    def receive(self, timeout: Optional[float]) -> Optional[dict[str, Any]]:
        """The next message, or None if ``timeout`` seconds pass first; ChannelClosed at EOF."""
        import select
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            message = self._take()
            if message is not None:
                return message
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                ready, _, _ = select.select([self.fd], [], [], wait)
                if not ready:
                    return None
                chunk = os.read(self.fd, 1 << 20)
            except (OSError, ValueError):  # our side was closed: the worker was killed under us
                raise ChannelClosed() from None
            if not chunk:
                raise ChannelClosed()
            self._buffer.extend(chunk)

    def _take(self) -> Optional[dict[str, Any]]:
        if len(self._buffer) < _HEADER.size:
            return None
        (length,) = _HEADER.unpack_from(self._buffer)
        end = _HEADER.size + length
        if len(self._buffer) < end:
            return None
        data = bytes(self._buffer[_HEADER.size:end])
        del self._buffer[:end]
        return json.loads(data)
