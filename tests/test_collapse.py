"""``render/collapse.py`` on real graphs: ResNet50 and a siamese network with a nested model.

The graphs are the ones the editor-client's fixtures recorded from real builds. Their
groups are made here by name prefix, as ``groups.py`` makes ResNet50's (stages ``conv2``…
``conv5``, blocks ``conv2_block1``…), so this module does not depend on it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from netviz_lsp.graph import Group, ModelGraph
from netviz_lsp.render import render
from netviz_lsp.settings import RenderOptions
from netviz_lsp.render.collapse import COLLAPSE_OVER, collapse, default_expanded, is_collapsed

FIXTURES = Path(__file__).parent.parent / "editor-client" / "test" / "fixtures"


def fixture_graph(name: str, factory: str | None = None) -> ModelGraph:
    data = json.loads((FIXTURES / name).read_text())
    model = next(m for m in data["models"] if factory is None or m["factory"] == factory)
    return ModelGraph.from_dict(model["graph"])


def resnet50() -> ModelGraph:
    """ResNet50 with stage groups (conv2..conv5) holding block groups (conv2_block1..)."""
    graph = fixture_graph("resnet50.diagram.json")
    params = {layer.id: layer.params for layer in graph.layers}
    stages: dict[str, list[str]] = {}
    blocks: dict[str, list[str]] = {}
    for layer in graph.layers:
        match = re.match(r"(conv\d)_(block\d+)_", layer.id)
        if match:
            stages.setdefault(match[1], []).append(layer.id)
            blocks.setdefault(f"{match[1]}_{match[2]}", []).append(layer.id)
    groups = []
    for stage, ids in stages.items():
        groups.append(Group(id=f"group:{stage}", label=stage, kind="block", layers=ids,
                            params=sum(params[i] for i in ids)))
        for block, block_ids in blocks.items():
            if block.startswith(stage + "_"):
                groups.append(Group(id=f"group:{block}", label=block, kind="block", layers=block_ids,
                                    parent=f"group:{stage}", params=sum(params[i] for i in block_ids)))
    graph.groups = groups
    return graph


def test_resnet50_collapses_to_stem_four_stages_and_head():
    graph = resnet50()
    assert len(graph.layers) > COLLAPSE_OVER and default_expanded(graph) == set()
    top = collapse(graph, set())
    ids = [layer.id for layer in top.layers]
    assert ids == ["input_layer", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
                   "group:conv2", "group:conv3", "group:conv4", "group:conv5", "avg_pool", "predictions"]
    assert ["pool1_pool", "group:conv2"] in top.edges and ["group:conv5", "avg_pool"] in top.edges
    assert ["group:conv2", "group:conv3"] in top.edges
    assert all(src != dst for src, dst in top.edges)
    assert len(top.edges) == len({tuple(e) for e in top.edges})
    # Only the stages are left: the blocks are inside collapsed groups.
    assert [g.id for g in top.groups] == ["group:conv2", "group:conv3", "group:conv4", "group:conv5"]
    conv2 = next(layer for layer in top.layers if layer.id == "group:conv2")
    originals = {layer.id: layer for layer in graph.layers}
    assert conv2.name == "conv2" and conv2.class_name == "Block"
    assert conv2.output_shape == originals["conv2_block3_out"].output_shape == [None, 56, 56, 256]
    stage_layers = next(g for g in graph.groups if g.id == "group:conv2").layers
    assert conv2.params == sum(originals[i].params for i in stage_layers) == 220_032
    assert conv2.line == originals["conv2_block1_1_conv"].line
    # The totals are the model's, not the drawing's.
    assert top.total_params == graph.total_params == 25_636_712
    # The input is not changed.
    assert len(graph.layers) == 177 and not is_collapsed(graph) and is_collapsed(top)


def test_expanding_a_stage_shows_its_blocks_and_a_block_shows_its_layers():
    graph = resnet50()
    stage = collapse(graph, {"group:conv3"})
    ids = [layer.id for layer in stage.layers]
    assert ids[7:14] == ["group:conv2", "group:conv3_block1", "group:conv3_block2", "group:conv3_block3",
                         "group:conv3_block4", "group:conv4", "group:conv5"]
    assert ["group:conv3_block1", "group:conv3_block2"] in stage.edges
    assert ["group:conv2", "group:conv3_block1"] in stage.edges
    assert {g.id for g in stage.groups} >= {"group:conv3", "group:conv3_block4"}
    assert "group:conv2_block1" not in {g.id for g in stage.groups}

    block = collapse(graph, {"group:conv3", "group:conv3_block2"})
    ids = [layer.id for layer in block.layers]
    inner = [i for i in ids if i.startswith("conv3_block2_")]
    assert inner[0] == "conv3_block2_1_conv" and inner[-1] == "conv3_block2_out" and len(inner) == 10
    # The residual: block 1 feeds block 2's first conv and its add.
    assert ["group:conv3_block1", "conv3_block2_1_conv"] in block.edges
    assert ["group:conv3_block1", "conv3_block2_add"] in block.edges
    assert ["conv3_block2_out", "group:conv3_block3"] in block.edges


def test_a_block_expanded_under_a_collapsed_stage_stays_hidden():
    graph = resnet50()
    hidden = collapse(graph, {"group:conv3_block2"})
    assert [layer.id for layer in hidden.layers] == [layer.id for layer in collapse(graph, set()).layers]


def test_everything_expanded_draws_every_layer_and_collapsing_twice_changes_nothing():
    graph = resnet50()
    every = {g.id for g in graph.groups}
    full = collapse(graph, every)
    assert [layer.id for layer in full.layers] == [layer.id for layer in graph.layers]
    assert full.edges == graph.edges
    once = collapse(graph, {"group:conv4"})
    twice = collapse(once, {"group:conv4"})
    assert twice.to_dict() == once.to_dict()


def test_a_nested_group_is_its_model_layer_collapsed_or_expanded():
    graph = fixture_graph("nested.diagram.json", "siamese")
    inner = [layer.id for layer in graph.layers if layer.parent == "shared_features"]
    graph.groups = [Group(id="group:shared_features", label="shared_features", kind="nested",
                          layers=["shared_features", *inner], params=512)]
    # Collapsing absorbs nothing: the model layer keeps its id and the renderer hides its inside.
    assert collapse(graph, set()).layers == graph.layers
    assert collapse(graph, set()).edges == graph.edges
    closed = render(graph, "svg", RenderOptions(expand_groups=()))
    opened = render(graph, "svg", RenderOptions(expand_groups=("group:shared_features",)))
    assert node_ids(closed) == {"left", "right", "shared_features", "subtract", "same"}
    assert node_ids(opened) == {"left", "right", "subtract", "same", *inner}
    assert 'id="shared_features" class="cluster layer layer&#45;model"' in opened.decode()
    # No expand_groups: nested models follow expand_nested, as before groups.
    assert node_ids(render(graph, "svg")) == node_ids(closed)
    assert node_ids(render(graph, "svg", RenderOptions(expand_nested=True))) == node_ids(opened)


def node_ids(svg: bytes) -> set[str]:
    return set(re.findall(r'<g id="([^"]+)" class="node', svg.decode()))


def test_drawn_resnet50_has_its_groups_as_nodes_and_boxes():
    graph = resnet50()
    svg = render(graph, "svg").decode()
    assert node_ids(svg.encode()) == {"input_layer", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad",
                                      "pool1_pool", "group:conv2", "group:conv3", "group:conv4", "group:conv5",
                                      "avg_pool", "predictions"}
    assert 'id="group:conv2" class="node layer layer&#45;group group&#45;collapsed group&#45;block"' in svg
    assert "32 layers · 220,032 params" in svg
    opened = render(graph, "svg", RenderOptions(expand_groups=("group:conv2",), edge_shapes=True)).decode()
    assert 'id="group:conv2" class="cluster group group&#45;expanded group&#45;block"' in opened
    assert {"group:conv2_block1", "group:conv2_block3"} <= node_ids(opened.encode())
    assert re.search(r"<g id=\"edge\d+\" class=\"edge\">.*?> \(None, 56, 56, 256\)</text>", opened, re.DOTALL)


def test_the_other_views_draw_a_grouped_graph_layer_by_layer():
    """Groups are the graph view's: plot_model's view draws every layer, as before groups."""
    from netviz_lsp.render import render_view

    graph = resnet50()
    keras_ids = node_ids(render_view(graph, "keras", "svg"))
    assert {layer.id for layer in graph.layers} <= keras_ids and not any(i.startswith("group:") for i in keras_ids)
    for view in ("layered", "neuron"):
        assert render_view(graph, view, "svg").startswith(b"<svg")
