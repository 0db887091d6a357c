"""``tests/conftest.py``: a missing outside program skips a test, and fails it under CI=true."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import missing_tool, tool_available

CONFTEST = Path(__file__).with_name("conftest.py")
ABSENT = "netviz-test-no-such-program"


def test_missing_tool_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Graphviz dot is not installed"):
        missing_tool("Graphviz dot is not installed")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        missing_tool("Graphviz dot is not installed")


def test_missing_tool_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"Graphviz dot is not installed \(CI=true"):
        missing_tool("Graphviz dot is not installed")


def test_a_tool_is_available_on_path_or_as_a_module():
    assert tool_available("sh")
    assert not tool_available(ABSENT)
    assert tool_available(ABSENT, module="json")  # the module stands in for the program
    assert not tool_available(ABSENT, module="netviz_test_no_such_module")


def run_marked_tests(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    """A fresh pytest run of two marked tests (one tool missing, one present) with this conftest."""
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_marked.py").write_text(
        "import pytest\n\n"
        f"@pytest.mark.needs_tool({ABSENT!r}, reason='the absent tool is not installed')\n"
        "def test_needs_the_absent_tool():\n"
        "    raise AssertionError('ran without its tool')\n\n"
        "@pytest.mark.needs_tool('sh')\n"
        "def test_needs_sh():\n"
        "    pass\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_the_marker_skips_with_its_reason_in_the_summary(tmp_path):
    done = run_marked_tests(tmp_path, ci=None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 skipped" in done.stdout
    assert "SKIPPED" in done.stdout and "the absent tool is not installed" in done.stdout


def test_the_marker_fails_the_run_under_ci(tmp_path):
    done = run_marked_tests(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed, 1 error" in done.stdout  # setup failed: the run fails
    assert "the absent tool is not installed (CI=true" in done.stdout
    assert "ran without its tool" not in done.stdout
