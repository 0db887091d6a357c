"""The NetViz language server over stdio, driven by pytest-lsp as an editor would drive it.

One server (real TensorFlow worker, build timeout 3 s) serves the whole module; each test
works on its own copy of a fixture file in a temporary workspace, so tests may edit,
break and fix files freely. Notifications are recorded as they arrive and waited for by
predicate, so no test depends on registering a waiter before the action.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "server"
TIMEOUT = 120.0
TIMEOUT_SECONDS = 3

pytestmark = pytest.mark.asyncio(loop_scope="module")


# -- the client ------------------------------------------------------------------------------

def plain(value: Any) -> Any:
    """Notification params arrive as namedtuples; tests read dicts."""
    if hasattr(value, "_asdict"):
        value = value._asdict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def make_client() -> LanguageClient:
    """pytest-lsp's client, also recording every netviz/* notification and diagnostics publish."""
    client = LanguageClient(converter_factory=default_converter)
    client.netviz_diagrams, client.netviz_statuses, client.published = [], [], []

    def publish_diagnostics(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        ls.diagnostics[params.uri] = params.diagnostics
        ls.published.append(params)

    def log_message(ls: LanguageClient, params: types.LogMessageParams) -> None:
        # pytest-lsp's report section knows LSP 3.17's four levels; a 3.18 Debug line (type 5)
        # makes its makereport raise IndexError and abort the session, so it is kept as a Log line.
        if params.type.value > types.MessageType.Log.value:
            params = types.LogMessageParams(type=types.MessageType.Log, message=params.message)
        ls.log_messages.append(params)

    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish_diagnostics
    features[types.WINDOW_LOG_MESSAGE] = log_message
    register_lsp_features(client, features)

    @client.feature("netviz/diagram")
    def on_diagram(ls: LanguageClient, params: Any) -> None:
        ls.netviz_diagrams.append(plain(params))

    @client.feature("netviz/buildStatus")
    def on_status(ls: LanguageClient, params: Any) -> None:
        ls.netviz_statuses.append(plain(params))

    return client


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "netviz_lsp"], client_factory=make_client)
"""The real server over stdio, with the recording client."""


async def start_session(client: LanguageClient, folder: Path, *, name: str = "workspace",
                        capabilities: types.ClientCapabilities | None = None,
                        options: dict[str, Any] | None = None) -> types.InitializeResult:
    """``initialize`` + ``initialized`` for a one-folder workspace, as an editor opens one."""
    return await client.initialize_session(types.InitializeParams(
        capabilities=capabilities or types.ClientCapabilities(),
        root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=name)],
        initialization_options=options,
    ))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workspace")
    for source in FIXTURES.glob("*.py"):
        shutil.copy(source, folder / source.name)
    for example in ("seed_cnns.py", "nested.py"):
        shutil.copy(ROOT / "examples" / example, folder / example)
    return folder


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient, workspace: Path):
    await start_session(lsp_client, workspace, capabilities=types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True),
            workspace=types.WorkspaceClientCapabilities(configuration=True),
        ), options={"build": {"timeoutSeconds": TIMEOUT_SECONDS}})
    yield
    await lsp_client.shutdown_session()


# -- helpers ---------------------------------------------------------------------------------

