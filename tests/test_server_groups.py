"""Groups through the real server (pytest-lsp, real worker): ResNet50's diagram opens collapsed to
its stages, and ``netviz.renderView`` draws it with the groups the panel asks to expand, tensor
shapes on the edges, and MACs per layer for the panel's overlay.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_server_lsp import SERVER, model, open_copy, start_session

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.asyncio(loop_scope="module")  # the client fixture's loop


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("groups")
    shutil.copy(ROOT / "examples" / "applications.py", folder / "applications.py")
    return folder


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient, workspace: Path):
    await start_session(lsp_client, workspace, name="groups", capabilities=types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(configuration=True)), options={"build": {"timeoutSeconds": 120}})
    yield
    await lsp_client.shutdown_session()


def node_ids(svg: str) -> list[str]:
    return re.findall(r'<g id="([^"]+)" class="node', svg)


async def test_resnet50_opens_collapsed_and_render_view_expands_what_the_panel_asks(client: LanguageClient,
                                                                                     workspace: Path):
    doc = open_copy(client, workspace, "applications.py")
    resnet = model(await doc.diagram(), "resnet50")
    assert node_ids(resnet["svg"]) == ["input_layer", "group:stem", "group:conv2", "group:conv3", "group:conv4",
                                       "group:conv5", "group:head"]
    assert {g["id"] for g in resnet["graph"]["groups"]} >= {"group:conv3", "group:conv3_block4"}

    ask = {"uri": doc.uri, "factory": "resnet50", "view": "graph"}
    opened = await doc.command("netviz.renderView", {**ask, "expand": ["group:conv3_block2", "group:conv3"]})
    ids = node_ids(opened["content"])
    assert "group:conv3_block1" in ids and "conv3_block2_1_conv" in ids and "group:conv4" in ids
    assert 'id="group:conv3" class="cluster group group&#45;expanded group&#45;block"' in opened["content"]
    # MACs per layer for the overlay: conv1 is 112 x 112 x 64 outputs of 7 x 7 x 3 weights each.
    assert opened["layerMacs"]["conv1_conv"] == 112 * 112 * 64 * 7 * 7 * 3
    assert opened["totalMacs"] == sum(v for v in opened["layerMacs"].values() if v)

    shapes = await doc.command("netviz.renderView", {**ask, "edgeShapes": True})
    assert node_ids(shapes["content"]) == node_ids(resnet["svg"])
    assert re.search(r'class="edge">.*?> \(None, 56, 56, 256\)</text>', shapes["content"], re.DOTALL)

    # Every group expanded: all 177 layers, as before groups.
    every = [g["id"] for g in resnet["graph"]["groups"]]
    full = await doc.command("netviz.renderView", {**ask, "expand": every})
    assert len(node_ids(full["content"])) == 177
