"""Discovery and build mends from real scripts: each fixture in ``tests/fixtures/mends/`` is built
for real through ``Engine.build`` (or read by ``discover``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from real_builds import copy_and_build

from netviz_lsp.discovery import discover
from netviz_lsp.discovery.effects import classify
from netviz_lsp.discovery.facts import facts
from netviz_lsp.discovery.parse import parse
from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult

MENDS = Path(__file__).resolve().parent / "fixtures" / "mends"


def build(engine: Engine, tmp_path: Path, name: str, edit=None) -> tuple[FileResult, Path]:
    return copy_and_build(engine, MENDS / name, tmp_path, edit)


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_sequential_without_input_that_a_factory_calls_draws_with_the_shape_it_was_called_with(engine, tmp_path):
    result, _ = build(engine, tmp_path, "shared_projection_head.py")
    assert result.errors == []
    projection = result.model("projection")
    assert projection is not None
    assert projection.total_params == 128 * 64 + 64 + 64 * 32 + 32
    assert [layer.output_shape for layer in projection.layers] == [[None, 64], [None, 64], [None, 32]]
    assert projection.build.note is None
    # One nothing calls stays unbuilt, and says so.
    unused = result.model("unused_head")
    assert unused is not None and "no known input shape" in (unused.build.note or "")


def test_a_files_own_load_data_is_judged_by_its_body_not_as_a_keras_download(tmp_path):
    path = MENDS / "tabular_churn.py"
    found = discover(path.read_text(), str(path), {})
    (error,) = found.errors
    read, needs = line_of(path, 'df = load_data("churn.csv")'), line_of(path, "n_features = features.shape[1]")
    assert (error.factory, error.line) == ("build_classifier", line_of(path, "def build_classifier("))
    assert error.message == (
        f"`n_features` (line {needs}) needs `df`, which comes from a file read at line {read}; NetViz does not "
        f"run that. Add `# netviz: value=...` on line {needs} to stand in for it.")
    assert found.stand_ins == {"build_classifier": [("n_features", needs)]}


@pytest.mark.parametrize("imports, call", [
    ("import keras", "keras.datasets.mnist.load_data()"),
    ("from tensorflow.keras.datasets import mnist", "mnist.load_data()"),
    ("import tensorflow as tf\nmnist = tf.keras.datasets.mnist", "mnist.load_data()"),
    ("from keras.datasets.imdb import load_data", "load_data(num_words=10000)"),
])
def test_keras_dataset_loaders_still_download_under_any_alias(imports, call):
    source = f"{imports}\ndata = {call}\n"
    known = facts(parse(source, "t.py")).aliases
    assert classify(ast.parse(source).body[-1], known) == "downloads"


def test_a_with_block_binding_a_value_in_one_assignment_of_several_says_where_its_stand_in_goes(engine, tmp_path):
    path = MENDS / "intent_classifier.py"
    found = discover(path.read_text(), str(path), {})
    (error,) = found.errors
    block, binding = line_of(path, "with open(\"artifacts/tokenizer_export.txt\""), line_of(path, "vocabulary = [")
    assert (error.factory, error.line) == ("model", line_of(path, "model = keras.Sequential("))
    assert error.message == (
        f"`vocabulary` is set in the `with` block at line {block}; NetViz does not run it. Add "
        f"`# netviz: value=...` at the end of line {binding}, in the block, to stand in for it.")
    assert found.stand_ins == {"model": [("vocabulary", binding)]}

    # The comment it asks for makes the block run as that assignment; the intents config read runs.
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / "intents.json").write_text('{"intents": ["refund", "delivery", "login"]}')
    result, _ = build(engine, tmp_path, "intent_classifier.py", lambda source: source.replace(
        "for line in handle]", 'for line in handle]  # netviz: value=["[PAD]"] * 19_999'))
    assert result.errors == []
    model = result.model("model")
    assert model is not None and model.layers[-1].output_shape == [None, 3]
    embedding = next(layer for layer in model.layers if layer.class_name == "Embedding")
    assert embedding.params == 20_000 * 64


def test_comments_on_two_assignments_of_a_with_block_run_it_as_one_assignment_of_both():
    path = MENDS / "intent_classifier.py"
    source = path.read_text().replace(
        "for line in handle]", "for line in handle]  # netviz: value=['[PAD]'] * 99").replace(
        '    print(f"{len(vocabulary)} tokens")', "    oov_index = vocabulary.index('[UNK]')  # netviz: value=1")
    found = discover(source, str(path), {})
    assert found.errors == []
    (text,) = [t for t in found.replacements.values() if "vocabulary" in t]
    assert text == "(vocabulary), (oov_index) = (['[PAD]'] * 99), (1)"


def test_a_siamese_network_draws_one_tower_fed_by_both_inputs_and_feeding_the_distance(engine, tmp_path):
    result, _ = build(engine, tmp_path, "siamese_signatures.py")
    assert result.errors == []
    siamese = result.model("make_siamese")
    assert siamese is not None and siamese.total_params == 21_936 + 2
    assert [layer.id for layer in siamese.layers if layer.parent is None] == [
        "left", "right", "tower", "distance", "dense_1"]
    edges = [tuple(edge) for edge in siamese.edges]
    assert {("left", "tower"), ("right", "tower"), ("tower", "distance"), ("distance", "dense_1")} <= set(edges)
    # The contract's edges are pairs without repeats: the tower's two calls into the distance are one pair.
    assert edges.count(("tower", "distance")) == 1
