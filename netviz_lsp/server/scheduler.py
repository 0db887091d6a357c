"""The latest-wins build queue behind ``didOpen``/``didSave``, the watcher, settings and commands.

One build at a time, and newer requests collapse into one. Builds run on the scheduler's
own thread, never on the event loop, so hover and friends answer while a model builds,
and ``netviz/buildStatus`` says ``queued`` when a request waits. Per file the states are::

    idle --submit--> queued --runner--> building --done--> idle
                                        building --submit--> building+queued

A request for a file that already has one queued replaces it, so ten saves in a second
while a build runs leave exactly one more build. A queued job also waits until its file
has been quiet for ``SETTLE_S`` (never more than ``MAX_SETTLE_S`` in all), so a flurry that
arrives while nothing runs (format-on-save, save-all) is one build too, not a build per
save that happened to find the queue empty (a request that waited out its own idle time,
an as-you-type build, asks for no settling: ``settle=0``). ``superseded(job)`` tells the code that
publishes a finished job whether a newer request exists: its result must not be shown.
Two kinds of job exist: a ``build`` runs the worker; a ``render`` only redraws the last
graphs (render settings changed). A build covers a render, never the other way round.

A build that a newer request for its file supersedes while it runs is normally left to
finish unseen (dropping a short build is cheaper than restarting a worker). With a
``cancel`` callback, the scheduler asks it, on a timer thread and while the superseded job
is still the one running, whether to stop that build now: the callback cancels it (and
returns None), says there is nothing to do (None), or returns the seconds after which to
ask again (the build has not run long enough yet). The server's policy (``app.py``) stops a
build that has run longer than the file's builds take, and at least a second.
"""

from __future__ import annotations

import collections
import enum
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

log = logging.getLogger(__name__)

BUILD, RENDER = "build", "render"
SETTLE_S = 0.025
"""Quiet time before a queued job starts: what an editor's save burst needs to arrive."""
MAX_SETTLE_S = 0.25
"""A stream of requests never delays a build by more than this."""


class State(enum.Enum):
    """Where a file stands in the queue."""

    IDLE = "idle"
    QUEUED = "queued"
    BUILDING = "building"
    BUILDING_AND_QUEUED = "building+queued"


@dataclass(eq=False)
class Job:
    """One request to build (or re-render) one file."""

    key: str
    """The file, by URI."""
    kind: str
    """``build`` or ``render``."""
    seq: int
    """Order of submission across all files; a higher number is newer."""
    payload: Any = None
    """What the runner needs (for a build: the text and version to build)."""
    merged: int = field(default=1)
    """How many requests this job stands for (collapsed ones included)."""
    queued_at: float = field(default_factory=time.monotonic)
    """When the first of the requests it stands for was queued."""
    started_at: Optional[float] = None
    """When it started running (``time.monotonic``); None while queued."""
    watched: bool = field(default=False, repr=False)
    """Whether a timer already asks ``cancel`` about this job."""


