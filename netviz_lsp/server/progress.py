"""LSP work-done progress for builds (``window/workDoneProgress/create``, then ``$/progress``).

A build runs on the scheduler's thread but everything sent to the client is sent from
the event loop. ``BuildProgress`` is the thread-safe bridge: the build thread calls
``report``/``end``, each call is posted to the loop, and a task there first creates the
token with the client, then forwards begin, reports and end in order. A client that
does not support server-initiated progress gets none (``netviz/buildStatus`` still
carries the same news).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import TYPE_CHECKING, Optional

from lsprotocol import types

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer

log = logging.getLogger(__name__)
_tokens = itertools.count(1)
_END = object()


class BuildProgress:
    """One build's progress bar; methods may be called from any thread."""

    def __init__(self, server: "NetVizServer", title: str, message: str):
        self._server = server
        self._queue: Optional[asyncio.Queue] = None
        if server.supports_progress():
            server.post(self._start, title, message)

    def report(self, message: str, percentage: Optional[int] = None) -> None:
        self._put(types.WorkDoneProgressReport(message=message, percentage=percentage))

    def end(self, message: str) -> None:
        self._put(types.WorkDoneProgressEnd(message=message))
        self._put(_END)

    def _put(self, item: object) -> None:
        if self._server.supports_progress():
            self._server.post(self._enqueue, item)

    def _start(self, title: str, message: str) -> None:
        self._queue = asyncio.Queue()
        begin = types.WorkDoneProgressBegin(title=title, message=message, percentage=0, cancellable=False)
        asyncio.ensure_future(self._forward(f"netviz-build-{next(_tokens)}", begin, self._queue))

    def _enqueue(self, item: object) -> None:
        if self._queue is not None:
            self._queue.put_nowait(item)

    async def _forward(self, token: str, begin: types.WorkDoneProgressBegin, queue: asyncio.Queue) -> None:
        progress = self._server.work_done_progress
        try:
            await asyncio.wait_for(progress.create_async(token), timeout=10)
        except Exception as error:  # the client refused or did not answer: drop this bar
            log.info("no work-done progress: %s", error)
            return
        progress.begin(token, begin)
        while True:
            item = await queue.get()
            if item is _END:
                progress.tokens.pop(token, None)
                return
            if isinstance(item, types.WorkDoneProgressEnd):
                progress.end(token, item)
            else:
                progress.report(token, item)
