"""The parent side of the worker: start it, send builds, enforce timeouts, replace it when it dies.

Never imports Keras. A build that hangs past its timeout is stopped by killing the
worker's whole process group (user threads and child processes go with it); a
worker that dies mid-build becomes a ``crash`` error. Either way a fresh worker
takes its place and the build goes on with the factories that were not reached,
so one bad factory never hides the others. With ``spare=True`` a second worker is
kept warm, so replacing one costs no TensorFlow import.

Keras fixes its backend (TensorFlow, JAX or torch) when it is imported, so a worker
serves one backend for its life. The pool's own workers run ``backend`` (default: the
user's, from ``KERAS_BACKEND`` or their ``keras.json``); ``build(..., backend=...)`` for
another backend goes to a second pool of that backend's workers, started on first need. ``cancel()`` (from another
thread) stops the build in flight the same way, for a caller whose result is no longer
wanted: its worker is killed and replaced, and the build ends at once, retrying nothing.

Worker states: starting -> ready -> building -> ready ... -> exited.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from netviz_lsp.graph import BuildError
from netviz_lsp.worker.messages import (BuildRequest, Done, Dropped, ErrorEvent, ModelEvent, Ready, Stage,
                                        TargetSpec, WarningEvent, event_from_wire)
from netviz_lsp.worker.protocol import ChannelClosed, Reader, send

START_TIMEOUT = 300.0
OUTPUT_LIMIT = 64 * 1024
"""Bytes of user output forwarded per build; the rest is counted, not copied."""


BACKENDS = ("tensorflow", "jax", "torch")
"""The Keras backends NetViz builds with."""


def user_keras_dir() -> str:
    """The folder the user's Keras reads ``keras.json`` from: ``KERAS_HOME``, else ``~/.keras``
    (``/tmp/.keras`` when the home folder is not writable), as Keras itself decides."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    home = os.path.expanduser("~")
    if not os.access(home, os.W_OK):
        home = "/tmp"
    return os.path.join(home, ".keras")


def user_backend() -> str:
    """The user's own Keras backend: ``KERAS_BACKEND``, else their ``keras.json``, else ``tensorflow``.

    Read from the user's real Keras folder, never from the private one the workers get.
    """
    import json

    backend = os.environ.get("KERAS_BACKEND", "").strip().lower()
    if backend:
        return backend
    try:
        with open(os.path.join(user_keras_dir(), "keras.json"), encoding="utf-8") as config:
            value = json.load(config).get("backend")
    except (OSError, ValueError, AttributeError):
        value = None
    return value.strip().lower() if isinstance(value, str) and value.strip() else "tensorflow"


_AVAILABLE: dict[tuple[str, str], bool] = {}
_PACKAGES = {"jax": ("jax", "jaxlib")}
"""The modules a backend needs, where they are not just its name."""


