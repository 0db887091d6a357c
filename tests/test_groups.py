"""Groups (``ModelGraph.groups``) of real builds: ResNet50's stem, stages and blocks, NASNetLarge's
cells, a transformer built from named blocks (flat and as nested models), repeated and nested
blocks; and the name rules on their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult, Group, ModelGraph
from netviz_lsp.groups import auto_named, cell_of, compute_groups, name_prefixes
from netviz_lsp.graph import Layer
from netviz_lsp.settings import Settings
from netviz_lsp.worker.pool import BuildPool

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "groups"


@pytest.fixture(scope="module")
def built():
    pool = BuildPool()
    engine = Engine(pool)
    results: dict[str, FileResult] = {}
    try:
        for name in ("applications", "transformer_blocks", "repeated_blocks"):
            path = FIXTURES / f"{name}.py"
            results[name] = engine.build(str(path), path.read_text(encoding="utf-8"), Settings())
    finally:
        pool.close()
    for result in results.values():
        assert result.errors == []
    return results


def model(built, file: str, target: str) -> ModelGraph:
    graph = built[file].model(target)
    assert graph is not None
    return graph


def children(graph: ModelGraph, parent) -> list[Group]:
    return [g for g in graph.groups if g.parent == parent]


def check_tree(graph: ModelGraph) -> None:
    """What holds for every model: distinct ids, parents first, layers nested as the groups are."""
    layer_ids = [layer.id for layer in graph.layers]
    position = {layer_id: i for i, layer_id in enumerate(layer_ids)}
    by_id = {layer.id: layer for layer in graph.layers}
    seen: dict[str, Group] = {}
    for group in graph.groups:
        assert group.id not in position and group.id not in seen
        assert group.kind in ("nested", "repeat", "block")
        assert group.parent is None or group.parent in seen, f"{group.id} comes before its parent"
        if group.parent is not None:
            assert set(group.layers) < set(seen[group.parent].layers)
        assert group.layers == sorted(group.layers, key=position.__getitem__)
        inner = {by_id[i].parent for i in group.layers}
        assert group.params == sum(by_id[i].params for i in group.layers if i not in inner)
        seen[group.id] = group
    for a in graph.groups:
        for b in graph.groups:
            overlap = set(a.layers) & set(b.layers)
            assert not overlap or set(a.layers) <= set(b.layers) or set(b.layers) <= set(a.layers)


def test_resnet50_opens_as_its_stem_four_stages_and_head(built):
    resnet = model(built, "applications", "resnet")
    check_tree(resnet)
    top = children(resnet, None)
    assert [g.label for g in top] == ["stem", "conv2", "conv3", "conv4", "conv5", "head"]
    assert all(g.kind == "block" for g in resnet.groups)
    ungrouped = {layer.id for layer in resnet.layers} - {i for g in top for i in g.layers}
    assert ungrouped == {"input_layer"}
    assert sum(g.params for g in top) == resnet.total_params == 25_636_712 - 2048 * 1000 - 1000 + 2048 * 5 + 5

    stem = top[0]
    assert stem.layers == ["conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool"]
    assert stem.params == 64 * 7 * 7 * 3 + 64 + 4 * 64
    assert top[-1].layers == ["avg_pool", "predictions"]

    blocks = {stage.label: [b.label for b in children(resnet, stage.id)] for stage in top[1:5]}
    assert blocks == {f"conv{s}": [f"conv{s}_block{b}" for b in range(1, n + 1)]
                      for s, n in ((2, 3), (3, 4), (4, 6), (5, 3))}
    block = next(g for g in resnet.groups if g.label == "conv2_block1")
    assert block.id == "group:conv2_block1" and block.parent == "group:conv2"
    assert block.layers == [
        "conv2_block1_1_conv", "conv2_block1_1_bn", "conv2_block1_1_relu", "conv2_block1_2_conv",
        "conv2_block1_2_bn", "conv2_block1_2_relu", "conv2_block1_0_conv", "conv2_block1_3_conv",
        "conv2_block1_0_bn", "conv2_block1_3_bn", "conv2_block1_add", "conv2_block1_out"]
    assert children(resnet, block.id) == []
    every_block = [g for g in resnet.groups if "_block" in g.label]
    assert len(every_block) == 16
    assert all(layer_id.startswith(g.label + "_") for g in every_block for layer_id in g.layers)


def test_nasnet_large_opens_as_its_cells_and_stages(built):
    nasnet = model(built, "applications", "nasnet")
    check_tree(nasnet)
    top = children(nasnet, None)
    assert [g.label for g in top] == [
        "stem", "reduction cell stem_1", "reduction cell stem_2", "normal cells 0\u20135",
        "reduction cell reduce_6", "normal cells 7\u201312", "reduction cell reduce_12",
        "normal cells 13\u201318", "head"]
    assert [g.label for g in children(nasnet, "group:cells_7-12")] == [f"normal cell {n}" for n in range(7, 13)]
    grouped = {i for g in top for i in g.layers}
    assert {layer.id for layer in nasnet.layers} - grouped == {"input_layer"}
    assert sum(g.params for g in top) == nasnet.total_params
    cell = next(g for g in nasnet.groups if g.id == "group:cell_3")
    assert "separable_conv_1_normal_left1_3" in cell.layers and "normal_concat_3" in cell.layers
    # the automatically named ReLU before a separable convolution is in the cell that uses it
    relu = next(src for src, dst in nasnet.edges if dst == "separable_conv_1_normal_left1_3")
    assert relu.startswith("activation") and relu in cell.layers
    assert top[-1].layers[-2:] == ["global_average_pooling2d", "predictions"]


def test_other_applications_open_as_their_stages_or_blocks(built):
    def top(target):
        graph = model(built, "applications", target)
        check_tree(graph)
        grouped = {i for g in children(graph, None) for i in g.layers}
        assert {layer.id for layer in graph.layers} - grouped == {"input_layer"}
        return [g.label for g in children(graph, None)]

    assert top("efficientnet") == ["stem", "block1a", "block2", "block3", "block4", "block5", "block6", "block7a",
                                   "head"]
    assert top("mobilenet") == ["stem", *[f"block_{n}" for n in range(1, 17)], "head"]
    assert top("vgg") == ["block1", "block2", "block3", "block4", "block5", "head"]
    # InceptionV3 names its layers automatically but for each module's last: mixed0 ... mixed10
    assert top("inception") == [f"mixed{n}" for n in range(11)] + ["head"]
    efficientnet = model(built, "applications", "efficientnet")
    assert [g.label for g in children(efficientnet, "group:block2")] == ["block2a", "block2b"]
    mixed9 = next(g for g in model(built, "applications", "inception").groups if g.label == "mixed9")
    assert "mixed9_0" in mixed9.layers and mixed9.layers[-1] == "mixed9"


def test_a_transformer_built_from_named_blocks(built):
    flat = model(built, "transformer_blocks", "text_classifier")
    check_tree(flat)
    assert [(g.id, g.kind, g.parent) for g in flat.groups] == [
        (f"group:transformer_layer_{i}", "block", None) for i in range(3)]
    first = flat.groups[0]
    assert [i for i in first.layers if not i.startswith("add")] == [
        "transformer_layer_0_attention", "transformer_layer_0_attention_norm",
        "transformer_layer_0_ffn_intermediate", "transformer_layer_0_ffn_output", "transformer_layer_0_ffn_norm"]
    assert len(first.layers) == 7  # and the two residual Adds, named by Keras, between them
    hidden = 64
    attention = 4 * (hidden * hidden + hidden)
    ffn = hidden * 4 * hidden + 4 * hidden + 4 * hidden * hidden + hidden
    assert first.params == attention + ffn + 2 * 2 * hidden

    nested = model(built, "transformer_blocks", "nested_classifier")
    check_tree(nested)
    assert [(g.id, g.label, g.kind) for g in nested.groups] == [
        (f"group:transformer_layer_{i}", f"transformer_layer_{i}", "nested") for i in range(3)]
    block = nested.groups[1]
    assert block.layers[0] == "transformer_layer_1"
    assert "transformer_layer_1/ffn_output" in block.layers and len(block.layers) == 9
    assert block.params == first.params


def test_repeated_and_nested_blocks(built):
    vgg = model(built, "repeated_blocks", "vgg_like")
    check_tree(vgg)
    repeat = [g for g in vgg.groups if g.kind == "repeat"]
    assert len(repeat) == 1 and repeat[0].label.endswith("\u00d7 5") and repeat[0].parent is None
    copies = children(vgg, repeat[0].id)
    assert [c.label.rsplit(" ", 1)[1] for c in copies] == [f"{n}/5" for n in range(1, 6)]
    assert all(len(c.layers) == 3 and c.kind == "block" for c in copies)
    assert {tuple(sorted(vgg_layer_class(vgg, c.layers))) for c in copies} == {
        ("BatchNormalization", "Conv2D", "ReLU")}
    assert repeat[0].params == 5 * copies[0].params
    assert "dense" not in repeat[0].layers and "conv2d" not in repeat[0].layers

    classifier = model(built, "repeated_blocks", "classifier")
    check_tree(classifier)
    assert [(g.id, g.kind, g.layers[0], g.params) for g in classifier.groups] == [
        ("group:features", "nested", "features", 3 * 3 * 3 * 32 + 32 + 3 * 3 * 32 * 64 + 64)]
    assert model(built, "repeated_blocks", "feature_extractor").groups == []


def vgg_layer_class(graph: ModelGraph, ids: list[str]) -> list[str]:
    by_id = {layer.id: layer for layer in graph.layers}
    return [by_id[i].class_name for i in ids]


# -- the name rules, without a build ------------------------------------------------------------

def test_name_prefixes():
    assert name_prefixes("conv2_block1_1_conv") == ["conv2", "conv2_block1"]
    assert name_prefixes("conv2_block1_out") == ["conv2", "conv2_block1"]
    assert name_prefixes("transformer_layer_3_attention") == ["transformer_layer_3"]
    assert name_prefixes("block_16_project_BN") == ["block_16"]
    assert name_prefixes("block1a_dwconv") == ["block1", "block1a"]  # EfficientNet: block 1a of stage 1
    assert name_prefixes("stem_conv1") == []
    assert name_prefixes("conv2") == []


def test_cells_and_automatic_names():
    assert cell_of("separable_conv_1_normal_left1_3") == "3"
    assert cell_of("reduction_add_1_reduce_6") == "reduce_6"
    assert cell_of("adjust_relu_1_stem_2") == "stem_2"
    assert cell_of("normal_concat_18") == "18"
    assert cell_of("conv2_block1_1_conv") is None and cell_of("dense_3") is None

    def layer(name, cls):
        return Layer(name, name, cls, None, [], None, 0, True)

    assert auto_named(layer("conv2d_3", "Conv2D")) and auto_named(layer("batch_normalization", "BatchNormalization"))
    assert auto_named(layer("re_lu_2", "ReLU")) and not auto_named(layer("conv1_conv", "Conv2D"))


def test_a_model_without_names_or_repeats_has_no_groups():
    layers = [Layer(n, n, c, None, [], [None, 4], 4, True) for n, c in
              (("dense", "Dense"), ("dropout", "Dropout"), ("dense_1", "Dense"))]
    graph = ModelGraph("mlp", 1, "Sequential", 8, 8, 0, [], [], build=None, layers=layers,
                       edges=[["dense", "dropout"], ["dropout", "dense_1"]])
    assert compute_groups(graph) == []
