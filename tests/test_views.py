"""Every view of a model graph: keras, layered, neuron, summary, repeated blocks, MACs, TensorBoard.

Graphs come from the real worker: JSON fixtures under fixtures/views/ were written by
``netviz render examples/<file>.py --format json`` (the article's three CNNs, the U-Net,
the multi-input classifier, the nested siamese model, ResNet50 and a MobileNetV2 head),
and ``layer_zoo.py`` is built here through the CLI. Synthetic graphs cover a
32-block transformer and hostile names. Pictures are checked by their structure: the
SVG's layer groups, circles, legend entries and labels.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from netviz_lsp.graph import BuildInfo, FileResult, Layer, ModelGraph
from netviz_lsp.render import RenderError, VIEWS, render_view
from netviz_lsp.render.views import ViewOptions
from netviz_lsp.render.views.facts import GraphFacts
from netviz_lsp.render.views.keras_style import model_to_keras_dot
from netviz_lsp.render.views.macs import count_macs
from netviz_lsp.render.views.repeats import collapse_repeats
from netviz_lsp.settings import RenderOptions

pytestmark = pytest.mark.needs_tool("dot", reason="Graphviz dot is not installed")  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "views"
SVG = "{http://www.w3.org/2000/svg}"


def models(name: str) -> dict[str, ModelGraph]:
    result = FileResult.from_dict(json.loads((FIXTURES / f"{name}.json").read_text()))
    return {m.factory: m for m in result.models}


def cnn(factory: str = "construct_model") -> ModelGraph:
    return models("seed_cnns")[factory]


def netviz(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netviz_lsp.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def svg_of(graph: ModelGraph, view: str, options: RenderOptions | None = None,
           view_options: ViewOptions | None = None) -> ET.Element:
    return ET.fromstring(render_view(graph, view, "svg", options, view_options))


def layer_groups(root: ET.Element) -> dict[str, ET.Element]:
    """SVG groups of drawn layers by id (``class="node layer ..."``)."""
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if "node" in (g.get("class") or "").split()}


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def legend_labels(root: ET.Element) -> list[str]:
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legend")
    return texts(legend)


# --- synthetic graphs ------------------------------------------------------------------------


def layer(id, class_name, shape, params=0, activation=None, parent=None, is_model=False, name=None):
    return Layer(id=id, name=name if name is not None else id, class_name=class_name, line=None, call_lines=[],
                 output_shape=shape, params=params, trainable=True, activation=activation, dtype="float32",
                 parent=parent, trainable_params=params, is_model=is_model)


def graph_of(layers, edges, factory="build_model", class_name="Functional", inputs=()):
    total = sum(l.params for l in layers if l.parent is None)
    return ModelGraph(factory=factory, line=1, class_name=class_name, total_params=total, trainable_params=total,
                      non_trainable_params=0, inputs=[list(s) for s in inputs], outputs=[],
                      build=BuildInfo(ms=1.0, shape_only=True), layers=layers, edges=[list(e) for e in edges])


def transformer(blocks: int = 32, width: int = 64) -> ModelGraph:
    """Embeddings, then ``blocks`` identical pre-norm transformer blocks (two residuals each), then a head."""
    seq = [None, 128, width]
    layers = [layer("tokens", "InputLayer", [None, 128]), layer("embed", "Embedding", seq, 1000 * width)]
    edges, x = [("tokens", "embed")], "embed"
    for b in range(blocks):
        p = f"block{b}_"
        layers += [layer(p + "ln1", "LayerNormalization", seq, 2 * width),
                   layer(p + "mha", "MultiHeadAttention", seq, 4 * width * width + 4 * width),
                   layer(p + "add1", "Add", seq),
                   layer(p + "ln2", "LayerNormalization", seq, 2 * width),
                   layer(p + "ffn1", "Dense", [None, 128, 4 * width], width * 4 * width + 4 * width, "gelu"),
                   layer(p + "ffn2", "Dense", seq, 4 * width * width + width),
                   layer(p + "add2", "Add", seq)]
        edges += [(x, p + "ln1"), (p + "ln1", p + "mha"), (p + "mha", p + "add1"), (x, p + "add1"),
                  (p + "add1", p + "ln2"), (p + "ln2", p + "ffn1"), (p + "ffn1", p + "ffn2"),
                  (p + "ffn2", p + "add2"), (p + "add1", p + "add2")]
        x = p + "add2"
    layers.append(layer("head", "Dense", [None, 128, 1000], width * 1000 + 1000))
    edges.append((x, "head"))
    return graph_of(layers, edges, factory="transformer")


def mlp() -> ModelGraph:
    layers = [layer("dense", "Dense", [None, 5], 25, "relu"), layer("dense_1", "Dense", [None, 3], 18, "softmax")]
    return graph_of(layers, [("dense", "dense_1")], factory="mlp", class_name="Sequential", inputs=[[None, 4]])


# --- MACs ------------------------------------------------------------------------------------


def test_macs_of_the_article_cnn_follow_the_formulas():
    macs = count_macs(cnn())
    assert macs.per_layer["conv2d"] == 126 * 126 * 64 * 9 == 9_144_576  # Cin = 1
    assert macs.per_layer["conv2d_1"] == 124 * 124 * 64 * (3 * 3 * 64)
    assert macs.per_layer["max_pooling2d"] == 62 * 62 * 64 * (2 * 2)
    assert macs.per_layer["dense"] == 246_016 * 256
    assert macs.per_layer["dense_1"] == 256 * 12
    assert macs.per_layer["dropout"] == macs.per_layer["flatten"] == 0
    assert macs.total == 639_932_672 and macs.not_counted == []


def test_macs_of_resnet50_and_mobilenet_match_published_totals():
    resnet = count_macs(models("resnet50")["resnet50"])
    assert resnet.per_layer["conv1_conv"] == 112 * 112 * 7 * 7 * 3 * 64
    assert resnet.total == 3_858_876_416  # the usual "3.9 GMACs" for ResNet50 at 224x224
    mobilenet = count_macs(models("mobilenet_head")["mobilenet_head"])
    assert mobilenet.per_layer["expanded_conv_depthwise"] == 80 * 80 * 3 * 3 * 32  # no bias
    assert 150e6 < mobilenet.total < 155e6  # MobileNetV2's 300 M at 224, scaled by (160/224)^2
    not_counted = {models("resnet50")["resnet50"].layers[i].class_name for i in range(177)
                   if models("resnet50")["resnet50"].layers[i].id in resnet.not_counted}
    assert not_counted == {"BatchNormalization", "Activation", "Add"}


@pytest.fixture(scope="module")
def zoo() -> dict[str, ModelGraph]:
    """layer_zoo.py built by the real worker."""
    done = netviz("render", str(FIXTURES / "layer_zoo.py"), "--format", "json")
    assert done.returncode == 0, done.stderr
    return {m.factory: m for m in FileResult.from_dict(json.loads(done.stdout)).models}


def test_macs_of_every_counted_layer_family(zoo):
    conv = count_macs(zoo["conv_zoo"]).per_layer
    assert conv["strided"] == 8 * 8 * (2 * 2 * 8 * 32)
    assert conv["transpose"] == 8 * 8 * (2 * 2 * 32 * 16)  # input positions x kernel
    assert conv["separable"] == 14 * 14 * (3 * 3 * 8 + 8 * 32)
    assert conv["depthwise"] == 14 * 14 * (3 * 3 * 8 * 2)
    assert conv["no_bias"] == 16 * 10 * (1 * 7 * 8 * 8)
    assert conv["conv1d"] == 96 * (5 * 16 * 64)
    assert conv["conv3d"] == 8 * 8 * 8 * (3 * 3 * 3 * 4 * 8)
    assert conv["avg_pool"] == 8 * 8 * 16 * 4
    assert conv["global_pool"] == 8 * 8 * 16
    assert conv["gap1d"] == 96 * 64
    assert conv["head"] == 14_864 * 10
    sequence = count_macs(zoo["sequence_zoo"]).per_layer
    hidden = 4 * 16  # heads x key_dim, read off the parameter count
    assert sequence["mha"] == 4 * 10 * 64 * hidden + 2 * 10 * 10 * hidden
    assert sequence["per_token"] == 10 * 64 * 8
    assert sequence["lstm"] == 10 * 4 * (8 * 32 + 32 * 32)
    assert sequence["gru"] == 10 * 3 * (8 * 16 + 16 * 16)
    assert sequence["residual"] is None and sequence["norm"] is None  # elementwise: not counted


def test_kernel_sizes_and_bias_are_read_off_parameter_counts(zoo):
    facts = GraphFacts(zoo["conv_zoo"])
    by_id = {l.id: l for l in zoo["conv_zoo"].layers}
    assert facts.conv(by_id["strided"]).kernel == (2, 2)
    assert facts.conv(by_id["conv3d"]).kernel == (3, 3, 3)
    assert facts.conv(by_id["depthwise"]).depth_multiplier == 2
    no_bias = facts.conv(by_id["no_bias"])
    assert (no_bias.kernel, no_bias.kernel_area, no_bias.bias) == (None, 7, False)  # 1x7: area only
    assert facts.input_shapes(by_id["conv2d" if "conv2d" in by_id else "strided"]) == [[None, 16, 16, 8]]
    sequential = GraphFacts(cnn())  # the hidden InputLayer's shape feeds the first layer
    assert sequential.input_shapes(cnn().layers[0]) == [[None, 128, 128, 1]]


# --- summary -----------------------------------------------------------------------------------


def test_summary_markdown_lists_every_layer_with_params_macs_and_totals():
    text = render_view(cnn(), "summary", "md").decode()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 8
    assert rows[0] == "| `conv2d` (Conv2D) | (None, 126, 126, 64) | 640 | 9,144,576 |"
    assert rows[4] == "| `flatten` (Flatten) | (None, 246016) | 0 | 0 |"
    assert "- **Total params:** 63,021,004 (240.41 MB)" in text
    assert "- **Trainable params:** 63,021,004 (240.41 MB)" in text
    assert "- **Total MACs:** 639,932,672 (639.93 M)" in text
    assert "Connected to" not in text  # a Sequential, as model.summary() prints it


def test_summary_of_a_functional_model_says_what_each_layer_is_connected_to():
    text = render_view(models("unet")["unet"], "summary", "md").decode()
    concat = next(line for line in text.splitlines() if line.startswith("| `concatenate_2`"))
    assert concat.endswith("| `conv2d_transpose_2`, `conv2d_1` |")
    assert "| --:|" not in text and "Connected to" in text


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class") == "layer":
            self.rows.append(attrs["data-layer-id"])


def test_summary_html_rows_carry_layer_ids_and_nested_layers_when_expanded():
    siamese = models("nested")["siamese"]
    parser = _Rows()
    parser.feed(render_view(siamese, "summary", "html", RenderOptions(expand_nested=True)).decode())
    assert parser.rows == ["left", "right", "shared_features", "shared_features/conv2d",
                           "shared_features/batch_normalization", "shared_features/global_average_pooling2d",
                           "subtract", "same"]
    collapsed = _Rows()
    collapsed.feed(render_view(siamese, "summary", "html").decode())
    assert collapsed.rows == ["left", "right", "shared_features", "subtract", "same"]


def test_summary_escapes_hostile_names_in_both_formats():
    hostile = "<img src=x onerror=alert(1)>|`x`"
    graph = graph_of([layer("a", "InputLayer", [None, 3], name=hostile), layer("b", "Dense", [None, 2], 8)],
                     [("a", "b")])
    md = render_view(graph, "summary", "md").decode()
    row = next(line for line in md.splitlines() if line.startswith("| ``"))
    assert row.count(" | ") == 4 and "\\|" in row  # the pipe does not split the cell
    page = render_view(graph, "summary", "html").decode()
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


# --- repeated blocks ---------------------------------------------------------------------------


def test_32_identical_transformer_blocks_collapse_into_one_block_times_32():
    graph = transformer(32)
    collapsed, repeats = collapse_repeats(graph)
    assert [(r.count, len(r.copies[0])) for r in repeats] == [(32, 7)]
    block = next(l for l in collapsed.layers if l.class_name == "Block")
    assert block.name == "block × 32"
    assert block.params == sum(l.params for l in graph.layers if l.id.startswith("block"))
    members = [l.id for l in collapsed.layers if l.parent == block.id]
    assert members == [f"block0_{n}" for n in ("ln1", "mha", "add1", "ln2", "ffn1", "ffn2", "add2")]
    ids = {l.id for l in collapsed.layers}
    assert all(a in ids and b in ids for a, b in collapsed.edges)
    assert ["block31_add2", "head"] not in collapsed.edges and [block.id, "head"] in collapsed.edges
    for view in ("graph", "keras", "layered", "neuron"):
        svg = render_view(graph, view, "svg", view_options=ViewOptions(collapse_repeats=True)).decode()
        assert "× 32" in svg, view
        assert "block31_ffn1" not in svg, view
    expanded = render_view(graph, "graph", "svg").decode()  # the graph view draws every layer by default
    assert "× 32" not in expanded and "block31_ffn1" in expanded


def test_resnet50_stages_collapse_and_small_models_do_not():
    collapsed, repeats = collapse_repeats(models("resnet50")["resnet50"])
    names = [l.name for l in collapsed.layers if l.class_name == "Block"]
    assert names == ["conv2_block × 2", "conv3_block × 3", "conv4_block × 5", "conv5_block × 2"]
    assert [r.copies[0][0] for r in repeats] == ["conv2_block2_1_conv", "conv3_block2_1_conv",
                                                 "conv4_block2_1_conv", "conv5_block2_1_conv"]
    assert sum(l.params for l in collapsed.layers if l.parent is None) == 25_636_712
    for graph in [*models("seed_cnns").values(), models("unet")["unet"], mlp(), transformer(2)]:
        assert collapse_repeats(graph)[1] == [], graph.factory  # too small to be worth hiding


# --- keras view ----------------------------------------------------------------------------------


def test_keras_view_nodes_are_plot_model_tables_with_input_and_output_shapes():
    source = model_to_keras_dot(cnn(), RenderOptions(show_dtype=True, show_trainable=True))
    assert ('<font point-size="16" color="white"><b>conv2d</b> (Conv2D)</font>' in source)
    assert "Activation: <b>relu</b>" in source
    assert "Input shape: <b>(None, 128, 128, 1)</b>" in source  # from the model input
    assert "Input shape: <b>(None, 62, 62, 64)</b></font></td><td bgcolor=\"white\"><font point-size=\"14\">" \
           "Output shape: <b>(None, 246016)</b>" in source
    assert source.count("Output dtype: <b>float32</b>") == 8
    assert source.count(">Trainable</b>") == 4  # only layers with weights, as plot_model
    assert "splines=ortho" in source and "concentrate=true" in source


def test_keras_view_of_a_functional_model_lists_all_inputs_and_keeps_layer_ids():
    unet = models("unet")["unet"]
    source = html.unescape(model_to_keras_dot(unet, RenderOptions()))
    assert "Input shape: <b>[(None, 64, 64, 32), (None, 64, 64, 32)]</b>" in source
    image_label = re.search(r"<b>image</b> \(InputLayer\).*?</table>", source).group(0)
    assert "Input shape" not in image_label  # an InputLayer has no input cell
    root = svg_of(unet, "keras")
    assert set(layer_groups(root)) == {l.id for l in unet.layers}


def test_keras_view_falls_back_to_polylines_when_dot_aborts_on_ortho(tmp_path, monkeypatch):
    real = shutil.which("dot")
    (tmp_path / "dot").write_text(f"#!/bin/sh\ninput=$(cat)\ncase \"$input\" in *ortho*) kill -ABRT $$;; esac\n"
                                  f"printf '%s' \"$input\" | {real} \"$@\"\n")
    (tmp_path / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    svg = render_view(cnn(), "keras", "svg")
    assert svg.startswith(b"<svg") and b"conv2d_1" in svg


# --- layered view --------------------------------------------------------------------------------


def test_layered_view_draws_a_box_per_layer_plus_the_hidden_input_and_a_legend():
    root = svg_of(cnn(), "layered")
    boxes = layer_groups(root)
    assert list(boxes) == ["__input__", "conv2d", "conv2d_1", "max_pooling2d", "dropout", "flatten", "dense",
                           "dropout_1", "dense_1"]
    assert legend_labels(root) == ["InputLayer", "Conv2D", "MaxPooling2D", "Dropout", "Flatten", "Dense"]
    assert len(root.findall(f".//{SVG}polygon[@class='edge funnel']")) == 8  # a straight chain: all funnels
    assert "246K" in texts(boxes["flatten"]) and "12" in texts(boxes["dense_1"])


def box_height(group: ET.Element) -> float:
    return float(group.find(f"{SVG}rect").get("height"))


def test_layered_box_sizes_follow_shapes_on_a_capped_scale():
    boxes = layer_groups(svg_of(cnn(), "layered"))
    assert box_height(boxes["conv2d"]) > box_height(boxes["max_pooling2d"])  # 126 vs 62 pixels high
    assert box_height(boxes["flatten"]) <= 150 and box_height(boxes["flatten"]) > box_height(boxes["dense"])
    assert box_height(boxes["dense"]) > box_height(boxes["dense_1"])  # 256 vs 12 units
    assert float(boxes["conv2d"].find(f"{SVG}rect").get("width")) > float(
        boxes["__input__"].find(f"{SVG}rect").get("width"))  # 64 channels vs 1


def test_layered_type_ignore_hides_classes_and_joins_their_neighbours():
    root = svg_of(cnn(), "layered", view_options=ViewOptions(type_ignore=("Dropout",)))
    assert "dropout" not in layer_groups(root) and len(layer_groups(root)) == 7
    assert "Dropout" not in legend_labels(root)
    assert len(root.findall(f".//{SVG}polygon[@class='edge funnel']")) == 6


def center_y(group: ET.Element) -> float:
    rect = group.find(f"{SVG}rect")
    return float(rect.get("y")) + float(rect.get("height")) / 2


def test_layered_branches_sit_side_by_side():
    root = svg_of(models("multi_io")["ticket_classifier"], "layered")
    boxes = layer_groups(root)
    rows = {round(center_y(boxes[name])) for name in ("title", "body", "tags")}
    assert len(rows) == 3  # three inputs, three rows
    xs = [float(boxes[name].find(f"{SVG}rect").get("x")) for name in ("title", "body")]
    assert abs(xs[0] - xs[1]) < 5
    unet = svg_of(models("unet")["unet"], "layered")
    assert len(layer_groups(unet)) == 25
    curves = {(p.get("data-tail"), p.get("data-head")) for p in unet.iter(f"{SVG}path") if p.get("class") == "edge"}
    funnels = {(p.get("data-tail"), p.get("data-head")) for p in unet.iter(f"{SVG}polygon")
               if p.get("class") == "edge funnel"}
    skips = {("conv2d_1", "concatenate_2"), ("conv2d_3", "concatenate_1"), ("conv2d_5", "concatenate")}
    assert skips <= curves and ("image", "conv2d") in funnels and ("conv2d_12", "conv2d_13") in funnels
    assert len(curves | funnels) == len(models("unet")["unet"].edges)


def test_layered_resnet50_collapses_its_stages_into_badged_boxes():
    root = svg_of(models("resnet50")["resnet50"], "layered")
    boxes = layer_groups(root)
    assert len(boxes) == 177 - (2 + 3 + 5 + 2) * 10 + 4
    badges = [texts(g)[-1] for g in boxes.values() if "× " in " ".join(texts(g))]
    assert badges == ["× 2", "× 3", "× 5", "× 2"]
    every = svg_of(models("resnet50")["resnet50"], "layered", view_options=ViewOptions(collapse_repeats=False))
    assert len(layer_groups(every)) == 177


# --- neuron view -----------------------------------------------------------------------------------


def circles(group: ET.Element) -> int:
    return len(group.findall(f"{SVG}circle[@class='unit']"))


def test_neuron_view_draws_at_most_max_units_circles_per_layer():
    root = svg_of(cnn(), "neuron")
    groups = layer_groups(root)
    assert {k: circles(g) for k, g in groups.items() if circles(g)} == {
        "flatten": 10, "dense": 10, "dropout_1": 10, "dense_1": 10}
    assert groups["flatten"].get("data-units") == "246016"
    assert "+246,006 more" in texts(groups["flatten"]) and "+2 more" in texts(groups["dense_1"])
    assert len(groups["conv2d"].findall(f"{SVG}rect[@class='map']")) == 5
    assert len(groups["__input__"].findall(f"{SVG}rect[@class='map']")) == 1  # one channel
    assert "kernel 3×3" in texts(groups["conv2d"]) and "stride 2×2" in texts(groups["max_pooling2d"])
    fewer = layer_groups(svg_of(cnn(), "neuron", view_options=ViewOptions(max_units=4)))
    assert circles(fewer["dense_1"]) == 4


def test_neuron_view_wires_dense_layers_all_to_all():
    root = svg_of(mlp(), "neuron")
    groups = layer_groups(root)
    assert [circles(groups[k]) for k in ("__input__", "dense", "dense_1")] == [4, 5, 3]
    assert len(root.findall(f".//{SVG}line[@class='wire']")) == 4 * 5 + 5 * 3
    assert legend_labels(root) == ["InputLayer (units)", "Dense (units)"]


def test_neuron_view_draws_kernel_windows_and_boxes_for_what_it_cannot_draw_as_neurons():
    root = svg_of(cnn("sconstruct_model"), "neuron")
    assert len(root.findall(f".//{SVG}rect[@class='window']")) == 6  # 4 convolutions, 2 poolings
    assert "kernel / pooling window" in legend_labels(root)
    groups = layer_groups(svg_of(models("multi_io")["ticket_classifier"], "neuron"))
    forms = {k: g.get("data-form") for k, g in groups.items()}
    assert forms["lstm"] == forms["embedding"] == forms["title"] == "box"
    assert forms["tags"] == forms["concatenate"] == forms["priority"] == "units"
    assert circles(groups["priority"]) == 1 and circles(groups["department"]) == 4


# --- all views ----------------------------------------------------------------------------------------


ACCEPTANCE = [("seed_cnns", f) for f in ("construct_model", "sconstruct_model", "cconstruct_model")] + [
    ("resnet50", "resnet50"), ("unet", "unet"), ("multi_io", "ticket_classifier"), ("nested", "siamese")]


@pytest.mark.parametrize("fixture,factory", ACCEPTANCE)
def test_every_diagram_view_renders_the_acceptance_models_with_every_layer_id_or_block(fixture, factory):
    graph = models(fixture)[factory]
    for view in ("graph", "keras", "layered", "neuron"):
        root = svg_of(graph, view)
        drawn = set(layer_groups(root))
        collapsed = collapse_repeats(graph)[0] if view in ("layered", "neuron") else graph
        top = {l.id for l in collapsed.layers if l.parent is None}
        assert top <= drawn, (view, sorted(top - drawn)[:5])
    assert render_view(graph, "summary", "md").count(b"\n| `") == len([l for l in graph.layers if l.parent is None])


@pytest.mark.needs_tool("rsvg-convert", module="cairosvg", reason="no SVG converter (rsvg-convert or cairosvg)")
@pytest.mark.parametrize("view", ["layered", "neuron", "keras"])
def test_png_and_pdf_of_the_self_drawn_views(view):
    png = render_view(cnn(), view, "png", RenderOptions(dpi=72))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    doubled = render_view(cnn(), view, "png", RenderOptions(dpi=144))
    assert abs(int.from_bytes(doubled[16:20], "big") - 2 * width) <= 2
    assert render_view(cnn(), view, "pdf").startswith(b"%PDF")


def test_missing_converter_is_a_render_error_that_says_what_to_install(monkeypatch):
    import builtins

    from netviz_lsp.render.views import convert

    real_import = builtins.__import__

    def no_cairosvg(name, *args, **kwargs):
        if name == "cairosvg":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    real_which = shutil.which
    monkeypatch.setattr(convert.shutil, "which", lambda name: None if name == "rsvg-convert" else real_which(name))
    monkeypatch.setattr(builtins, "__import__", no_cairosvg)
    with pytest.raises(RenderError, match="librsvg2-bin"):
        render_view(cnn(), "layered", "png")


def test_views_reject_formats_they_do_not_make():
    assert VIEWS == ("graph", "keras", "layered", "neuron", "summary")
    with pytest.raises(ValueError, match="md, html"):
        render_view(cnn(), "summary", "svg")
    with pytest.raises(ValueError, match="unknown view"):
        render_view(cnn(), "sankey", "svg")
    with pytest.raises(ValueError):
        render_view(cnn(), "layered", "dot")


def test_hostile_names_and_ids_stay_literal_in_self_drawn_svg():
    name = "<img src=x onerror=alert(1)> & \"q\"\t\\N"
    graph = graph_of([layer(name, "InputLayer", [None, 8, 8, 3], name=name),
                      layer("c&<", "Conv2D", [None, 6, 6, 4], 112, "relu", name=name)], [(name, "c&<")])
    for view in ("layered", "neuron"):
        root = svg_of(graph, view)  # parses: nothing broke out of its attribute or element
        assert set(layer_groups(root)) == {name, "c&<"}
        assert not list(root.iter(f"{SVG}img")) and not list(root.iter("img"))


# --- TensorBoard and the CLI --------------------------------------------------------------------------


def test_tensorboard_export_writes_a_graph_tensorboard_can_read(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    done = netviz("render", "examples/seed_cnns.py", "--factory", "construct_model", "--format", "tensorboard",
                  "--output", str(tmp_path))
    assert done.returncode == 0, done.stderr
    event_file = Path(done.stdout.strip())
    assert event_file.parent == tmp_path / "seed_cnns.construct_model"
    assert event_file.name.startswith("events.out.tfevents.") and event_file.stat().st_size > 0
    assert "construct_model: Sequential, 8 layers, 63,021,004 params" in done.stderr
    accumulator = EventAccumulator(str(event_file.parent))
    accumulator.Reload()
    assert accumulator.Tags()["graph"] is True
    graph = accumulator.Graph()
    ops = {node.op for node in graph.node}
    assert {"Conv2D", "MaxPool", "MatMul", "Relu", "Softmax"} <= ops
    assert [n.name for n in graph.node if n.op == "Placeholder" and "/" not in n.name] == ["input_layer"]


def test_cli_views_name_their_files_and_reject_formats_they_do_not_make(tmp_path):
    done = netviz("render", "examples/seed_cnns.py", "--factory", "construct_model", "--view", "summary",
                  "--output", str(tmp_path))
    assert done.returncode == 0, done.stderr
    summary = tmp_path / "seed_cnns.construct_model.summary.md"
    assert done.stdout.split() == [str(summary)]
    assert "| `conv2d` (Conv2D) | (None, 126, 126, 64) | 640 | 9,144,576 |" in summary.read_text()
    done = netviz("render", "examples/seed_cnns.py", "--factory", "construct_model", "--view", "keras",
                  "--format", "dot", "--show-dtype", "--hide-activations", "--output", str(tmp_path))
    assert done.returncode == 0, done.stderr
    source = (tmp_path / "seed_cnns.construct_model.keras.dot").read_text()
    assert "Output dtype" in source and "Activation:" not in source
    for bad in (["--view", "summary", "--format", "svg"], ["--view", "layered", "--format", "tensorboard"],
                ["--view", "neuron", "--format", "dot"]):
        assert netviz("render", "examples/unet.py", *bad).returncode == 2, bad


ODD_GRAPHS = {
    "empty": graph_of([], []),
    "unknown shape": graph_of([layer("a", "Mystery", None)], []),
    "several outputs": graph_of([layer("a", "InputLayer", [None, 4]), layer("b", "Split", [[None, 2], [None, 2]]),
                                 layer("c", "Dense", [None, 3], 9)], [("a", "b"), ("b", "c")]),
    "edge cycle": graph_of([layer("a", "Dense", [None, 4], 20), layer("b", "Dense", [None, 4], 20)],
                           [("a", "b"), ("b", "a")]),
    "dangling edges": graph_of([layer("a", "Dense", [None, 4], 20)], [("a", "zzz"), ("qq", "a")]),
    "parent cycle": graph_of([layer("a", "Dense", [None, 4], 20, parent="b"),
                              layer("b", "Functional", [None, 4], 20, parent="a", is_model=True)], []),
    "zero sizes": graph_of([layer("a", "InputLayer", [None, 0, 0, 0]), layer("b", "Conv2D", [None, 0, 0, 0])],
                           [("a", "b")]),
    "rank 1": graph_of([layer("a", "InputLayer", [None]), layer("b", "Dense", [None, 1], 2)], [("a", "b")]),
    "volumes": graph_of([layer("a", "InputLayer", [None, 4, 8, 8, 2]), layer("b", "Conv3D", [None, 2, 6, 6, 4], 220)],
                        [("a", "b")]),
    "a billion units": graph_of([layer("a", "InputLayer", [None, 10**9]), layer("b", "Dense", [None, 1], 10**9 + 1)],
                                [("a", "b")]),
}


@pytest.mark.parametrize("name", sorted(ODD_GRAPHS))
def test_odd_graphs_render_in_every_view_without_raising(name):
    for view in VIEWS:
        for expand in (False, True):
            data = render_view(ODD_GRAPHS[name], view, "md" if view == "summary" else "svg",
                               RenderOptions(expand_nested=expand), ViewOptions(collapse_repeats=True))
            assert data.startswith(b"###" if view == "summary" else b"<svg"), (view, expand)
