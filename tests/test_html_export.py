"""The self-contained HTML export's writer (``render/html_export.py``): one file holding the viewer,
its stylesheet, the data and every drawing, under a CSP that allows nothing else. (The page itself,
opened from disk in Chromium, is tested with the viewer in editor-client's browser suite.)"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from netviz_lsp.graph import FileResult, ModelGraph
from netviz_lsp.groups import compute_groups
from netviz_lsp.render import render_view
from netviz_lsp.render.html_export import (DATA_ID, Viewer, ViewerMissing, expansion_key, export_html,
                                           load_viewer)
from netviz_lsp.settings import RenderOptions

ROOT = Path(__file__).resolve().parent.parent
STYLE = ROOT / "editor-client" / "media" / "preview.css"
SCRIPT = "document.title = JSON.parse(document.getElementById('netviz-standalone').textContent).fileName;\n"

pytestmark = pytest.mark.needs_tool("dot", reason="Graphviz dot is not installed")


class Page(HTMLParser):
    """Every tag with its attributes, and the text of each script and style element."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[tuple[str, dict, str]] = []
        self._open: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open.append((tag, dict(attrs)))
            self.texts.append((tag, dict(attrs), ""))

    def handle_data(self, data):
        if self._open:
            tag, attrs, text = self.texts[-1]
            self.texts[-1] = (tag, attrs, text + data)

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._open.pop()


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.fixture(scope="module")
def resnet() -> ModelGraph:
    graph = FileResult.from_dict(json.loads((ROOT / "tests" / "fixtures" / "views" / "resnet50.json").read_text())).models[0]
    graph.groups = compute_groups(graph)
    return graph


@pytest.fixture(scope="module")
def viewer() -> Viewer:
    return Viewer(SCRIPT, STYLE.read_text(encoding="utf-8"))


def draw(graph: ModelGraph, options: RenderOptions) -> bytes:
    return render_view(graph, "graph", "svg", options)


@pytest.fixture(scope="module")
def page(resnet: ModelGraph, viewer: Viewer) -> str:
    return export_html(resnet, "/projects/vision/resnet_finetune.py", draw, RenderOptions(), viewer=viewer).decode()


def test_the_page_holds_everything_inline_under_a_strict_csp(page: str, viewer: Viewer):
    parsed = Page(page)
    assert not [(tag, attrs) for tag, attrs in parsed.tags if {"src", "href", "action", "srcset"} & set(attrs)]
    metas = [attrs["content"] for tag, attrs in parsed.tags
             if tag == "meta" and attrs.get("http-equiv", "").lower() == "content-security-policy"]
    assert len(metas) == 1
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in metas[0].split(";"))
    scripts = [text for tag, attrs, text in parsed.texts if tag == "script" and attrs.get("type") != "application/json"]
    styles = [text for tag, attrs, text in parsed.texts if tag == "style"]
    assert scripts == [viewer.script] and styles == [viewer.style]
    assert directives == {
        "default-src": "'none'", "script-src": sha256(viewer.script), "style-src": sha256(viewer.style),
        "img-src": "data:", "font-src": "data:", "base-uri": "'none'", "form-action": "'none'"}
    assert page.index("Content-Security-Policy") < page.index("<style>")  # the policy comes before all it governs


def test_the_data_parses_with_every_expansion_drawn(page: str, resnet: ModelGraph):
    (data_text,) = [text for tag, attrs, text in Page(page).texts if attrs.get("id") == DATA_ID]
    data = json.loads(data_text)
    assert data["fileName"] == "resnet_finetune.py"
    assert data["macs"]["conv1_conv"] == 112 * 112 * 64 * 7 * 7 * 3 and set(data["macs"]) <= {l.id for l in resnet.layers}
    diagram = data["diagram"]
    assert diagram["uri"] == "file:///projects/vision/resnet_finetune.py"
    (model,) = diagram["models"]
    assert model["graph"] == json.loads(json.dumps(resnet.to_dict()))
    assert model["factory"] == resnet.factory and model["stale"] is False and model["changes"] is None
    expansions = data["expansions"]
    assert model["svg"] == expansions[""]
    by_id = {g.id: g for g in resnet.groups}
    wanted = {""}
    for group in resnet.groups:
        ids, current = set(), group
        while current is not None:
            ids.add(current.id)
            current = by_id.get(current.parent)
        wanted.add(expansion_key(ids))
    assert set(expansions) == wanted  # ResNet50 (177 layers) opens collapsed: no all-expanded drawing
    assert "group:conv2,group:conv2_block1" in expansions and expansion_key(["group:conv2"]) == "group:conv2"
    # ResNet50 opens as its stem, stages and head; a stage expanded shows its blocks, one expanded shows its layers
    assert 'id="group:conv2"' in expansions[""] and 'id="conv2_block1_1_conv"' not in expansions[""]
    assert 'id="group:conv2_block1"' in expansions["group:conv2"]
    assert 'id="conv2_block1_1_conv"' in expansions["group:conv2,group:conv2_block1"]
    assert 'id="conv3_block1_1_conv"' not in expansions["group:conv2,group:conv2_block1"]


