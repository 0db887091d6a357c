"""Preview as you type, over stdio with the real worker (issue 14).

One server (real TensorFlow worker) serves the module, as ``test_server_lsp.py`` drives
one: the same client, the same ``Doc`` helper. Edits here are ``didChange`` without
``didSave`` unless a test saves. Whether an idle timer has fired is never waited for by
time: a typed edit of another open file (``typed_barrier``) starts a timer of the same
delay after the test's edit, and its build queues behind any build that edit asked for.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_server_lsp import SERVER, Doc, eventually, model, start_session

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "ontype"
SETTINGS = {"build": {"timeoutSeconds": 120}}
BARRIER = "import keras\n\n\ndef barrier():\n    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ontype")
    for source in FIXTURES.glob("*.py"):
        shutil.copy(source, folder / source.name)
    (folder / "typed_barrier.py").write_text(BARRIER)
    return folder


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient, workspace: Path):
    await start_session(lsp_client, workspace, capabilities=types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True),
            workspace=types.WorkspaceClientCapabilities(configuration=True),
        ), options=SETTINGS)
    yield
    await lsp_client.shutdown_session()


_docs: dict[tuple[int, str], Doc] = {}


def opened(client: LanguageClient, workspace: Path, name: str) -> Doc:
    key = (id(client), name)
    if key not in _docs:
        _docs[key] = Doc(client, workspace / name)
    return _docs[key]


async def typed_barrier(client: LanguageClient, workspace: Path) -> None:
    """Every idle timer started before now has fired, and the build it asked for has reported."""
    barrier = opened(client, workspace, "typed_barrier.py")
    await barrier.diagram(version=1)
    barrier.replace(barrier.text + f"# barrier {barrier.version}\n")
    await barrier.diagram(version=barrier.version)


def typed_builds(client: LanguageClient, name: str) -> list[str]:
    return [m.message for m in client.log_messages if m.message.startswith(f"Built {name} (typed, unsaved")]


def shape(diagram: dict, factory: str, layer: str) -> list:
    return next(l for l in model(diagram, factory)["graph"]["layers"] if l["id"] == layer)["output_shape"]


async def test_typing_redraws_and_hovers_hints_and_diagnostics_follow(client: LanguageClient, workspace: Path):
    doc = opened(client, workspace, "mnist_convnet.py")
    first = await doc.diagram(version=1)
    assert shape(first, "build_convnet", "conv2d_1") == [None, 11, 11, 64]

    doc.replace(doc.text.replace("layers.Conv2D(64,", "layers.Conv2D(48,"))  # typed, not saved
    typed = await doc.diagram(version=doc.version)
    assert shape(typed, "build_convnet", "conv2d_1") == [None, 11, 11, 48]
    assert typed_builds(client, "mnist_convnet.py")
    line = doc.line_of("layers.Conv2D(48,")
    assert "(None, 11, 11, 48)" in (await doc.hover(line) or "")
    hints = {h.position.line: h.label for h in await doc.inlay_hints()}
    assert "(None, 11, 11, 48)" in hints[line]

    # A typed mistake Keras rejects is a diagnostic at once, and typing the fix clears it.
    doc.replace(doc.text.replace('layers.Dropout(0.5),', 'layers.Dropout(0.5, rate=0.2),'))
    error = await eventually(lambda: [d for d in doc.diagnostics() if d.code == "build"], "the typed build's error")
    assert error[0].range.start.line == doc.line_of("layers.Dropout(0.5, rate=0.2)")
    doc.replace(doc.text.replace('layers.Dropout(0.5, rate=0.2),', 'layers.Dropout(0.5),'))
    fixed = await doc.diagram(version=doc.version)
    assert fixed["errors"] == [] and doc.diagnostics() == []


async def test_a_buffer_that_does_not_parse_keeps_the_last_diagram_until_save(client: LanguageClient,
                                                                             workspace: Path):
    doc = opened(client, workspace, "mnist_convnet.py")
    await eventually(lambda: doc.diagrams(), "a diagram of the convnet")
    good = doc.text
    mark, typed = len(client.netviz_diagrams), len(typed_builds(client, "mnist_convnet.py"))
    doc.replace(good.replace('layers.Dense(NUM_CLASSES, activation="softmax"),',
                             'layers.Dense(NUM_CLASSES, activation="softmax",'))  # mid-edit: no closing paren
    await typed_barrier(client, workspace)
    assert doc.diagrams(mark) == [], "a diagram was sent for a text that does not parse"
    assert len(typed_builds(client, "mnist_convnet.py")) == typed
    assert not [d for d in doc.diagnostics() if d.code == "syntax"], "a syntax error was published while typing"
    assert "Conv2D" in (await doc.hover(doc.line_of("layers.Conv2D(32,")) or "")  # the last graph still answers

    doc.save()
    syntax = await eventually(lambda: [d for d in doc.diagnostics() if d.code == "syntax"], "the syntax error, on save")
    assert syntax[0].range.start.line >= doc.line_of('layers.Dense(NUM_CLASSES, activation="softmax",')

    doc.replace(good)  # the closing parenthesis typed: built as typed, the error goes
    back = await doc.diagram(since=mark, version=doc.version)
    assert back["errors"] == []
    await eventually(lambda: not doc.diagnostics(), "the syntax error to clear")


async def test_a_long_build_superseded_by_an_edit_is_cancelled_and_its_worker_replaced(client: LanguageClient,
                                                                                      workspace: Path):
    (workspace / "feature_cache").mkdir()  # a preprocessing job that never finishes has started
    pid_file = workspace / "feature_cache" / "builder.pid"
    doc = opened(client, workspace, "shared_cache.py")  # its factory waits for that job's statistics
    old_pid = int(await eventually(lambda: pid_file.exists() and pid_file.read_text(), "the waiting build"))
    mark = len(client.netviz_diagrams)
    doc.replace(doc.text.replace("WAIT_FOR_CACHE = True", "WAIT_FOR_CACHE = False")
                .replace("NUM_FEATURES = 13", "NUM_FEATURES = 8"))

    fresh = await doc.diagram(since=mark, version=doc.version)
    assert model(fresh, "build_regressor")["graph"]["inputs"] == [[None, 8]]
    assert fresh["errors"] == []
    stopped = [m for m in client.log_messages if m.message.startswith("Stopped the build of shared_cache.py")]
    assert stopped and stopped[0].type == types.MessageType.Info
    assert not _alive(old_pid), "the superseded build's worker still runs"
    assert int(pid_file.read_text()) != old_pid  # the new text ran in another worker
    assert [d["version"] for d in doc.diagrams()] == [doc.version]  # nothing of the cancelled build was shown


async def test_with_on_type_off_nothing_builds_until_save(client: LanguageClient, workspace: Path):
    doc = opened(client, workspace, "mnist_convnet.py")
    await eventually(lambda: doc.diagrams(), "a diagram of the convnet")
    off = {"build": {**SETTINGS["build"], "onType": False, "onTypeDelayMs": 0}}
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"netviz": off}))
    await doc.hover(0)  # the settings are taken before this answer
    mark, typed = len(client.netviz_diagrams), len(typed_builds(client, "mnist_convnet.py"))
    doc.replace(doc.text.replace("layers.Conv2D(32,", "layers.Conv2D(16,"))
    await doc.hover(0)
    await doc.hover(0)  # a timer of 0 s, had one started, has fired by the second answer
    barrier = opened(client, workspace, "typed_barrier.py")
    rebuilt = len(client.netviz_diagrams)
    await barrier.command("netviz.rebuild", {"uri": barrier.uri})  # queued behind any build asked before
    await barrier.diagram(since=rebuilt)
    assert [d for d in doc.diagrams(mark) if d["version"] == doc.version] == []
    assert len(typed_builds(client, "mnist_convnet.py")) == typed

    doc.save()
    saved = await doc.diagram(since=mark, version=doc.version)
    assert shape(saved, "build_convnet", "conv2d") == [None, 26, 26, 16]
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"netviz": SETTINGS}))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
