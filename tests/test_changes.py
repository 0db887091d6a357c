"""What changed since the last diagram (``ModelDiagram.changes``): the comparison on its own, the
per-document memory of pushes, and a real edit through the language server (pytest-lsp)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient
from test_server_lsp import Doc, eventually, make_client, start_session

from netviz_lsp.graph import BuildInfo, Layer, ModelGraph
from netviz_lsp.server.changes import PushedGraphs, compare, what_differs

ROOT = Path(__file__).resolve().parent.parent


def layer(layer_id: str, cls: str = "Dense", shape=(None, 8), params: int = 0, **extra) -> Layer:
    return Layer(layer_id, layer_id, cls, None, [], list(shape), params, True, **extra)


def graph(*layers: Layer, factory: str = "build_mlp") -> ModelGraph:
    return ModelGraph(factory, 1, "Sequential", sum(l.params for l in layers), 0, 0, [], [],
                      BuildInfo(1.0, True), list(layers))


def test_compare_names_added_removed_and_changed_layers_in_model_order():
    before = graph(layer("dense", params=72, activation="relu"), layer("dropout", "Dropout"),
                   layer("dense_1", shape=(None, 2), params=18))
    after = graph(layer("dense", shape=(None, 16), params=144, activation="relu"), layer("batch_normalization",
                  "BatchNormalization", shape=(None, 16), params=64), layer("dense_1", shape=(None, 2), params=34))
    assert compare(before, after) == {"added": ["batch_normalization"], "removed": ["dropout"],
                                      "changed": ["dense", "dense_1"], "params_delta": 242 - 90}
    assert compare(after, after) == {"added": [], "removed": [], "changed": [], "params_delta": 0}


def test_configuration_counts_as_a_change():
    base = layer("dense", params=72, activation="relu")
    for field, value in (("activation", "gelu"), ("dtype", "float16"), ("trainable", False), ("class_name", "EinsumDense")):
        other = layer("dense", params=72, activation="relu")
        setattr(other, field, value)
        assert compare(graph(base), graph(other))["changed"] == ["dense"], field
        assert what_differs(base, other) == [field]
    moved = layer("dense", params=72, activation="relu")
    moved.line, moved.call_lines = 40, [40]
    assert compare(graph(base), graph(moved))["changed"] == []  # a layer that moved in the file is the same layer


def test_a_document_remembers_the_last_push_of_each_target():
    pushed = PushedGraphs()
    first = graph(layer("dense", params=72))
    assert pushed.changes("v1", first) is None  # the first push has nothing to compare with
    wider = graph(layer("dense", shape=(None, 16), params=144))
    expected = {"added": [], "removed": [], "changed": ["dense"], "params_delta": 72}
    assert pushed.changes("v2", wider) == expected
    assert pushed.changes("v2", graph(layer("dense", shape=(None, 16), params=144))) == expected  # same text again
    assert pushed.changes("v3", wider)["changed"] == []
    assert pushed.changes("v3", graph(layer("x"), factory="other")) is None

    # preview as you type: each typed build is compared with the last save, never with a half-typed state
    typed = PushedGraphs()
    assert typed.changes("Dense(8", first) is None
    assert typed.changes("Dense(1", graph(layer("dense", shape=(None, 1), params=9)), saved=False)["params_delta"] == -63
    assert typed.changes("Dense(16", wider, saved=False) == expected
    assert typed.changes("Dense(16", wider) == expected  # saved: the same text as the typed build
    assert typed.last("other") is None and typed.last("build_mlp") == expected
    assert typed.changes("Dense(160", graph(layer("dense", shape=(None, 160), params=1440)), saved=False)[
        "params_delta"] == 1440 - 144  # against the new save

    # each open document has its own (the server's Document.pushed): another file starts afresh
    other = PushedGraphs()
    assert other.changes("a", first) is None and pushed.changes("v4", first)["params_delta"] == -72


# -- a real edit through the language server ----------------------------------------------------

pytestmark_lsp = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("changes")
    shutil.copy(ROOT / "examples" / "seed_cnns.py", folder / "seed_cnns.py")
    return folder


VIEWER = Path(tempfile.mkdtemp(prefix="netviz-viewer-"))
"""An extension root for the HTML export (``NETVIZ_VIEWER_DIR``): the panel's stylesheet, and a script
standing in for the built viewer (editor-client's browser suite opens the real one)."""
(VIEWER / "media").mkdir()
(VIEWER / "dist").mkdir()
shutil.copy(ROOT / "editor-client" / "media" / "preview.css", VIEWER / "media" / "preview.css")
(VIEWER / "dist" / "standalone.js").write_text("document.body.dataset.viewer = 'loaded';\n")


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "netviz_lsp"], client_factory=make_client,
                              server_env={**os.environ, "NETVIZ_VIEWER_DIR": str(VIEWER)}),
)
async def client(lsp_client: LanguageClient, workspace: Path):
    await start_session(lsp_client, workspace, name="changes")
    yield
    await lsp_client.shutdown_session()


@pytestmark_lsp
async def test_widening_a_dense_layer_and_saving_names_it_with_the_exact_params_delta(
        client: LanguageClient, workspace: Path):
    doc = Doc(client, workspace / "seed_cnns.py")
    first = await doc.diagram(version=1)
    assert [m["changes"] for m in first["models"]] == [None, None, None]
    before = next(m for m in first["models"] if m["factory"] == "construct_model")["graph"]
    assert [l["output_shape"] for l in before["layers"] if l["id"] == "dense"] == [[None, 256]]

    start = len(doc.diagrams())
    doc.replace(doc.text.replace("layers.Dense(256, activation", "layers.Dense(512, activation", 1))
    doc.save()
    saved = await eventually(
        lambda: next((d for d in doc.diagrams(start) if d["version"] == doc.version
                      and all(m["changes"] is not None for m in d["models"])), None),
        "the diagram of the widened model")
    models = {m["factory"]: m for m in saved["models"]}
    changes = models["construct_model"]["changes"]
    flattened = 62 * 62 * 64
    delta = (flattened * 512 + 512 + 512 * 12 + 12) - (flattened * 256 + 256 + 256 * 12 + 12)
    # the Dropout after it passes 512 values on now: its output shape changed too
    assert changes == {"added": [], "removed": [], "changed": ["dense", "dropout_1", "dense_1"], "params_delta": delta}
    assert delta == 62_983_424
    assert models["construct_model"]["graph"]["total_params"] - before["total_params"] == delta
    for other in ("sconstruct_model", "cconstruct_model"):
        assert models[other]["changes"] == {"added": [], "removed": [], "changed": [], "params_delta": 0}

    # the HTML export of the model carries the same changes, for its page to highlight them
    page = await doc.command("netviz.export", {"uri": doc.uri, "factory": "construct_model", "format": "html",
                                               "path": "review/construct_model.html"})
    assert page == str(workspace / "review" / "construct_model.html")
    text = Path(page).read_text()
    data = json.loads(re.search(r'<script type="application/json" id="netviz-standalone">(.*?)</script>', text,
                                re.S).group(1))
    assert data["fileName"] == "seed_cnns.py" and data["diagram"]["uri"] == doc.uri
    (exported,) = data["diagram"]["models"]
    assert exported["changes"] == changes and exported["graph"]["total_params"] == before["total_params"] + delta
    assert "document.body.dataset.viewer = 'loaded';" in text and 'id="dense"' in data["expansions"][""]