def test_user_text_cannot_close_the_data_element(resnet: ModelGraph, viewer: Viewer):
    graph = ModelGraph.from_dict(resnet.to_dict())
    graph.layers[1].name = "</script><script>alert(1)</script><!--"
    graph.groups = []
    page = export_html(graph, "model.py", draw, RenderOptions(), viewer=viewer).decode()
    assert "</script><script>alert(1)" not in page and "<!--" not in page
    (data_text,) = [text for tag, attrs, text in Page(page).texts if attrs.get("id") == DATA_ID]
    assert json.loads(data_text)["diagram"]["models"][0]["graph"]["layers"][1]["name"] == graph.layers[1].name


def test_a_small_graph_also_has_its_all_expanded_drawings(viewer: Viewer):
    models = FileResult.from_dict(json.loads((ROOT / "tests" / "fixtures" / "views" / "nested.json").read_text())).models
    for model in models:
        model.groups = compute_groups(model)
    graph = next(m for m in models if m.groups)
    assert graph.groups and len(graph.layers) <= 120
    page = export_html(graph, "nested.py", draw, RenderOptions(), viewer=viewer).decode()
    (data_text,) = [text for tag, attrs, text in Page(page).texts if attrs.get("id") == DATA_ID]
    expansions = json.loads(data_text)["expansions"]
    every = {g.id for g in graph.groups}
    assert expansion_key(every) in expansions
    assert all(expansion_key(every - {g.id}) in expansions for g in graph.groups)


def test_a_missing_viewer_says_how_to_build_it(tmp_path: Path):
    with pytest.raises(ViewerMissing, match=r"npm run build"):
        load_viewer([tmp_path])
    (tmp_path / "dist").mkdir()
    (tmp_path / "media").mkdir()
    (tmp_path / "dist" / "standalone.js").write_text(SCRIPT)
    (tmp_path / "media" / "preview.css").write_text("body { margin: 0; }\n")
    assert load_viewer([tmp_path]) == Viewer(SCRIPT, "body { margin: 0; }\n")


def test_netviz_render_format_html_writes_one_page_per_model(tmp_path: Path):
    root = tmp_path / "viewer"
    (root / "dist").mkdir(parents=True)
    (root / "media").mkdir()
    (root / "dist" / "standalone.js").write_text(SCRIPT)
    (root / "media" / "preview.css").write_text(STYLE.read_text(encoding="utf-8"))
    env = dict(os.environ, NETVIZ_VIEWER_DIR=str(root), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "netviz_lsp.cli", "render", str(ROOT / "examples" / "seed_cnns.py"),
                           "--factory", "construct_model", "--format", "html", "--output", str(tmp_path / "out")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "out" / "seed_cnns.construct_model.html"
    assert done.stdout.splitlines() == [str(path)]
    texts = Page(path.read_text()).texts
    (data_text,) = [text for tag, attrs, text in texts if attrs.get("id") == DATA_ID]
    data = json.loads(data_text)
    assert data["fileName"] == "seed_cnns.py"
    assert data["diagram"]["models"][0]["graph"]["memory"]["activation_bytes_per_sample"] > 4_064_256
    assert list(data["expansions"]) == [""]  # a model without groups has one drawing
    assert 'id="conv2d"' in data["expansions"][""]
