"""An error's partial graph drawn: the layer whose call raised in the error style, the message beside it.

The graph is the one the worker reports for editor-client/test/fixtures/mismatched_add.py
(a tabular classifier whose ``Add`` receives ``(None, 8)`` and ``(None, 9)``), written out by
hand so these tests need no Keras; the real ``dot`` draws it. The server's side
(``builds.render_partials``, ``publish.partial_diagrams``) is tested on the same graph.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

import pytest

from netviz_lsp.graph import BuildError, BuildInfo, Layer, ModelGraph
from netviz_lsp.render import model_to_dot, run_dot
from netviz_lsp.render.dot import NOTE_NAME
from netviz_lsp.server.builds import render_partials
from netviz_lsp.server.publish import partial_diagrams
from netviz_lsp.settings import RenderOptions

pytestmark = pytest.mark.needs_tool("dot", reason="Graphviz dot is not installed")  # tests/conftest.py

SVG = "{http://www.w3.org/2000/svg}"
MESSAGE = "ValueError: Inputs have incompatible shapes. Received shapes (8,) and (9,)"


def layer(id, class_name, shape, params=0, line=None, activation=None, failed=False):
    return Layer(id=id, name=id, class_name=class_name, line=line, call_lines=[line] if line else [],
                 output_shape=shape, params=params, trainable=True, activation=activation, dtype="float32",
                 trainable_params=params, failed=failed)


def partial_graph() -> ModelGraph:
    """``build_classifier`` of mismatched_add.py up to its failing ``Add`` (line 21)."""
    layers = [
        layer("features", "InputLayer", [None, 20], line=18),
        layer("hidden", "Dense", [None, 8], 168, line=19, activation="relu"),
        layer("skip", "Dense", [None, 9], 189, line=20, activation="linear"),
        layer("merge", "Add", None, line=21, failed=True),
    ]
    edges = [["features", "hidden"], ["features", "skip"], ["hidden", "merge"], ["skip", "merge"]]
    return ModelGraph(factory="build_classifier", line=17, class_name="Functional", total_params=357,
                      trainable_params=357, non_trainable_params=0, inputs=[[None, 20]], outputs=[],
                      build=BuildInfo(ms=12.0, shape_only=True), layers=layers, edges=edges)


def svg_of(graph: ModelGraph, failure, options=RenderOptions()) -> ET.Element:
    return ET.fromstring(run_dot(model_to_dot(graph, options, failure=failure), "svg"))


def groups(svg: ET.Element) -> dict[str, ET.Element]:
    return {g.get("id"): g for g in svg.iter(f"{SVG}g") if g.get("id")}


def text_of(element: ET.Element) -> str:
    return " ".join(t.text or "" for t in element.iter(f"{SVG}text"))


def test_the_failed_layer_is_drawn_in_the_error_style_with_the_message_beside_it():
    graph = partial_graph()
    svg = svg_of(graph, MESSAGE)
    by_id = groups(svg)

    assert by_id["merge"].get("class") == "node layer layer-merge layer-failed"
    assert "this call raised" in text_of(by_id["merge"])
    for ok in ("features", "hidden", "skip"):
        assert "layer-failed" not in by_id[ok].get("class")
    assert "(None, 9)" in text_of(by_id["skip"])

    note = by_id[NOTE_NAME]
    assert note.get("class") == "node failure-note", "the note is no layer: the panel maps no click to it"
    assert "merge failed" in text_of(note)
    assert re.sub(r"\s+", " ", text_of(note)).endswith("ValueError: Inputs have incompatible shapes. Received shapes (8,) and (9,)")
    links = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "edge failure-link"]
    assert len(links) == 1
    assert "drawn up to the error" in text_of(svg.find(f"{SVG}g"))

    # Beside it: the note shares the failed layer's rank (its box is level with the layer's).
    def middle_y(g):
        shapes = [*(p.get("d") for p in g.iter(f"{SVG}path")), *(p.get("points") for p in g.iter(f"{SVG}polygon"))]
        ys = [float(y) for shape in shapes for _, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", shape)]
        return (min(ys) + max(ys)) / 2

    assert abs(middle_y(note) - middle_y(by_id["merge"])) < 12


def test_exports_show_the_error_colours_and_the_drawing_is_deterministic():
    graph = partial_graph()
    first = model_to_dot(graph, RenderOptions(), failure=MESSAGE)
    assert first == model_to_dot(partial_graph(), RenderOptions(), failure=MESSAGE)
    merge_node = next(line for line in first.splitlines() if line.lstrip().startswith("merge "))
    assert 'BGCOLOR="#fde7e9"' in merge_node and 'COLOR="#d1242f"' in merge_node
    assert re.search(r"\{rank=same; merge; " + NOTE_NAME + r"\}", first)


def test_without_a_failure_message_no_note_is_drawn():
    graph = partial_graph()
    source = model_to_dot(graph, RenderOptions())
    assert NOTE_NAME not in source and "failure-link" not in source and "up to the error" not in source
    assert 'class="layer layer-merge layer-failed"' in source, "the failed layer keeps its error style"
    good = dataclasses.replace(graph, layers=[dataclasses.replace(l, failed=False) for l in graph.layers])
    assert "layer-failed" not in model_to_dot(good, RenderOptions())


def test_a_build_that_failed_after_its_layers_puts_the_note_under_the_last_one():
    """``compile(optimizer=Adam(lr=...))`` fails once every layer was built: no layer failed."""
    graph = partial_graph()
    built = dataclasses.replace(graph, layers=[dataclasses.replace(l, failed=False, output_shape=[None, 8])
                                               if l.failed else l for l in graph.layers])
    message = "ValueError: Argument(s) not recognized: {'lr': 0.001}"
    source = model_to_dot(built, RenderOptions(), failure=message)
    assert "rank=same" not in source
    assert re.search(r"\tmerge -> " + NOTE_NAME + r" \[style=dashed", source)
    note = groups(svg_of(built, message))[NOTE_NAME]
    assert "The build failed here" in text_of(note) and "{'lr': 0.001}" in text_of(note)


def test_user_text_in_the_message_stays_text():
    hostile = 'Layer "<img src=x onerror=alert(1)>" got ]] & "quotes"\nsecond line \\N \\G'
    svg = svg_of(partial_graph(), hostile)
    note = groups(svg)[NOTE_NAME]
    assert not list(svg.iter(f"{SVG}img")) and not list(svg.iter("img"))
    shown = text_of(note)
    assert '"<img src=x onerror=alert(1)>"' in shown and ']] & "quotes"' in shown
    assert "\\N \\G" in shown, "Graphviz's escapes are not expanded"


def test_a_long_message_is_wrapped_and_cut_while_the_tooltip_keeps_it_whole():
    traceback_like = "\n".join([
        "Exception encountered when calling Add.call().",
        "",
        "Inputs have incompatible shapes. " * 12,
        "Arguments received by Add.call():",
        "  • inputs=['<KerasTensor shape=(None, 8), dtype=float32>', '<KerasTensor shape=(None, 9)>']",
    ])
    svg = svg_of(partial_graph(), traceback_like)
    note = groups(svg)[NOTE_NAME]
    lines = [t.text for t in note.iter(f"{SVG}text")]
    assert lines[0] == "merge failed"
    assert len(lines) == 1 + 6
    assert all(len(line) <= 56 for line in lines[1:])
    assert lines[-1].endswith("\u2026")
    tooltip = note.find(f"{SVG}g/{SVG}a").get("{http://www.w3.org/1999/xlink}title")
    assert "inputs=[" in tooltip


def test_the_note_never_takes_a_layers_id():
    graph = partial_graph()
    clash = dataclasses.replace(graph, layers=[*graph.layers, layer(NOTE_NAME, "Dense", [None, 1], 9)],
                                edges=[*graph.edges, ["hidden", NOTE_NAME]])
    by_id = groups(svg_of(clash, MESSAGE))
    assert by_id[NOTE_NAME].get("class") == "node layer layer-dense"
    assert by_id[f"{NOTE_NAME}~2"].get("class") == "node failure-note"


def test_the_server_draws_each_failed_targets_partial_in_the_order_of_its_errors():
    graph = partial_graph()
    second = dataclasses.replace(graph, factory="build_wide")
    errors = [
        BuildError("arguments", "build_regressor needs arguments", 30, "build_regressor"),
        BuildError("build", MESSAGE, 21, "build_classifier", call_lines=[21], graph=graph),
        BuildError("build", "broken", 40, "build_wide", graph=second),
    ]
    drawn = render_partials(errors, RenderOptions(rankdir="LR"))
    assert set(drawn) == {"build_classifier", "build_wide"}
    svg = ET.fromstring(drawn["build_classifier"])
    assert groups(svg)["merge"].get("class") == "node layer layer-merge layer-failed"
    assert MESSAGE.split(": ")[1][:30] in text_of(groups(svg)[NOTE_NAME])

    sent = partial_diagrams(errors, drawn)
    assert [p.factory for p in sent] == ["build_classifier", "build_wide"]
    assert sent[0].svg == drawn["build_classifier"]
    # In the notebook order the errors are sent in, the partials follow.
    assert [p.factory for p in partial_diagrams(errors[::-1], drawn)] == ["build_wide", "build_classifier"]


def test_a_partial_that_cannot_be_drawn_is_sent_without_svg():
    error = BuildError("build", MESSAGE, 21, "build_classifier", graph=partial_graph())
    drawn = render_partials([error], RenderOptions(rankdir="sideways"))  # model_to_dot refuses it
    assert drawn == {"build_classifier": None}
    assert [(p.factory, p.svg) for p in partial_diagrams([error], drawn)] == [("build_classifier", None)]


def test_a_notebooks_partial_graph_and_call_chain_reach_the_panel_in_cells_and_cell_lines():
    """The server builds a notebook's joined text; what it sends names cells and cell-local lines."""
    from netviz_lsp import notebook as nb
    from netviz_lsp.server.notebooks import for_contract

    cells = [
        nb.Cell(0, "markdown", "# Tabular classifier"),
        nb.Cell(1, "code", "%matplotlib inline\nimport keras\nfrom keras import layers"),
        nb.Cell(2, "code", "def merge_paths(a, b):\n    return layers.Add(name='merge')([a, b])"),
        nb.Cell(3, "code", "features = keras.Input(shape=(20,), name='features')\n"
                           "hidden = layers.Dense(8, activation='relu', name='hidden')(features)\n"
                           "skip = layers.Dense(9, name='skip')(features)\n"
                           "merged = merge_paths(hidden, skip)"),
    ]
    joined = nb.join(cells)
    assert joined.where(5) == (2, 2) and joined.where(9) == (3, 4)
    graph = partial_graph()
    at = {"features": 6, "hidden": 7, "skip": 8, "merge": 5}
    graph = dataclasses.replace(graph, line=9, layers=[
        dataclasses.replace(l, line=at[l.id], call_lines=[at[l.id], 9] if l.id == "merge" else [at[l.id]])
        for l in graph.layers])
    error = BuildError("build", MESSAGE, 5, "merged", call_lines=[5, 9], graph=graph)

    _, [sent] = for_contract([], [error], joined)
    assert (sent.cell, sent.line, sent.call_lines, sent.call_cells) == (2, 2, [2, 4], [2, 3])
    assert [(l.id, l.cell, l.line) for l in sent.graph.layers] == [
        ("features", 3, 1), ("hidden", 3, 2), ("skip", 3, 3), ("merge", 2, 2)]
    assert sent.graph.layers[3].failed and sent.graph.layers[3].call_cells == [2, 3]
    assert [p.factory for p in partial_diagrams([sent], {"merged": "<svg/>"})] == ["merged"]
    assert error.graph.layers[0].line == 6, "the server's own error keeps joined lines"