class BuildScheduler:
    """Runs ``run(job)`` for submitted jobs on one background thread, newest request per file."""

    def __init__(self, run: Callable[[Job], None], on_queued: Optional[Callable[[Job], None]] = None,
                 name: str = "netviz-builds", cancel: Optional[Callable[[Job], Optional[float]]] = None):
        self._run = run
        self._on_queued = on_queued
        self._cancel = cancel
        self._name = name
        self._cond = threading.Condition()
        self._pending: collections.OrderedDict[str, Job] = collections.OrderedDict()
        self._running: Optional[Job] = None
        self._latest: dict[tuple[str, str], int] = {}
        self._settled_at: dict[str, float] = {}
        """Per file: when its newest request's settling time ends."""
        self._seq = 0
        self._closed = False
        self._thread: Optional[threading.Thread] = None

    def submit(self, key: str, kind: str = BUILD, payload: Any = None, settle: float = SETTLE_S) -> Job:
        """Queue a job for ``key``, collapsing it with one already queued; returns the job that will run.
        It starts once ``key`` has had no request for ``settle`` seconds (``MAX_SETTLE_S`` at most)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the build scheduler is closed")
            self._seq += 1
            self._latest[(key, kind)] = self._seq
            queued = self._pending.get(key)
            if queued is not None and queued.kind == BUILD and kind == RENDER:
                queued.merged += 1  # the queued build renders with the newest settings anyway
                return queued
            job = Job(key, kind, self._seq, payload, merged=1 + (queued.merged if queued else 0))
            if queued is not None:
                job.queued_at = queued.queued_at
            self._pending[key] = job
            self._settled_at[key] = time.monotonic() + settle
            waiting = self._running is not None
            if kind == BUILD and waiting and self._running.key == key and self._running.kind == BUILD:
                self._watch(self._running, 0.0)
            self._ensure_thread()
            self._cond.notify_all()
        if waiting and self._on_queued is not None:
            self._on_queued(job)
        return job

    def superseded(self, job: Job) -> bool:
        """True when a newer request for the same file exists (its result must not be shown)."""
        with self._cond:
            newer_build = self._latest.get((job.key, BUILD), 0) > job.seq
            if job.kind == BUILD:
                return newer_build
            return newer_build or self._latest.get((job.key, RENDER), 0) > job.seq

    def state(self, key: str) -> State:
        with self._cond:
            running = self._running is not None and self._running.key == key
            queued = key in self._pending
        if running:
            return State.BUILDING_AND_QUEUED if queued else State.BUILDING
        return State.QUEUED if queued else State.IDLE

    def discard(self, key: str) -> None:
        """Drop a queued job for ``key`` (its file was closed); a running one finishes unseen."""
        with self._cond:
            self._pending.pop(key, None)
            self._seq += 1
            self._latest[(key, BUILD)] = self._seq

    def wait_idle(self, timeout: Optional[float] = None) -> bool:
        """Block until nothing is queued or running (tests, shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and self._running is None, timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._pending.clear()
            self._cond.notify_all()

    def _watch(self, job: Job, delay: float, again: bool = False) -> None:
        """Ask ``cancel`` about the running, superseded ``job`` after ``delay`` seconds (lock held);
        once per job, unless ``again`` (``cancel`` asked to be asked later)."""
        if self._cancel is None or (job.watched and not again):
            return
        job.watched = True
        timer = threading.Timer(max(0.0, delay), self._ask_cancel, (job,))
        timer.daemon = True
        timer.start()

    def _ask_cancel(self, job: Job) -> None:
        """Timer thread: while ``job`` still runs and is superseded, let ``cancel`` decide. The
        lock is held during the call, so the job cannot end and the next one start meanwhile."""
        with self._cond:
            if self._closed or self._running is not job or not self.superseded(job):
                return
            assert self._cancel is not None
            try:
                later = self._cancel(job)
            except Exception:
                log.exception("deciding whether to cancel the build of %s failed", job.key)
                return
            if later is not None:
                self._watch(job, later, again=True)

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _next_job(self) -> Optional[Job]:
        """The oldest queued job once its file has settled; None when closed. Holds the lock."""
        while True:
            self._cond.wait_for(lambda: self._pending or self._closed)
            if self._closed:
                return None
            key, job = next(iter(self._pending.items()))
            start_at = min(self._settled_at.get(key, 0.0), job.queued_at + MAX_SETTLE_S)
            wait = start_at - time.monotonic()
            if wait <= 0:
                del self._pending[key]
                return job
            self._cond.wait(wait)

    def _loop(self) -> None:
        while True:
            with self._cond:
                job = self._next_job()
                if job is None:
                    return
                self._running = job
                job.started_at = time.monotonic()
            try:
                self._run(job)
            except Exception:  # the runner reports its own errors; this is a bug, not the user's
                log.exception("build job for %s failed", job.key)
            finally:
                with self._cond:
                    self._running = None
                    self._cond.notify_all()