class Doc:
    """A document the test client has open, with its text and version."""

    def __init__(self, client: LanguageClient, path: Path):
        self.client, self.path, self.uri = client, path, path.as_uri()
        self.text, self.version = path.read_text(), 1
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=self.uri, language_id="python", version=1, text=self.text)))

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def line_of(self, needle: str) -> int:
        """0-based line of the first line containing ``needle``."""
        return next(i for i, line in enumerate(self.lines) if needle in line)

    def replace(self, text: str) -> None:
        """A full-text didChange, no save."""
        self.text, self.version = text, self.version + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def insert(self, line: int, text: str) -> None:
        """An incremental didChange inserting ``text`` at the start of ``line``, no save."""
        lines = self.lines
        self.text = "\n".join(lines[:line]) + ("\n" if line else "") + text + "\n".join(lines[line:])
        self.version += 1
        at = types.Position(line=line, character=0)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text=text)]))

    def save(self, write: bool = True) -> None:
        if write:
            self.path.write_text(self.text)
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri)))

    def diagrams(self, since: int = 0) -> list[dict]:
        return [d for d in self.client.netviz_diagrams[since:] if d["uri"] == self.uri]

    def statuses(self, since: int = 0) -> list[dict]:
        return [s for s in self.client.netviz_statuses[since:] if s["uri"] == self.uri]

    def diagnostics(self) -> list[types.Diagnostic]:
        return list(self.client.diagnostics.get(self.uri, []))

    async def diagram(self, since: int = 0, version: int | None = None) -> dict:
        """The first diagram after index ``since`` (for ``version``, when given)."""
        def found():
            return next((d for d in self.diagrams(since) if version is None or d["version"] == version), None)
        return await eventually(found, f"a diagram of {self.path.name}")

    async def hover(self, line: int) -> str | None:
        answer = await self.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri), position=types.Position(line=line, character=4)))
        return answer.contents.value if answer else None

    async def inlay_hints(self) -> list[types.InlayHint]:
        end = types.Position(line=len(self.lines), character=0)
        hints = await self.client.text_document_inlay_hint_async(types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri),
            range=types.Range(start=types.Position(line=0, character=0), end=end)))
        return hints or []

    async def code_lenses(self) -> list[types.CodeLens]:
        lenses = await self.client.text_document_code_lens_async(types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri)))
        return lenses or []

    async def command(self, name: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments)))


