"""Faults in user code that must only ever cost a worker: leftovers, floods, memory, kills, recursion.

Each test would fail if its defence were removed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from netviz_lsp.engine import Engine
from netviz_lsp.settings import Settings
from netviz_lsp.worker.pool import BuildPool

HEADER = "import keras\n\n\n"
SMALL_MODEL = "keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])"


@pytest.fixture(scope="module")
def output():
    return []


@pytest.fixture(scope="module")
def pool(output):
    pool = BuildPool(memory_mb=3000, on_output=output.append)
    yield pool
    pool.close()


def build(pool, tmp_path: Path, body: str, name: str = "case.py", **build_settings):
    """Build ``body`` (after ``HEADER``) as ``name``; a fresh engine each time, so nothing is cached."""
    path = tmp_path / name
    path.write_text(HEADER + body)
    return Engine(pool).build(str(path), path.read_text(), Settings.from_json({"build": build_settings}))


def eventually(predicate, what: str, timeout: float = 120.0):
    """Poll ``predicate`` until it is true; fail loudly after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def in_thread(action) -> tuple[threading.Thread, list]:
    """Run ``action`` on a thread; the list receives what it raised, so the test can fail on it."""
    failures: list = []

    def run():
        try:
            action()
        except BaseException as error:  # reported by the test that joins the thread
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failures


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except OSError:
        return False


def my_live_workers() -> set[int]:
    """Worker processes of this test process that are still running."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"netviz_lsp.worker" in (entry / "cmdline").read_bytes() and alive(int(entry.name)) and \
                        int((entry / "stat").read_text().split(")")[1].split()[1]) == os.getpid():
                    found.add(int(entry.name))
            except (OSError, ValueError):
                pass
    return found


def test_threads_and_children_that_outlive_the_build_go_with_their_worker(pool, tmp_path):
    pid_file = tmp_path / "child.pid"
    assert build(pool, tmp_path, f"def fine():\n    return {SMALL_MODEL}\n", "fine.py").models
    worker_before = pool.worker_pids()[0]
    result = build(pool, tmp_path, f"""
import subprocess, threading, time

def spawner():  # netviz: preview (a factory that runs a command is only built when marked)
    child = subprocess.Popen(["sleep", "300"])
    open({str(pid_file)!r}, "w").write(str(child.pid))
    threading.Thread(target=time.sleep, args=(300,), daemon=True).start()
    return {SMALL_MODEL}
""")
    assert result.errors == [] and result.model("spawner").total_params == 15
    child = int(pid_file.read_text())
    eventually(lambda: not alive(child), "the build's child process to die with its worker", timeout=10)
    # The next build runs on a fresh worker.
    assert build(pool, tmp_path, f"def fine():\n    return {SMALL_MODEL}\n", "fine.py").models
    assert pool.worker_pids()[0] != worker_before


def test_a_flood_of_output_is_capped_and_the_build_succeeds(pool, output, tmp_path):
    output.clear()
    result = build(pool, tmp_path, f"""
import os, sys

def chatty():
    for _ in range(100):
        sys.stdout.write("x" * (1024 * 1024) + "\\n")
    os.write(1, b"y" * (1024 * 1024))
    return {SMALL_MODEL}
""")
    assert result.errors == [] and result.model("chatty").total_params == 15
    forwarded = "".join(output)
    assert len(forwarded) < 3 * 1024 * 1024  # 100 MB printed; a few lines forwarded
    assert "further output of this build not shown" in forwarded


def test_memory_beyond_the_limit_is_a_memory_error_at_its_line(pool, tmp_path):
    result = build(pool, tmp_path, """
def greedy() -> keras.Model:
    chunks = []
    while True:
        chunks.append(bytearray(100 * 1024 * 1024))