def test_in_a_big_partial_graph_the_groups_holding_the_failed_layer_stay_open():
    """Over 120 layers a drawing collapses every group; the failure must still show."""
    from netviz_lsp.graph import Group
    from netviz_lsp.render import partial_options

    stem = [layer("input", "InputLayer", [None, 64], line=5)]
    blocks = [layer(f"stage{s}_block{b}_dense", "Dense", [None, 64], 4160, line=9)
              for s in (1, 2) for b in range(64)]
    head = [layer("head_dense", "Dense", [None, 10], 650, line=12), layer("head_add", "Add", None, line=13, failed=True)]
    layers = stem + blocks + head
    edges = [[a.id, b.id] for a, b in zip(layers, layers[1:])]
    found = [Group("stage1", "stage1", "block", [l.id for l in blocks[:64]], None, 64 * 4160),
              Group("stage2", "stage2", "block", [l.id for l in blocks[64:]], None, 64 * 4160),
              Group("head", "head", "block", [l.id for l in head], None, 650),
              Group("head_inner", "head_add", "block", ["head_add"], "head", 0)]
    graph = dataclasses.replace(partial_graph(), layers=layers, edges=edges, groups=found)

    options = partial_options(graph, RenderOptions())
    assert options.expand_groups == ("head", "head_inner"), "the stages stay collapsed, the failure's groups open"
    drawn = groups(ET.fromstring(render_partials([BuildError("build", MESSAGE, 13, "build_classifier", graph=graph)],
                                                 RenderOptions())["build_classifier"]))
    assert drawn["head_add"].get("class") == "node layer layer-merge layer-failed"
    assert "stage1_block0_dense" not in drawn, "a stage is one node"
    assert NOTE_NAME in drawn
    assert partial_options(partial_graph(), RenderOptions()) == RenderOptions(), "no groups: the options as they are"
    asked = partial_options(graph, RenderOptions(expand_groups=("stage1",)))
    assert asked.expand_groups == ("head", "head_inner", "stage1")
