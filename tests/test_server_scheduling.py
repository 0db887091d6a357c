"""The server's scheduling, publishing and commands over stdio, with a fake engine (no TensorFlow).

The real language server runs as ``python tests/fake_engine.py``: everything is real but the
engine, whose builds are scripted by directives in the file text (``tests/fake_engine.py``)
and logged, one JSON line per call, so a test can tell which texts were built.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from test_server_lsp import Doc, eventually, make_client

ROOT = Path(__file__).resolve().parent.parent
LOG = Path(__file__).resolve().parent / ".fake-engine.log"  # per session; truncated at start
MODEL = (
    "import keras\n"
    "\n"
    "\n"
    "def build_model():\n"
    "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])\n"
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fake-workspace")


def _log_path() -> Path:
    LOG.write_text("")
    return LOG


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, str(ROOT / "tests" / "fake_engine.py")],
                              client_factory=make_client, server_env={"NETVIZ_FAKE_LOG": str(_log_path())}),
)
async def client(lsp_client: LanguageClient, workspace: Path):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True)),
        root_uri=workspace.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="workspace")],
    ))
    yield
    await lsp_client.shutdown_session()


def calls(op: str, path: Path | None = None) -> list[dict]:
    entries = [json.loads(line) for line in LOG.read_text().splitlines() if line.strip()]
    return [e for e in entries if e["op"] == op and (path is None or e.get("path") == str(path))]


def open_file(client: LanguageClient, workspace: Path, name: str, text: str) -> Doc:
    path = workspace / name
    path.write_text(text)
    return Doc(client, path)


async def test_an_open_file_gets_its_diagram_from_the_engine(client: LanguageClient, workspace: Path):
    doc = open_file(client, workspace, "plain.py", MODEL + "# fake-params: 7\n")
    diagram = await doc.diagram(version=1)
    (model,) = diagram["models"]
    assert model["factory"] == "build_model"
    assert model["graph"]["total_params"] == 7
    assert 'data-fake="build_model"' in model["svg"]
    await eventually(lambda: any(s["state"] == "done" for s in doc.statuses()), "a done status")
    hover = await doc.hover(doc.line_of("keras.Sequential"))
    assert hover is not None and "Dense" in hover


async def test_edits_during_a_slow_build_publish_only_the_latest_version(client: LanguageClient, workspace: Path):
    doc = open_file(client, workspace, "slow.py", MODEL + "# fake-sleep: 1.5\n# fake-params: 1\n")
    await eventually(lambda: calls("build", doc.path), "the first build to start")
    for params in (2, 3, 4):  # while version 1 builds: three saves
        doc.replace(MODEL + f"# fake-sleep: 0.2\n# fake-params: {params}\n")
        doc.save()
    final = await doc.diagram(version=doc.version)
    assert final["models"][0]["graph"]["total_params"] == 4
    assert [d["version"] for d in doc.diagrams()] == [doc.version], "an older version's diagram was shown"
    built = [c["text"] for c in calls("build", doc.path)]
    assert "# fake-params: 2" not in "".join(built) and "# fake-params: 3" not in "".join(built), \
        "superseded saves were built instead of skipped"


async def test_a_build_error_is_a_diagnostic_at_its_line_owned_by_the_target(client: LanguageClient, workspace: Path):
    doc = open_file(client, workspace, "failing.py", MODEL + "# fake-fail: the layer does not fit\n")
    diagram = await doc.diagram(version=1)
    (error,) = diagram["errors"]
    assert (error["factory"], error["kind"], error["line"]) == ("build_model", "build", 6)
    diagnostics = await eventually(doc.diagnostics, "diagnostics")
    assert [(d.range.start.line, d.message) for d in diagnostics if "does not fit" in d.message][0][0] == 5


async def test_an_engine_failure_is_a_crash_error_and_the_server_keeps_serving(client: LanguageClient,
                                                                               workspace: Path):
    doc = open_file(client, workspace, "raising.py", MODEL + "# fake-raise\n")
    diagram = await doc.diagram(version=1)
    (error,) = diagram["errors"]
    assert error["kind"] == "crash" and "NetViz failed internally: RuntimeError" in error["message"]
    await eventually(lambda: [s["state"] for s in doc.statuses()][-1] == "failed", "status failed")
    doc.replace(MODEL + "# fake-params: 5\n")
    doc.save()
    diagram = await doc.diagram(version=doc.version)
    assert diagram["models"][0]["graph"]["total_params"] == 5


async def test_commands_export_list_and_rebuild_go_through_the_engine(client: LanguageClient, workspace: Path):
    doc = open_file(client, workspace, "commands.py", MODEL + "# fake-params: 9\n")
    await doc.diagram(version=1)
    (info,) = await doc.command("netviz.listFactories", {"uri": doc.uri})
    assert (info["name"], info["built"], info["totalParams"]) == ("build_model", True, 9)
    target = workspace / "out" / "model.svg"
    written = await doc.command("netviz.export", {"uri": doc.uri, "factory": "build_model", "format": "svg",
                                                  "path": str(target)})
    assert written == str(target) and 'data-fake="build_model"' in target.read_text()
    with pytest.raises(Exception, match="exists"):
        await doc.command("netviz.export", {"uri": doc.uri, "factory": "build_model", "format": "svg",
                                            "path": str(target)})
    before = len(calls("build", doc.path))
    await doc.command("netviz.rebuild", {"uri": doc.uri})
    await eventually(lambda: len(calls("build", doc.path)) > before, "the rebuild")
    assert calls("forget") and calls("forget")[-1]["path"] == str(doc.path)


# -- preview as you type, and stopping a superseded long build (issue 14) ----------------------

async def typed_barrier(client: LanguageClient, workspace: Path) -> None:
    """Wait until every as-you-type timer started before now has fired and its build reported.

    A typed edit of another open file starts a timer of the same delay after them, so it fires
    after them; its build is queued behind theirs (one build at a time, oldest first), so its
    diagram comes after their diagrams."""
    barrier = _barrier.get(id(client))
    if barrier is None:
        barrier = _barrier[id(client)] = open_file(client, workspace, "typed_barrier.py", MODEL)
        await barrier.diagram(version=1)
    barrier.replace(barrier.text + f"# barrier {barrier.version}\n")
    await barrier.diagram(version=barrier.version)


_barrier: dict[int, Doc] = {}


async def test_typing_builds_the_unsaved_text_and_its_diagram_follows(client: LanguageClient, workspace: Path):
    doc = open_file(client, workspace, "typed.py", MODEL + "# fake-params: 2\n")
    await doc.diagram(version=1)
    doc.replace(MODEL + "# fake-params: 6\n")  # no save
    typed = await doc.diagram(version=doc.version)
    assert typed["models"][0]["graph"]["total_params"] == 6
    assert calls("build", doc.path)[-1]["text"] == doc.text
    hover = await doc.hover(doc.line_of("keras.Sequential"))
    assert hover is not None and "Dense" in hover


async def test_typing_a_buffer_that_does_not_parse_builds_nothing_until_save(client: LanguageClient,
                                                                             workspace: Path):
    doc = open_file(client, workspace, "typed_broken.py", MODEL + "# fake-params: 2\n")
    await doc.diagram(version=1)
    mark, builds = len(client.netviz_diagrams), len(calls("build", doc.path))
    doc.replace(MODEL.replace("keras.layers.Dense(3)])", "keras.layers.Dense(3)") + "# fake-params: 2\n")
    await typed_barrier(client, workspace)
    assert len(calls("build", doc.path)) == builds and doc.diagrams(mark) == []
    assert not [d for d in doc.diagnostics() if d.code == "syntax"]
    doc.save()
    await eventually(lambda: [d for d in doc.diagnostics() if d.code == "syntax"], "the syntax error, on save")


async def test_a_long_superseded_build_is_cancelled_and_the_new_text_builds(client: LanguageClient,
                                                                           workspace: Path):
    doc = open_file(client, workspace, "long.py", MODEL + "# fake-sleep: 600\n# fake-params: 1\n")
    await eventually(lambda: calls("build", doc.path), "the long build to start")
    doc.replace(MODEL + "# fake-params: 8\n")
    fresh = await doc.diagram(version=doc.version)
    assert fresh["models"][0]["graph"]["total_params"] == 8
    assert calls("cancel")
    assert any("Stopped the build of long.py" in m.message for m in client.log_messages)
    assert [d["version"] for d in doc.diagrams()] == [doc.version]  # the cancelled one was never shown


async def test_patience_is_the_file_s_usual_build_time_and_at_least_a_second():
    from netviz_lsp.server.app import CANCEL_AFTER_S, patience

    assert patience(None) == CANCEL_AFTER_S == 1.0
    assert patience(0.09) == 1.0  # a CNN's build: dropping it is cheaper than a restart
    assert patience(1.8) == 1.8  # NASNetLarge: stopped once it has run as long as it usually takes


async def test_the_scheduler_asks_to_cancel_only_a_running_build_that_a_newer_request_superseded():
    import threading

    from netviz_lsp.server.scheduler import BuildScheduler

    release, started, asked = threading.Event(), threading.Event(), []

    def run(job):
        if job.payload == "slow":
            started.set()
            release.wait(30)

    def cancel(job):
        asked.append(job.payload)
        release.set()
        return None

    scheduler = BuildScheduler(run, cancel=cancel)
    scheduler.submit("file:///a.py", payload="slow")
    assert started.wait(30)
    scheduler.submit("file:///b.py", payload="other file")  # not a newer text of a.py: no question
    scheduler.submit("file:///a.py", payload="newer")
    assert scheduler.wait_idle(30)
    assert asked == ["slow"]
    scheduler.close()
