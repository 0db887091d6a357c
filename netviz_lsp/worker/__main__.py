"""The worker process: ``python -m netviz_lsp.worker --read-fd R --write-fd W --trace-file T``.

Imports Keras once (with the backend ``KERAS_BACKEND`` names: the pool sets it per worker),
says ``ready``, then serves build requests one at a time over
the pipe pair it was given. File descriptor 1 is pointed at stderr before any user
code runs, so ``print()`` and even ``os.write(1, ...)`` never reach the channel.
Faulthandler writes Python stacks to the trace file on a fatal signal, and on
SIGUSR1, which the parent sends to a hung build to learn the line it hangs at.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import os
import resource
import signal
import sys
import threading
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m netviz_lsp.worker")
    parser.add_argument("--read-fd", type=int, required=True)
    parser.add_argument("--write-fd", type=int, required=True)
    parser.add_argument("--trace-file", required=True)
    parser.add_argument("--memory-mb", type=int, default=0)
    args = parser.parse_args(argv)

    os.dup2(2, 1)  # user output goes to stderr, never to a protocol stream
    trace = open(args.trace_file, "a", buffering=1)
    faulthandler.enable(file=trace, all_threads=False)
    faulthandler.register(signal.SIGUSR1, file=trace, all_threads=False)
    if args.memory_mb:
        _limit_memory(args.memory_mb)
    _exit_with_parent()
    # TensorFlow's start-up notices are noise in every log that shows the worker's output.
    # TF_CPP_MIN_LOG_LEVEL quiets its C++ INFO lines; the oneDNN notice and absl's "All log
    # messages before absl::InitializeLog()" warning ignore it, and only go with oneDNN's
    # custom operations off, which a build (no training, no inference) never needs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

    from netviz_lsp.worker import messages, protocol

    started = time.perf_counter()
    try:
        import keras  # noqa: F401  (the expensive import, paid once per worker)
    except Exception as error:  # the backend's package missing (ImportError), or an unknown backend (ValueError)
        # The pool shows the last line of output as why the worker could not start.
        backend = os.environ.get("KERAS_BACKEND") or "tensorflow"
        package = {"tensorflow": "tensorflow", "jax": "jax[cpu]", "torch": "torch"}.get(backend, backend)
        missing = f"no module {error.name}" if getattr(error, "name", None) else str(error)
        print(f"Keras could not be imported with the {backend} backend in {sys.executable} "
              f"({type(error).__name__}: {missing}); install it there (pip install {package}) "
              "or choose another backend (netviz.build.backend, KERAS_BACKEND or ~/.keras/keras.json)",
              file=sys.stderr, flush=True)
        return 1
    backend = keras.backend.backend()

    from netviz_lsp.worker import offline
    from netviz_lsp.worker.build import mark_preloaded, run_build

    offline.install()

    import_ms = (time.perf_counter() - started) * 1000
    # Keras and TensorFlow leave a huge, immortal heap: freeze it so each collection
    # only walks what builds create (a full collection drops from ~165 ms to a few).
    gc.collect()
    gc.freeze()
    mark_preloaded()

    def emit(event: messages.Event) -> None:
        if isinstance(event, messages.ModelEvent) and isinstance(event.graph.get("build"), dict):
            event.graph["build"]["backend"] = backend  # the backend Keras really runs on here
        protocol.send(args.write_fd, messages.event_to_wire(event))

    emit(messages.Ready(round(import_ms, 1), os.getpid()))
    while True:
        try:
            wire = protocol.receive(args.read_fd)
        except protocol.ChannelClosed:
            return 0
        if wire.get("op") == messages.EXIT:
            return 0
        if wire.get("op") in (messages.BUILD, messages.TENSORBOARD):
            request = messages.BuildRequest.from_wire(wire)
            threads_before = {t.ident for t in threading.enumerate()}
            run = run_build if request.op == messages.BUILD else _tensorboard()
            run(request, emit)
            emit(messages.Done(request.id, _leftovers(threads_before)))
            gc.collect()  # free the last build's models while the editor shows the diagram


def _tensorboard():
    """The ``tensorboard`` request's runner (imports TensorFlow's summary API on first use)."""
    from netviz_lsp.worker.tensorboard import run_tensorboard

    return run_tensorboard


def _leftovers(threads_before: set) -> list[str]:
    """Threads and child processes the build started that are still running.

    The parent replaces a worker that has any, so they cannot slow or skew later builds.
    """
    found = [f"thread {t.name!r}" for t in threading.enumerate()
             if t.ident not in threads_before and t.is_alive()]
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        try:
            with open(f"/proc/{os.getpid()}/task/{task}/children") as children:
                found += [f"process {pid}" for pid in children.read().split()]
        except OSError:
            pass
    return found


def _exit_with_parent() -> None:
    """End this worker when its parent (server or CLI) dies, even by SIGKILL.

    The worker runs in its own session, so nothing else would stop a hung build
    whose server is gone. A poll of the parent pid is used rather than
    PR_SET_PDEATHSIG, which fires when the *thread* that started us exits.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.killpg(0, signal.SIGKILL)  # this worker and whatever the user's code started

    threading.Thread(target=watch, name="netviz-parent-watch", daemon=True).start()


def _limit_memory(megabytes: int) -> None:
    """Cap the data segment so a runaway allocation fails with MemoryError instead of swapping."""
    limit = megabytes * 1024 * 1024
    os.environ["NETVIZ_MEMORY_LIMIT_MB"] = str(megabytes)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


if __name__ == "__main__":
    sys.exit(main())