async def eventually(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll ``predicate`` until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


async def until(fetch: Callable[[], Any], check: Callable[[Any], bool], what: str, timeout: float = 20.0) -> Any:
    """Ask the server (``await fetch()``) until its answer passes ``check``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await fetch()
        if check(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last answer {value!r}")
        await asyncio.sleep(0.05)


_open: dict[tuple[int, str], Doc] = {}


def open_copy(client: LanguageClient, workspace: Path, name: str, source: str | None = None) -> Doc:
    """Open the workspace's ``name`` (copied from ``source`` first, if given), once per server."""
    key = (id(client), name)
    if key not in _open:
        if source is not None:
            shutil.copy(workspace / source, workspace / name)
        _open[key] = Doc(client, workspace / name)
    return _open[key]


def model(diagram: dict, factory: str) -> dict:
    return next(m for m in diagram["models"] if m["factory"] == factory)


def settings(**overrides: Any) -> dict:
    """The whole settings object this module's server runs with, plus ``overrides`` sections."""
    value: dict[str, Any] = {"build": {"timeoutSeconds": TIMEOUT_SECONDS}}
    value.update(overrides)
    return value


def finished(statuses: list[dict]) -> bool:
    return any(s["state"] in ("done", "failed") for s in statuses)


BARRIER = "import keras\n\n\ndef barrier():\n    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
_barriers: dict[int, list] = {}


async def settled(client: LanguageClient, workspace: Path) -> None:
    """Wait until every build asked for so far, by the editor or by the disk, has reported.

    Waits on the server's own order, not on time. First the watcher: an outside edit of an
    open barrier file is seen after every disk event before it (one folder, one watch, in
    order), and its build status says the debounced batch holding them was handled. Then
    the queue: ``netviz.rebuild`` of the barrier file goes behind every job already queued
    (one build at a time, oldest file first, each published on the event loop before the
    next starts), so its status comes after theirs.
    """
    if id(client) not in _barriers:
        (workspace / "settle_barrier.py").write_text(BARRIER)
        barrier = open_copy(client, workspace, "settle_barrier.py")
        await eventually(lambda: finished(barrier.statuses()), "the barrier file's first build")
        _barriers[id(client)] = [barrier, 0]
    entry = _barriers[id(client)]
    barrier, entry[1] = entry[0], entry[1] + 1
    mark = len(client.netviz_statuses)
    barrier.path.write_text(f"{barrier.text}# settled {entry[1]}\n")  # an outside edit: the editor keeps its text
    await eventually(lambda: finished(barrier.statuses(mark)), "the watcher to catch up (the barrier's disk build)")
    mark = len(client.netviz_statuses)
    await barrier.command("netviz.rebuild", {"uri": barrier.uri})
    await eventually(lambda: finished(barrier.statuses(mark)), "the build queue to drain (the barrier's rebuild)")


def progress_tokens(client: LanguageClient, name: str) -> set:
    """The work-done progress tokens of builds of the file ``name``."""
    return {token for token, reports in client.progress_reports.items()
            if any(name in (getattr(r, "title", None) or "") for r in reports)}


# -- tests -----------------------------------------------------------------------------------

async def test_open_and_save_send_the_diagram(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "seed_cnns.py")
    opened = await doc.diagram()
    graph = model(opened, "construct_model")
    assert opened["version"] == 1
    assert graph["graph"]["total_params"] == 63_021_004
    conv = graph["graph"]["layers"][0]
    assert (conv["id"], conv["class_name"], conv["output_shape"], conv["params"]) == \
        ("conv2d", "Conv2D", [None, 126, 126, 64], 640)
    assert conv["line"] == doc.line_of('layers.Conv2D(64, (3, 3), activation="relu"))') + 1
    assert '<g id="conv2d"' in graph["svg"]
    assert {m["factory"] for m in opened["models"]} == {"construct_model", "sconstruct_model", "cconstruct_model"}
    assert opened["errors"] == []

    mark = len(client.netviz_diagrams)
    doc.save()
    saved = await doc.diagram(since=mark)
    assert model(saved, "construct_model")["graph"]["total_params"] == 63_021_004
    await eventually(lambda: doc.statuses()[-1]["state"] == "done", "status done")

    # The first build after start-up said why it waited, in a progress bar and the status.
    await eventually(lambda: any("Starting TensorFlow" in (p.message or "") for reports in client.progress_reports.values()
                                 for p in reports if getattr(p, "kind", None) == "begin"), "a progress begin")
    assert any("Starting TensorFlow" in s["message"] for s in doc.statuses())
    await eventually(lambda: any(getattr(p, "kind", None) == "end" for reports in client.progress_reports.values()
                                 for p in reports), "a progress end")  # sent by its own task, maybe after the status


async def test_hover_on_a_layer_line_and_on_a_factory(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "seed_cnns.py")
    await eventually(lambda: doc.diagrams(), "the seed diagram")
    table = await doc.hover(doc.line_of('layers.Conv2D(64, (3, 3), activation="relu"))'))
    assert table is not None
    for expected in ("conv2d", "Conv2D", "(None, 126, 126, 64)", "640", "relu"):
        assert expected in table
    summary = await doc.hover(doc.line_of("def construct_model"))
    assert "63,021,004" in summary and "(None, 128, 128, 1)" in summary and "(None, 12)" in summary
    loop_line = await doc.hover(doc.line_of("model.add(layers.Conv2D(filters, kernel"))
    assert loop_line.count("Conv2D") == 4  # the loop made four layers on one line: all are shown
    assert await doc.hover(doc.line_of("NUM_CLASSES = 12")) is None


async def test_inlay_hints_and_switching_them_off(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "seed_cnns.py")
    await eventually(lambda: doc.diagrams(), "the seed diagram")
    line = doc.line_of('layers.Conv2D(64, (3, 3), activation="relu"))')
    hints = {h.position.line: h for h in await doc.inlay_hints()}
    first = hints[line]
    assert "(None, 126, 126, 64)" in first.label and "640" in first.label
    assert first.position.character == len(doc.lines[line])
    assert "4× Conv2D" in hints[doc.line_of("model.add(layers.Conv2D(filters, kernel")].label

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"netviz": settings(inlayHints={"enabled": False})}))
    await until(doc.inlay_hints, lambda hints: hints == [], "inlay hints to be switched off")

    # An empty notification makes the server pull workspace/configuration.
    client.set_configuration(settings(inlayHints={"enabled": True}), section="netviz")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    hints = await until(doc.inlay_hints, bool, "inlay hints to come back")
    assert any("(None, 126, 126, 64)" in h.label for h in hints)