def backend_available(backend: str, python: Optional[str] = None) -> bool:
    """Whether ``python`` (default: this interpreter) has ``backend``'s packages; remembered."""
    python = python or sys.executable
    key = (os.path.abspath(python), backend)  # not realpath: a venv's python links to the base one
    if key not in _AVAILABLE:
        modules = _PACKAGES.get(backend, (backend,))
        if key[0] == os.path.abspath(sys.executable):
            import importlib.util

            _AVAILABLE[key] = all(importlib.util.find_spec(m) is not None for m in modules)
        else:
            try:
                probe = subprocess.run([python, "-c", "import importlib.util, sys; sys.exit(not all("
                                        f"importlib.util.find_spec(m) for m in {modules!r}))"],
                                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
                _AVAILABLE[key] = probe.returncode == 0
            except (OSError, subprocess.SubprocessError):
                _AVAILABLE[key] = False
    return _AVAILABLE[key]


def backend_failed(backend: str, python: Optional[str] = None) -> None:
    """``backend``'s worker could not start in ``python``: ``backend_available`` says no from now on."""
    _AVAILABLE[(os.path.abspath(python or sys.executable), backend)] = False


def keras_home() -> str:
    """A private KERAS_HOME for the workers, holding a copy of the user's ``keras.json``.

    Keras writes its config (and ``get_file`` its downloads) under ``~/.keras``; NetViz
    writes nothing there, yet honours the user's settings (floatx, image format; the
    backend is read before, by ``user_backend``, and passed as ``KERAS_BACKEND``).
    """
    import shutil

    folder = os.path.join(tempfile.gettempdir(), f"netviz-keras-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    config = os.path.join(user_keras_dir(), "keras.json")
    mine = os.path.join(folder, "keras.json")
    try:
        if os.path.isfile(config):
            shutil.copyfile(config, mine)
        elif os.path.exists(mine):
            os.unlink(mine)
    except OSError:
        pass
    return folder


class WorkerStartError(RuntimeError):
    """The worker could not start (no Keras in that interpreter, a broken install, …)."""


@dataclass
class BuildOutcome:
    """What a build produced: graphs (as contract dicts) and errors, plus the names dropped as non-models."""

    models: list[dict[str, Any]] = field(default_factory=list)
    errors: list[BuildError] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    """Target name -> the type it had instead of a model."""
    warnings: list[WarningEvent] = field(default_factory=list)
    """Warnings the build raised, each with the targets it is charged to."""


class Worker:
    """One worker process and its channel."""

    def __init__(self, python: str, memory_mb: int, on_output: Callable[[str], None],
                 backend: Optional[str] = None):
        self.state = "starting"
        self.backend = backend or user_backend()
        self.import_ms: Optional[float] = None
        self._on_output = on_output
        self._forwarded = 0
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        to_worker_r, self._to_worker = os.pipe()
        from_worker, from_worker_w = os.pipe()
        trace = tempfile.NamedTemporaryFile(prefix="netviz-trace-", suffix=".txt", delete=False)
        trace.close()
        self.trace_path = trace.name
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
        env["PYTHONUNBUFFERED"] = "1"
        env["KERAS_BACKEND"] = self.backend  # fixed for this process's life, whatever keras.json says
        if "KERAS_HOME" not in env:  # a user's own KERAS_HOME is theirs to write to
            env["KERAS_HOME"] = keras_home()
        command = [python, "-m", "netviz_lsp.worker", "--read-fd", str(to_worker_r),
                   "--write-fd", str(from_worker_w), "--trace-file", self.trace_path,
                   "--memory-mb", str(memory_mb or 0)]
        self.process = subprocess.Popen(
            command, pass_fds=(to_worker_r, from_worker_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, env=env,
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.reader = Reader(from_worker)
        self._drain = threading.Thread(target=self._drain_output, daemon=True)
        self._drain.start()
        self._ready = threading.Event()
        self._start_error: Optional[str] = None
        threading.Thread(target=self._await_ready, name="netviz-worker-start", daemon=True).start()

    def _await_ready(self) -> None:
        """Read the ``ready`` message in the background, so ``state`` tells the truth without a build."""
        try:
            message = self.reader.receive(START_TIMEOUT)
        except (ChannelClosed, OSError, ValueError):
            self.process.wait()
            self._drain.join(1.0)
            self._start_error = self.tail[-1] if self.tail else self.describe_exit()
        else:
            event = event_from_wire(message) if message is not None else None
            if not isinstance(event, Ready):
                self._start_error = f"it did not start within {START_TIMEOUT:.0f} s"
            else:
                self.import_ms = event.import_ms
                if self.state == "starting":
                    self.state = "ready"
        self._ready.set()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        if not self._ready.wait(timeout) or self._start_error is not None:
            detail = self._start_error or f"it did not start within {timeout:.0f} s"
            self.kill()
            raise WorkerStartError(f"the NetViz worker could not start: {detail}")

    def send(self, request: BuildRequest) -> None:
        self._forwarded = 0
        try:
            send(self._to_worker, request.to_wire())
        except OSError:
            raise ChannelClosed() from None

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the worker and everything it started (its process group)."""
        if self.state == "exited":
            return
        self.state = "exited"
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for fd in (self._to_worker, self.reader.fd):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.unlink(self.trace_path)
        except OSError:
            pass

    def describe_exit(self) -> str:
        code = self.process.wait()
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the worker was killed by {name}"
        return f"the worker exited with status {code}"

    def stack_line(self, path: str, ask: bool) -> Optional[int]:
        """The innermost line of ``path`` in the worker's last Python stack dump.

        With ``ask``, first ask a (hung) worker to dump its stack with SIGUSR1.
        """
        if ask and self.alive():
            self.clear_trace()
            try:
                os.kill(self.process.pid, signal.SIGUSR1)
            except ProcessLookupError:
                return None
            time.sleep(0.2)
        try:
            with open(self.trace_path, encoding="utf-8", errors="replace") as trace:
                text = trace.read()
        except OSError:
            return None
        pattern = re.compile(r'File "' + re.escape(path) + r'", line (\d+)')
        match = pattern.search(text)  # faulthandler prints the most recent call first
        return int(match.group(1)) if match else None

    def clear_trace(self) -> None:
        try:
            os.truncate(self.trace_path, 0)
        except OSError:
            pass

    def _drain_output(self) -> None:
        """Forward the worker's stdout/stderr (user prints), capped per build."""
        stream = self.process.stdout
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", errors="replace")
            self.tail.append(text.rstrip())
            if self._forwarded < OUTPUT_LIMIT:
                self._forwarded += len(raw)
                chunk = text if self._forwarded < OUTPUT_LIMIT else text + "[netviz: further output of this build not shown]\n"
                self._on_output(chunk)
        stream.close()


class BuildPool:
    """Runs builds on a warm worker, one at a time; thread-safe."""

    def __init__(self, python: Optional[str] = None, memory_mb: int = 0, spare: bool = False,
                 on_output: Optional[Callable[[str], None]] = None, backend: Optional[str] = None):
        self.python = python or sys.executable
        self.backend = backend or user_backend()
        """The backend of this pool's own workers; other backends' builds go to ``_others``."""
        self._others: dict[str, BuildPool] = {}
        self._others_lock = threading.Lock()
        self.memory_mb = memory_mb
        self.spare = spare
        self.on_output = on_output or (lambda text: sys.stderr.write(text))
        self._lock = threading.Lock()
        self._workers: list[Worker] = []
        self._closed = False
        self._request_id = 0
        self.builds = 0
        self._active_lock = threading.Lock()
        self._active: Optional[tuple[Worker, float]] = None
        """The worker running a request now, and since when (``time.monotonic``)."""
        self._cancelled: Optional[Worker] = None
        self.cancelled = 0
        """How many builds ``cancel`` stopped."""

    def start(self, backend: Optional[str] = None) -> None:
        """Start a worker of ``backend`` (default: the pool's) now, without waiting for Keras to
        import (the spare follows the first build)."""
        pool = self._pool(backend)
        if pool is not self:
            return pool.start()
        with self._lock:
            self._fill(with_spare=False)

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers, the active one first (for diagnostics and tests)."""
        return [w.process.pid for w in self._workers if w.state != "exited"] + [
            pid for other in list(self._others.values()) for pid in other.worker_pids()]

    def backends(self) -> dict[str, list[int]]:
        """Each backend that has live workers, with their process ids."""
        found = {self.backend: [w.process.pid for w in self._workers if w.state != "exited"]}
        for backend, other in list(self._others.items()):
            found.update(other.backends())
        return {backend: pids for backend, pids in found.items() if pids}

    @property
    def warm(self) -> bool:
        """True when a worker has Keras imported and is idle or building (no import to wait for)."""
        return any(w.state in ("ready", "building") for w in self._workers) or any(
            other.warm for other in list(self._others.values()))

    def _pool(self, backend: Optional[str]) -> "BuildPool":
        """The pool whose workers run ``backend``: this one, or another made on first need."""
        if backend is None or backend == self.backend:
            return self
        with self._others_lock:
            if self._closed:
                raise WorkerStartError("the build pool is closed")
            other = self._others.get(backend)
            if other is None:
                other = self._others[backend] = BuildPool(self.python, self.memory_mb, self.spare,
                                                          self.on_output, backend)
            other.memory_mb = self.memory_mb
            return other

    def build(self, request: BuildRequest, timeout: float,
              on_stage: Optional[Callable[[str, Optional[str]], None]] = None,
              backend: Optional[str] = None) -> BuildOutcome:
        """Build every target of ``request`` on a worker of ``backend`` (default: the pool's);
        never raises for anything the user's code does.

        ``on_stage("slice", None)`` is called when the file's statements start running,
        ``on_stage("factory", name)`` when a target is evaluated.
        """
        try:
            pool = self._pool(backend)
        except WorkerStartError as error:
            return BuildOutcome(errors=[BuildError("crash", str(error), None, t.name) for t in request.targets])
        if pool is not self:
            self.builds += 1  # every backend's builds count here
            return pool.build(request, timeout, on_stage)
        with self._lock:
            self.builds += 1
            outcome = BuildOutcome()
            remaining = list(request.targets)
            while remaining:
                remaining = self._run(request.with_targets(remaining), timeout, outcome, on_stage)
            if not self._closed:
                self._fill()  # the spare starts importing now, not while the first build needs the CPU
            return outcome

    def running_s(self) -> Optional[float]:
        """Seconds the request in flight has run on its worker (its Keras import not counted); None when idle."""
        active = self._active
        if active is None:  # or on another backend's worker
            return next((s for s in (o.running_s() for o in list(self._others.values())) if s is not None), None)
        return time.monotonic() - active[1]

    def cancel(self) -> bool:
        """Stop the request in flight now (any thread): its worker is killed and replaced, and
        ``build`` returns at once, its unfinished targets ``crash`` errors that say so. False
        when no request is running on a worker (waiting for one to start, or idle)."""
        with self._active_lock:
            if self._active is None:  # or on another backend's worker
                return any([other.cancel() for other in list(self._others.values())])
            worker = self._cancelled = self._active[0]
        try:
            os.killpg(worker.process.pid, signal.SIGKILL)  # the reader sees EOF; _run replaces it
        except (ProcessLookupError, PermissionError):
            pass
        return True

    def restart(self) -> None:
        """Replace every worker; a running build ends as a crash and the next one uses the new worker.

        Each backend whose workers run (or import Keras) gets a fresh one; a backend with none
        starts on its next build. With none running anywhere, this pool's own backend starts."""
        with self._others_lock:
            others = list(self._others.items())
            self._others = {backend: other for backend, other in others if other._live()}
        mine = self._live() or not self._others
        for backend, other in others:
            if backend in self._others:
                other.memory_mb = self.memory_mb
                other.restart()
            else:
                other.close()
        for worker in list(self._workers):
            worker.kill()  # ends a running build now, instead of waiting for it
        with self._lock:
            for worker in self._workers:
                worker.kill()  # replacements that the interrupted build started
            self._workers = []
            if mine:
                self._fill(with_spare=False)

    def _live(self) -> bool:
        """Whether a worker of this pool's own backend runs or imports Keras."""
        return any(w.state != "exited" and w.alive() and w._start_error is None for w in self._workers)

    def close(self) -> None:
        """Kill every worker now, without waiting for a running build (it ends as a crash value)."""
        self._closed = True
        with self._others_lock:
            others = list(self._others.values())
        for other in others:
            other.close()
        for worker in list(self._workers):
            worker.kill()

    def _fill(self, with_spare: bool = True) -> None:
        if self._closed:
            raise WorkerStartError("the build pool is closed")
        wanted = 2 if self.spare and with_spare else 1
        self._workers = [w for w in self._workers if w.state != "exited"]
        while len(self._workers) < wanted:
            self._workers.append(Worker(self.python, self.memory_mb, self.on_output, self.backend))

    def _ready_worker(self) -> Worker:
        self._fill(with_spare=False)
        # A warm spare beats waiting for a replacement that is still importing Keras.
        worker = next((w for w in self._workers if w.state == "ready"), self._workers[0])
        self._workers.remove(worker)
        self._workers.insert(0, worker)
        if worker.state == "starting":
            try:
                worker.wait_ready()
            except WorkerStartError:
                worker.kill()
                self._workers.remove(worker)
                raise
        return worker

    def _replace(self, worker: Worker) -> None:
        worker.kill()
        if worker in self._workers:
            self._workers.remove(worker)
        if not self._closed:
            self._fill()

    def _run(self, request: BuildRequest, timeout: float, outcome: BuildOutcome, on_stage) -> list[TargetSpec]:
        """Send one request; return the targets to build again (in a fresh worker) after a timeout or crash."""
        try:
            worker = self._ready_worker()
        except WorkerStartError as error:
            outcome.errors.extend(BuildError("crash", str(error), None, t.name) for t in request.targets)
            return []
        worker.state = "building"
        self._request_id += 1
        request.id = self._request_id
        stage: Optional[Stage] = None
        done: set[str] = set()
        try:
            worker.clear_trace()
            with self._active_lock:
                self._active, self._cancelled = (worker, time.monotonic()), None
            worker.send(request)
            deadline = time.monotonic() + timeout
            while True:
                message = worker.reader.receive(max(0.0, deadline - time.monotonic()))
                if message is None:
                    line = worker.stack_line(request.path, ask=True)
                    self._end_active(worker)
                    self._replace(worker)
                    return self._blame(request, stage, done, outcome, "timeout", line,
                                       f"did not finish within {timeout:g} s; the worker was stopped and replaced")
                event = event_from_wire(message)
                if isinstance(event, Stage):
                    if on_stage and event.stage == "target":
                        on_stage("factory", event.target)
                    elif on_stage and event.stage == "statement" and stage is None:
                        on_stage("slice", None)
                    stage = event
                    deadline = time.monotonic() + timeout
                elif isinstance(event, ModelEvent):
                    outcome.models.append(event.graph)
                    done.add(event.graph["factory"])
                elif isinstance(event, ErrorEvent):
                    if event.error.factory is None:  # the text itself failed: every target's error
                        outcome.errors.extend(dataclasses.replace(event.error, factory=t.name)
                                              for t in request.targets if t.name not in done)
                        done.update(t.name for t in request.targets)
                    else:
                        outcome.errors.append(event.error)
                        done.add(event.error.factory)
                elif isinstance(event, WarningEvent):
                    outcome.warnings.append(event)
                elif isinstance(event, Dropped):
                    outcome.dropped[event.target] = event.returned
                    done.add(event.target)
                elif isinstance(event, Done):
                    worker.state = "ready"
                    if self._end_active(worker):  # cancelled as it finished: the kill is on its way
                        self._replace(worker)
                    elif event.leftovers:
                        self.on_output(f"netviz: the build left {', '.join(event.leftovers[:5])} running; "
                                       "replacing the worker\n")
                        self._replace(worker)
                    return []
        except ChannelClosed:
            worker.process.wait()
            if self._end_active(worker):
                self.cancelled += 1
                self._replace(worker)
                pending = [t for t in request.targets if t.name not in done]
                outcome.errors.extend(BuildError("crash", "the build was cancelled: a newer text of the file "
                                                 "replaced it", None, t.name) for t in pending)
                return []
            line = worker.stack_line(request.path, ask=False)
            description = worker.describe_exit()
            if worker.process.returncode == -signal.SIGKILL:
                description += " (from outside, or by the system for using too much memory)"
            self._replace(worker)
            return self._blame(request, stage, done, outcome, "crash", line,
                               f"stopped the build: {description}; a fresh worker took its place")

    def _end_active(self, worker: Worker) -> bool:
        """The request on ``worker`` ended; True when ``cancel`` stopped it."""
        with self._active_lock:
            cancelled = self._cancelled is worker
            self._active, self._cancelled = None, None
        return cancelled

    @staticmethod
    def _blame(request: BuildRequest, stage: Optional[Stage], done: set[str], outcome: BuildOutcome,
               kind: str, line: Optional[int], what: str) -> list[TargetSpec]:
        """Errors for the targets the hung or dead stage cost; the others are to build again."""
        pending = [t for t in request.targets if t.name not in done]
        if stage is not None and stage.stage == "target":
            hit = [t for t in pending if t.name == stage.target]
            subject = f"{stage.target}()" if hit and hit[0].kind == "factory" else f"building {stage.target}"
        elif stage is not None and stage.stage == "statement":
            hit = [t for t in pending if stage.index in t.slice]
            subject = f"the top-level code at line {stage.line}"
        else:
            hit, subject = pending, "the file's top-level code"
        for target in hit:
            where = line or (stage.line if stage is not None and stage.stage == "statement" else None) or target.line
            outcome.errors.append(BuildError(kind, f"{subject} {what}", where, target.name))
        return [t for t in pending if t not in hit]
