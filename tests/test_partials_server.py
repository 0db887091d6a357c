"""The real server, over stdio, on a model that stops building: netviz/diagram carries its partial graph drawn.

editor-client/test/fixtures/mismatched_add.py (the file the panel's fixtures are recorded from)
is opened as it is (its Add receives (None, 8) and (None, 9)), then fixed and saved, then
broken again under other render settings. The real worker builds it; the real dot draws it.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_server_lsp import SERVER, Doc, eventually, start_session

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "editor-client" / "test" / "fixtures" / "mismatched_add.py"
SVG = "{http://www.w3.org/2000/svg}"

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.needs_tool("dot", reason="Graphviz dot is not installed")]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workspace")
    shutil.copy(SOURCE, folder / SOURCE.name)
    return folder


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient, workspace: Path):
    await start_session(lsp_client, workspace, capabilities=types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(configuration=True)), options={"build": {"onType": False}, "render": {"rankdir": "TB"}})
    yield
    await lsp_client.shutdown_session()


def classes(svg_text: str) -> dict[str, str]:
    svg = ET.fromstring(svg_text)
    return {g.get("id"): g.get("class") for g in svg.iter(f"{SVG}g") if g.get("id")}


async def test_a_failed_build_sends_its_partial_graph_drawn_and_a_fixed_one_none(client: LanguageClient, workspace: Path):
    doc = Doc(client, workspace / SOURCE.name)
    failed = await doc.diagram()
    assert failed["models"] == []
    [error] = failed["errors"]
    assert (error["factory"], error["line"]) == ("build_classifier", 21)
    assert [(layer["id"], layer["failed"]) for layer in error["graph"]["layers"]] == [
        ("features", False), ("hidden", False), ("skip", False), ("merge", True)]
    [partial] = failed["partials"]
    assert partial["factory"] == "build_classifier"
    drawn = classes(partial["svg"])
    assert drawn["merge"] == "node layer layer-merge layer-failed"
    assert drawn["skip"] == "node layer layer-dense"
    note = next(g for g in ET.fromstring(partial["svg"]).iter(f"{SVG}g") if g.get("class") == "node failure-note")
    assert "Received shapes (8,) and (9,)" in " ".join(t.text or "" for t in note.iter(f"{SVG}text"))

    # Fixed and saved: the model builds, and nothing partial is sent.
    seen = len(doc.diagrams())
    doc.replace(doc.text.replace("SKIP_UNITS = 9 ", "SKIP_UNITS = 8 "))
    doc.save()
    fixed = await doc.diagram(since=seen, version=doc.version)
    assert [m["factory"] for m in fixed["models"]] == ["build_classifier"]
    assert fixed["partials"] == [] and fixed["errors"] == []

    # Broken again, then drawn left to right: the partial is drawn again with the new settings.
    seen = len(doc.diagrams())
    doc.replace(doc.text.replace("SKIP_UNITS = 8 ", "SKIP_UNITS = 9 "))
    doc.save()
    again = await doc.diagram(since=seen, version=doc.version)
    top_to_bottom = again["partials"][0]["svg"]
    await eventually(lambda: doc.statuses()[-1]["state"] == "failed", "the broken build to finish")
    seen = len(doc.diagrams())
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"netviz": {"build": {"onType": False}, "render": {"rankdir": "LR"}}}))
    redrawn = await doc.diagram(since=seen, version=doc.version)
    [partial] = redrawn["partials"]
    assert partial["svg"] != top_to_bottom
    assert classes(partial["svg"])["merge"] == "node layer layer-merge layer-failed"
    assert redrawn["errors"][0]["graph"] == again["errors"][0]["graph"], "the same build, drawn again"