async def test_render_settings_redraw_the_last_graphs_without_a_build(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "seed_cnns.py")
    before = model((await eventually(lambda: doc.diagrams(), "the seed diagram"))[-1], "construct_model")
    await eventually(lambda: doc.statuses()[-1]["state"] == "done", "the seed build to finish")
    marks = len(client.netviz_diagrams), len(client.netviz_statuses)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"netviz": settings(render={"rankdir": "LR", "showParams": False})}))
    redrawn = await doc.diagram(since=marks[0])
    after = model(redrawn, "construct_model")
    assert redrawn["version"] == doc.version
    assert after["graph"] == before["graph"] and after["svg"] != before["svg"]
    assert doc.statuses(marks[1]) == []  # no build ran

    mark = len(client.netviz_diagrams)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"netviz": settings()}))
    restored = await doc.diagram(since=mark)
    assert model(restored, "construct_model")["svg"] == before["svg"]


async def test_a_views_setting_redraws_so_the_panel_asks_again(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "seed_cnns.py")
    await eventually(lambda: doc.diagrams(), "the seed diagram")
    await eventually(lambda: doc.statuses() and doc.statuses()[-1]["state"] == "done", "the seed build to finish")
    ask = {"uri": doc.uri, "factory": "construct_model", "view": "layered"}
    before = await doc.command("netviz.renderView", ask)
    marks = len(client.netviz_diagrams), len(client.netviz_statuses)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"netviz": settings(render={"layered": {"spacing": 60}})}))
    redrawn = await doc.diagram(since=marks[0])  # a new diagram is what makes the panel ask for its view again
    assert redrawn["version"] == doc.version
    assert doc.statuses(marks[1]) == []  # no build ran
    spaced = await doc.command("netviz.renderView", ask)
    assert spaced["content"] != before["content"]

    mark = len(client.netviz_diagrams)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"netviz": settings()}))
    await doc.diagram(since=mark)
    assert (await doc.command("netviz.renderView", ask))["content"] == before["content"]


async def test_code_lens_titles(client: LanguageClient, workspace: Path):
    seed = open_copy(client, workspace, "seed_cnns.py")
    await eventually(lambda: seed.diagrams(), "the seed diagram")
    lenses = {lens.range.start.line: lens.command for lens in await seed.code_lenses()}
    lens = lenses[seed.line_of("def construct_model")]
    assert lens.title == "NetViz: preview · 63.0M params"
    assert (lens.command, list(lens.arguments)) == ("netviz.openPreview", [seed.uri, "construct_model"])

    doc = open_copy(client, workspace, "needs_args.py")
    await doc.diagram()
    titles = {lens.range.start.line: lens.command.title for lens in await doc.code_lenses()}
    assert titles[doc.line_of("def build_dense")] == "NetViz: needs arguments"
    assert titles[doc.line_of("def small")] == "NetViz: preview · 58 params"

    factories = {f["name"]: f for f in await doc.command("netviz.listFactories", {"uri": doc.uri})}
    assert factories["small"] == {"name": "small", "line": doc.line_of("def small") + 1, "args": "",
                                  "argsOrigin": "defaults", "missing": [], "built": True, "totalParams": 58}
    assert factories["build_dense"]["args"] is None and factories["build_dense"]["missing"] == ["units"]
    assert factories["build_dense"]["built"] is False
    assert await doc.command("netviz.listFactories", doc.uri) == list(factories.values())  # positional


