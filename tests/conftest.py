"""What every test module shares: how a test says it needs a program from outside Python.

A test that needs Graphviz's ``dot``, ``rsvg-convert`` or Chromium is marked::

    pytestmark = pytest.mark.needs_tool("dot", reason="Graphviz dot is not installed")
    @pytest.mark.needs_tool("rsvg-convert", module="cairosvg", reason="no SVG converter")

and is run when the program is on PATH (or, given ``module``, when that module can be
imported instead). Otherwise it is skipped with the reason, which ``-rs`` prints in the
summary, except under ``CI=true``, where a missing tool fails the test: a CI machine
that lacks one was set up wrong, and skipping would hide it. ``missing_tool`` is the
one place that decides, for the marker and for any test that finds out by itself.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

MARKER = "needs_tool"


def missing_tool(reason: str) -> None:
    """A program this test needs is missing: skip with ``reason``, or fail when ``CI=true``."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a missing tool fails the run instead of skipping)", pytrace=False)
    pytest.skip(reason)


def tool_available(program: str, module: str | None = None) -> bool:
    """``program`` is on PATH, or ``module`` (when given) can be imported in its place."""
    if shutil.which(program) is not None:
        return True
    return module is not None and importlib.util.find_spec(module) is not None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(program, module=None, reason=None): the test needs `program` on PATH (or `module` "
        "importable); skipped without it, failed without it under CI=true")


@pytest.hookimpl(tryfirst=True)  # before skipif, so CI fails a missing tool even where a skipif also holds
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers(MARKER):
        program = mark.args[0]
        module = mark.kwargs.get("module")
        if not tool_available(program, module):
            missing_tool(mark.kwargs.get("reason") or f"{program} is not installed")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    """An empty HOME for the module's worker, so anything it writes under ``~/.keras`` shows."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def home_pool(home):
    """A started worker pool whose workers see ``home`` as HOME and no KERAS_HOME of the user's."""
    from netviz_lsp.worker.pool import BuildPool

    patch = pytest.MonkeyPatch()
    patch.setenv("HOME", str(home))
    patch.delenv("KERAS_HOME", raising=False)
    pool = BuildPool()
    pool.start()
    yield pool
    pool.close()
    patch.undo()


@pytest.fixture(scope="module")
def pool():
    """A worker pool of the test process's own environment, for the module's builds."""
    from netviz_lsp.worker.pool import BuildPool

    pool = BuildPool()
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def engine(home_pool):
    """The engine on a worker whose HOME is empty (``home_pool``), as the real-build tests use it."""
    from netviz_lsp.engine import Engine

    return Engine(home_pool)