""")
    (error,) = result.errors
    assert (error.kind, error.line) == ("memory", 8)
    assert "3000 MB" in error.message
    assert build(pool, tmp_path, f"def fine():\n    return {SMALL_MODEL}\n", "fine.py").models


def test_a_worker_killed_from_outside_mid_build_is_a_crash_then_recovers(pool, tmp_path):
    sleeping = tmp_path / "sleeping"

    def kill_once_sleeping():
        eventually(sleeping.exists, "the factory to start sleeping")
        os.kill(pool.worker_pids()[0], signal.SIGKILL)

    killer, failures = in_thread(kill_once_sleeping)
    result = build(pool, tmp_path, "import time\n\n\ndef sleepy() -> keras.Model:\n"
                                   f"    open({str(sleeping)!r}, 'w').close(); time.sleep(60)\n")
    killer.join(10)
    assert failures == [] and not killer.is_alive()
    (error,) = result.errors
    assert error.kind == "crash" and "SIGKILL" in error.message and error.line == 7
    assert build(pool, tmp_path, f"def fine():\n    return {SMALL_MODEL}\n", "fine.py").models


def test_recursion_that_never_ends_is_a_build_error(pool, tmp_path):
    result = build(pool, tmp_path, "def deeper(n):\n    return deeper(n + 1)\n\n\n"
                                   "def recursive() -> keras.Model:\n    return deeper(0)\n")
    (error,) = result.errors
    assert error.kind == "build" and "RecursionError" in error.message and error.line == 5


def test_a_workspace_keras_module_does_not_shadow_keras(pool, tmp_path):
    (tmp_path / "keras.py").write_text("raise ImportError('this is the workspace keras.py')\n")
    result = build(pool, tmp_path, f"def fine():\n    return {SMALL_MODEL}\n", "uses_keras.py")
    assert result.errors == [] and result.model("fine").total_params == 15


def test_two_hundred_factories_all_build(pool, tmp_path):
    body = "".join(f"def model_{i}():\n    return keras.Sequential([keras.Input((4,)), "
                   f"keras.layers.Dense({i + 1})])\n\n\n" for i in range(200))
    result = build(pool, tmp_path, body, "many.py")
    assert result.errors == [] and len(result.models) == 200
    assert result.model("model_199").total_params == 4 * 200 + 200


def test_sys_exit_in_a_factory_is_a_crash_value_and_the_next_factory_builds(pool, tmp_path):
    result = build(pool, tmp_path, f"""
import sys

def quits() -> keras.Model:
    sys.exit(4)


def after():
    return {SMALL_MODEL}
""")
    (error,) = result.errors
    assert (error.kind, error.factory, error.line) == ("crash", "quits", 8)
    assert "sys.exit(4)" in error.message
    assert result.model("after").total_params == 15


def test_restarting_mid_build_ends_the_build_as_a_crash_and_leaks_no_worker(tmp_path):
    pool = BuildPool(spare=True)
    try:
        path = tmp_path / "slow.py"
        sleeping = tmp_path / "sleeping"
        path.write_text(HEADER + "import time\n\n\ndef slow() -> keras.Model:\n"
                        f"    open({str(sleeping)!r}, 'w').close(); time.sleep(60)\n")
        assert build(pool, tmp_path, f"def fine():\n    return {SMALL_MODEL}\n", "fine.py").models
        before = set(pool.worker_pids())
        others = my_live_workers() - before  # the module's own pool, if it runs

        def restart_once_sleeping():
            eventually(sleeping.exists, "the factory to start sleeping")
            pool.restart()

        restarter, failures = in_thread(restart_once_sleeping)
        result = Engine(pool).build(str(path), path.read_text(), Settings())
        (error,) = result.errors
        assert error.kind == "crash" and error.factory == "slow"
        restarter.join(120)  # the restart has replaced the workers
        assert failures == [] and not restarter.is_alive()
        after = pool.worker_pids()
        assert len(after) == 1 and not (set(after) & before)
        assert my_live_workers() - others == set(after)  # nothing the interrupted build started survives
        assert all(not alive(pid) for pid in before)
        assert build(pool, tmp_path, f"def fine():\n    return {SMALL_MODEL}\n", "fine.py").models
    finally:
        pool.close()