async def test_diagnostics_appear_move_with_edits_and_clear(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "bad_optimizer.py")
    await doc.diagram()
    adam = doc.line_of("optimizer=keras.optimizers.Adam(lr=")
    diagnostic = await eventually(lambda: [d for d in doc.diagnostics() if d.code == "build"], "the diagnostic")
    assert [d.range.start.line for d in diagnostic] == [adam]
    assert "Argument(s) not recognized" in diagnostic[0].message
    assert diagnostic[0].source == "netviz" and diagnostic[0].severity == types.DiagnosticSeverity.Error
    lens = {lens.range.start.line: lens.command.title for lens in await doc.code_lenses()}
    assert lens[doc.line_of("def cconstruct_model")] == "NetViz: build failed"

    # Three lines typed above, not saved: the diagnostic follows its line.
    doc.insert(0, "# one\n# two\n# three\n")
    moved = await eventually(
        lambda: next((p for p in client.published if p.uri == doc.uri and p.version == doc.version), None),
        "diagnostics for the edited version")
    assert [d.range.start.line for d in moved.diagnostics] == [adam + 3]
    assert doc.lines[adam + 3].strip().startswith("optimizer=keras.optimizers.Adam(lr=")

    # The Adam line itself edited, not saved: its diagnostic is dropped, not left behind.
    doc.replace(doc.text.replace("Adam(lr=learningRate)", "Adam(lr=learningRate * 1)"))
    dropped = await eventually(
        lambda: next((p for p in client.published if p.uri == doc.uri and p.version == doc.version), None),
        "diagnostics after editing the bad line")
    assert list(dropped.diagnostics) == []

    mark = len(client.netviz_diagrams)
    doc.replace(doc.text.replace("Adam(lr=learningRate * 1)", "Adam(learning_rate=learningRate)"))
    doc.save()
    fixed = await doc.diagram(since=mark)
    assert fixed["errors"] == [] and model(fixed, "cconstruct_model")["graph"]["total_params"] > 0
    assert doc.diagnostics() == []


async def test_export_every_format_and_refuse_to_overwrite(client: LanguageClient, workspace: Path,
                                                           tmp_path: Path):
    doc = open_copy(client, workspace, "seed_cnns.py")
    await eventually(lambda: doc.diagrams(), "the seed diagram")
    magic = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"digraph"}
    for fmt in ("svg", "png", "pdf", "dot", "json"):
        target = tmp_path / f"construct.{fmt}"
        written = await doc.command("netviz.export", {"uri": doc.uri, "factory": "construct_model",
                                                      "format": fmt, "path": str(target)})
        assert written == str(target)
        data = target.read_bytes()
        if fmt == "json":
            assert json.loads(data)["total_params"] == 63_021_004
        else:
            assert magic[fmt] in data[:400], fmt
    assert 'id="conv2d"' in (tmp_path / "construct.svg").read_text()

    before = (tmp_path / "construct.json").read_bytes()
    with pytest.raises(Exception, match="exists"):
        await doc.command("netviz.export", doc.uri, "sconstruct_model", "json", str(tmp_path / "construct.json"))
    assert (tmp_path / "construct.json").read_bytes() == before
    await doc.command("netviz.export", {"uri": doc.uri, "factory": "sconstruct_model", "format": "json",
                                        "path": str(tmp_path / "construct.json"), "overwrite": True})
    assert json.loads((tmp_path / "construct.json").read_text())["total_params"] == 5_277_260

    # The other views export too.
    summary = await doc.command("netviz.export", {"uri": doc.uri, "factory": "construct_model",
                                                  "view": "summary", "format": "md",
                                                  "path": str(tmp_path / "construct.md")})
    assert "63,021,004" in Path(summary).read_text() and "9,144,576" in Path(summary).read_text()
    layered = await doc.command("netviz.export", {"uri": doc.uri, "factory": "construct_model",
                                                  "view": "layered", "format": "svg",
                                                  "path": str(tmp_path / "layered.svg")})
    assert 'id="conv2d"' in Path(layered).read_text()
    with pytest.raises(Exception, match="summary view exports md, html"):
        await doc.command("netviz.export", {"uri": doc.uri, "factory": "construct_model", "view": "summary",
                                            "format": "png", "path": str(tmp_path / "x.png")})


async def test_a_changed_helper_module_rebuilds_the_file(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "uses_blocks.py")
    first = await doc.diagram()
    assert model(first, "block_model")["graph"]["total_params"] == 16 * 32 + 32 + 32 * 4 + 4
    mark = len(client.netviz_diagrams)
    helper = workspace / "blocks.py"
    helper.write_text(helper.read_text().replace("WIDTH = 32", "WIDTH = 64"))  # not through the editor
    rebuilt = await doc.diagram(since=mark)
    assert model(rebuilt, "block_model")["graph"]["total_params"] == 16 * 64 + 64 + 64 * 4 + 4


async def test_a_killed_worker_is_a_crash_diagnostic_then_recovers(client: LanguageClient, workspace: Path):
    pid_file = workspace / "worker.pid"
    pid_file.unlink(missing_ok=True)
    doc = open_copy(client, workspace, "sleepy.py")
    pid = int(await eventually(lambda: pid_file.exists() and pid_file.read_text(), "the sleeping build"))
    os.kill(pid, signal.SIGKILL)
    crash = await eventually(lambda: [d for d in doc.diagnostics() if d.code == "crash"], "a crash diagnostic")
    assert crash[0].range.start.line == doc.line_of("def sleepy_model")
    assert "SIGKILL" in crash[0].message
    await eventually(lambda: doc.statuses()[-1]["state"] == "failed", "status failed")

    mark = len(client.netviz_diagrams)
    doc.replace(doc.text.replace("time.sleep(60)", "time.sleep(0)"))
    doc.save()
    recovered = await doc.diagram(since=mark)
    assert model(recovered, "sleepy_model")["graph"]["total_params"] == 10
    assert recovered["errors"] == [] and doc.diagnostics() == []


async def test_a_hang_times_out_at_the_hanging_line_then_recovers(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "hang.py")
    timeout = await eventually(lambda: [d for d in doc.diagnostics() if d.code == "timeout"], "a timeout diagnostic")
    assert timeout[0].range.start.line in (doc.line_of("while True:"), doc.line_of("pass"))
    assert f"within {TIMEOUT_SECONDS} s" in timeout[0].message

    mark = len(client.netviz_diagrams)
    doc.replace(doc.text.replace("    while True:\n        pass\n", ""))
    doc.save()
    recovered = await doc.diagram(since=mark)
    assert model(recovered, "hanging_model")["graph"]["total_params"] == 10
    assert doc.diagnostics() == []


async def test_a_burst_of_saves_builds_at_most_twice_and_the_last_wins(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "burst.py")
    await doc.diagram()
    await eventually(lambda: doc.statuses() and doc.statuses()[-1]["state"] == "done", "the first build")
    mark_diagrams, mark_status = len(client.netviz_diagrams), len(client.netviz_statuses)
    tokens_before = progress_tokens(client, doc.path.name)
    for units in range(11, 21):
        doc.replace(doc.text.replace(f"UNITS = {units - 1 if units > 11 else 8}", f"UNITS = {units}"))
        doc.save()
    last = await doc.diagram(since=mark_diagrams, version=doc.version)
    assert model(last, "burst_model")["graph"]["total_params"] == 10 * 20 + 20
    await settled(client, workspace)  # a straggler, if there were one, has shown itself now
    diagrams = doc.diagrams(mark_diagrams)
    assert all(d["version"] == doc.version for d in diagrams) and 1 <= len(diagrams) <= 2
    ended = [s for s in doc.statuses(mark_status) if s["state"] in ("done", "failed")]
    assert 1 <= len(ended) <= 2
    assert len(progress_tokens(client, doc.path.name) - tokens_before) <= 2


async def test_an_outside_edit_of_an_open_file_rebuilds_it(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "outside_edit.py", source="needs_args.py")
    await doc.diagram()
    mark = len(client.netviz_diagrams)
    changed = doc.text.replace("def small(units=8):", "def small(units=16):")
    doc.path.write_text(changed)  # git checkout, another tool: the editor reloads afterwards
    await eventually(lambda: doc.statuses() and "the editor has changed since" in doc.statuses()[-1]["message"],
                     "a build of the disk's text")
    assert doc.diagrams(mark) == []  # built from a text the editor does not show yet: held back
    doc.replace(changed)  # the editor reloads the file
    shown = await doc.diagram(since=mark)
    assert shown["version"] == doc.version
    assert model(shown, "small")["graph"]["total_params"] == 4 * 16 + 16 + 16 * 2 + 2


async def test_bad_input_and_printing_user_code_do_not_break_the_server(client: LanguageClient, workspace: Path):
    broken = open_copy(client, workspace, "broken_syntax.py")
    syntax = await eventually(lambda: [d for d in broken.diagnostics() if d.code == "syntax"], "a syntax diagnostic")
    assert syntax[0].range.start.line == broken.line_of("def broken(")
    assert await broken.hover(0) is None  # still answering

    not_python = workspace / "notes.py"
    not_python.write_bytes(b"\xff\xfe not utf-8 \x00\x00")
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=not_python.as_uri(), language_id="python", version=1, text="\x00 def (")))

    loud = open_copy(client, workspace, "loud.py")
    diagram = await loud.diagram()
    assert model(diagram, "loud_model")["graph"]["total_params"] == 3 * 6 + 6
    assert any("raw bytes on fd 1" in m.message or "top-level print" in m.message for m in client.log_messages)
    assert "Dense" in await loud.hover(loud.line_of("keras.layers.Dense(UNITS)"))
    assert await broken.command("netviz.rebuild", {"uri": broken.uri}) is not None


async def test_restart_worker_then_a_build_still_works(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "needs_args.py")
    await eventually(lambda: doc.diagrams(), "the first diagram")
    mark = len(client.netviz_diagrams)
    assert await doc.command("netviz.restartWorker") == "restarted"
    rebuilt = await doc.diagram(since=mark)
    assert model(rebuilt, "small")["graph"]["total_params"] == 58


# -- faults and bad input (issue 5) -----------------------------------------------------------

def worker_rss_mb(server_pid: int) -> int:
    """Resident memory of the server's largest worker process (the busy one; the other is a spare), in MB."""
    largest = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"netviz_lsp.worker" not in (entry / "cmdline").read_bytes():
                continue
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(status["PPid"]) == server_pid:
            largest = max(largest, int(status["VmRSS"].split()[0]) // 1024)
    return largest


async def test_a_hundred_saves_in_ten_seconds_do_not_pile_up(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "hundred.py", source="burst.py")
    await doc.diagram()
    await eventually(lambda: doc.statuses() and doc.statuses()[-1]["state"] == "done", "the first build")
    server_pid = next(p.pid for p in [client._server] if p is not None)
    rss_before = worker_rss_mb(server_pid)
    mark = len(client.netviz_diagrams)
    for units in range(100, 200):
        if units == 199:
            at_last_save = len(client.netviz_diagrams)
        doc.replace(re.sub(r"UNITS = \d+", f"UNITS = {units}", doc.text))
        doc.save()
        await asyncio.sleep(0.1)  # the behaviour under test: a save every 100 ms, as a user holding Ctrl+S
    last = await doc.diagram(since=mark, version=doc.version)
    assert model(last, "burst_model")["graph"]["total_params"] == 10 * 199 + 199
    await settled(client, workspace)  # every build of those saves has reported
    versions = [d["version"] for d in doc.diagrams(mark)]
    assert versions == sorted(set(versions)) and versions[-1] == doc.version  # never an older one after a newer
    # No backlog: after the last save, at most the build in flight and the last one report.
    assert len(doc.diagrams(at_last_save)) <= 2
    assert worker_rss_mb(server_pid) - rss_before < 100  # a hundred builds leave no trail


async def test_a_file_deleted_while_open_keeps_working_from_the_buffer(client: LanguageClient, workspace: Path):
    doc = open_copy(client, workspace, "deleted.py", source="burst.py")
    await doc.diagram()
    mark = len(client.netviz_diagrams)
    doc.path.unlink()
    await settled(client, workspace)  # the watcher has seen the deletion, and the server handled it
    assert await doc.hover(doc.line_of("def burst_model")) is not None  # still answering from memory
    doc.replace(re.sub(r"UNITS = \d+", "UNITS = 3", doc.text))
    doc.save(write=False)  # the editor's buffer, no file on disk
    shown = await doc.diagram(since=mark, version=doc.version)
    assert model(shown, "burst_model")["graph"]["total_params"] == 10 * 3 + 3


async def test_a_fifty_thousand_line_file_builds_and_other_files_keep_answering(client: LanguageClient,
                                                                             workspace: Path):
    seed = open_copy(client, workspace, "seed_cnns.py")
    await seed.diagram()
    path = workspace / "huge.py"
    filler = "".join(f"CONSTANT_{i} = {i}\n" for i in range(50_000))
    path.write_text("import keras\n\n" + filler + "\n\ndef huge():\n"
                    "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(CONSTANT_9)])\n")
    huge = open_copy(client, workspace, "huge.py")
    line = seed.line_of("model.add(layers.Conv2D(64")
    assert "(None, 126, 126, 64)" in (await seed.hover(line) or "")  # while huge.py is discovered
    diagram = await huge.diagram()
    assert model(diagram, "huge")["graph"]["total_params"] == 4 * 9 + 9
    assert model(diagram, "huge")["graph"]["layers"][0]["line"] == 50_006  # the return line


async def test_render_view_draws_the_panel_views_with_overrides(client: LanguageClient, workspace: Path):
    seed = open_copy(client, workspace, "seed_cnns.py")
    await seed.diagram()
    layered = await seed.command("netviz.renderView", {"uri": seed.uri, "factory": "construct_model",
                                                       "view": "layered"})
    assert (layered["factory"], layered["view"], layered["format"]) == ("construct_model", "layered", "svg")
    assert 'id="conv2d"' in layered["content"] and layered["totalMacs"] > 0
    summary = await seed.command("netviz.renderView", {"uri": seed.uri, "factory": "construct_model",
                                                       "view": "summary"})
    assert summary["format"] == "html" and "9,144,576" in summary["content"]
    assert summary["totalMacs"] == layered["totalMacs"]
    with pytest.raises(Exception, match="unknown view 'sideways'"):
        await seed.command("netviz.renderView", {"uri": seed.uri, "factory": "construct_model", "view": "sideways"})
    with pytest.raises(Exception, match="layered view draws in the panel svg, not 'png'"):
        await seed.command("netviz.renderView", {"uri": seed.uri, "factory": "construct_model",
                                                 "view": "layered", "format": "png"})
    with pytest.raises(Exception, match="no diagram of 'nope'"):
        await seed.command("netviz.renderView", {"uri": seed.uri, "factory": "nope", "view": "layered"})

    nested = open_copy(client, workspace, "nested.py")
    await nested.diagram()
    ask = {"uri": nested.uri, "factory": "siamese", "view": "graph"}
    collapsed = await nested.command("netviz.renderView", ask)
    expanded = await nested.command("netviz.renderView", {**ask, "expandNested": True})
    assert "cluster" not in collapsed["content"] and "cluster" in expanded["content"]
