"""Whole scripts and notebooks shaped like keras.io examples and tutorials, built for real.

Each fixture in ``tests/fixtures/tutorials/`` is a complete program (data loading, preprocessing,
the model, compile, fit, evaluate, plots), copied to a temporary folder and built through
``Engine.build`` on a worker whose HOME is empty, as the CLI and the server build it (notebooks
joined and mapped back to cells by ``netviz_lsp.notebook``). Each test says what the file draws:
its targets and their totals, checked against plain Keras 3 running the same layers, or the one
error of a model that needs a value from data NetViz never loads, and that the ``# netviz:
value=`` stand-in the error asks for makes it draw.
"""

from __future__ import annotations

import json
from pathlib import Path

from real_builds import copy_and_build, drawn, model

from netviz_lsp.discovery import discover
from netviz_lsp.discovery.facts import facts
from netviz_lsp.discovery.parse import parse
from netviz_lsp.engine import Engine
from netviz_lsp.graph import BuildError, FileResult, ModelGraph

TUTORIALS = Path(__file__).resolve().parent / "fixtures" / "tutorials"


def build(engine: Engine, tmp_path: Path, name: str, edit=None) -> tuple[FileResult, Path]:
    return copy_and_build(engine, TUTORIALS / name, tmp_path, edit)


def only_error(result: FileResult) -> BuildError:
    (error,) = result.errors
    return error


def line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text)


def top_level(graph: ModelGraph) -> list[str]:
    return [layer.class_name for layer in graph.layers if layer.parent is None]


def with_comment(after: str, comment: str):
    """An edit that puts ``comment`` at the end of the first line holding ``after``."""
    def edit(source: str) -> str:
        lines = source.splitlines(keepends=True)
        at = next(i for i, text in enumerate(lines) if after in text)
        lines[at] = lines[at].rstrip("\n") + f"  # netviz: {comment}\n"
        return "".join(lines)
    return edit


def in_cell(cell: int, after: str, comment: str):
    """``with_comment`` in a notebook's code cell ``cell`` (0-based, markdown cells counted)."""
    def edit(source: str) -> str:
        doc = json.loads(source)
        lines = doc["cells"][cell]["source"]
        at = next(i for i, text in enumerate(lines) if after in text)
        lines[at] = lines[at].rstrip("\n") + f"  # netviz: {comment}\n"
        return json.dumps(doc)
    return edit


# -- models that draw as they are ---------------------------------------------------------------

def test_image_classification_from_scratch_draws_make_model_from_its_constant_call(engine, tmp_path):
    result, path = build(engine, tmp_path, "image_classification_scratch.py")
    assert result.errors == []
    assert drawn(result) == {"data_augmentation": ("Sequential", 0), "make_model": ("Functional", 2_731_065)}
    # data_augmentation has no Input: Keras builds it when make_model calls it, so it draws with that shape.
    augmentation = model(result, "data_augmentation")
    assert [layer.output_shape for layer in augmentation.layers] == [[None, 180, 180, 3]] * 2
    assert augmentation.build.note is None
    net = model(result, "make_model")
    assert net.kind == "factory"  # make_model(input_shape=image_size + (3,), num_classes=2), evaluated
    assert net.layers[0].output_shape == [None, 180, 180, 3]
    assert top_level(net)[:3] == ["InputLayer", "Sequential", "Rescaling"]
    assert [layer.id for layer in net.layers if layer.parent] == ["sequential/random_flip", "sequential/random_rotation"]
    assert net.layers[-1].class_name == "Dense" and net.layers[-1].output_shape == [None, 1]
    assert net.layers[-1].line == line_of(path, "outputs = layers.Dense(units")
    # The folder walk, the dataset, the augmentation preview loop and fit never ran.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image_classification_scratch.py"]


def test_a_vae_draws_its_encoder_decoder_and_the_subclass_with_a_train_step(engine, tmp_path):
    result, _ = build(engine, tmp_path, "vae_mnist.py")
    assert result.errors == []
    assert drawn(result) == {"encoder": ("Functional", 69_076), "decoder": ("Functional", 65_089),
                             "vae": ("VAE", 134_165)}
    encoder = model(result, "encoder")
    assert "Sampling" in top_level(encoder)
    assert encoder.outputs == [[None, 2], [None, 2], [None, 2]]  # z_mean, z_log_var, z
    vae = model(result, "vae")
    assert [layer.id for layer in vae.layers if layer.parent is None] == ["encoder", "decoder"]
    assert vae.build.note == ("vae (VAE) defines no call(), so it has no forward pass to trace: "
                              "its models and layers are drawn unconnected")


def test_a_dcgan_draws_both_module_level_sequentials_and_the_gan_with_its_compile_override(engine, tmp_path):
    result, _ = build(engine, tmp_path, "dcgan_faces.py")
    assert result.errors == []
    assert drawn(result) == {"discriminator": ("Sequential", 404_801), "generator": ("Sequential", 3_979_651),
                             "gan": ("GAN", 4_384_452)}
    assert model(result, "generator").layers[-1].output_shape == [None, 64, 64, 3]
    gan = model(result, "gan")
    assert [layer.id for layer in gan.layers if layer.parent is None] == ["discriminator", "generator"]
    assert "gan (GAN) defines no call()" in gan.build.note
    # gdown, the zip, the folder and the generated images never happened.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dcgan_faces.py"]


def test_transfer_learning_draws_the_frozen_base_and_the_model_over_preprocess_input(engine, tmp_path):
    result, _ = build(engine, tmp_path, "transfer_learning_xception.py")
    assert result.errors == []
    assert drawn(result) == {"base_model": ("Functional", 20_861_480), "model": ("Functional", 20_863_529)}
    top = model(result, "model")
    assert top_level(top) == ["InputLayer", "TrueDivide", "Subtract", "Functional",
                              "GlobalAveragePooling2D", "Dropout", "Dense"]
    assert top.build.note == "pretrained weights not loaded (shape-only)"


def test_text_classification_draws_the_conv1d_model_and_the_end_to_end_model_with_text_vectorization(
        engine, tmp_path):
    result, _ = build(engine, tmp_path, "text_classification_imdb.py")
    assert result.errors == []
    assert drawn(result) == {"model": ("Functional", 2_806_273), "end_to_end_model": ("Functional", 2_806_273)}
    assert top_level(model(result, "end_to_end_model")) == ["InputLayer", "TextVectorization", "Functional"]


def test_a_transformer_block_and_a_token_and_position_embedding_draw_as_layers(engine, tmp_path):
    result, _ = build(engine, tmp_path, "transformer_text.py")
    assert result.errors == []
    assert drawn(result) == {"model": ("Functional", 657_758)}
    assert top_level(model(result, "model")) == [
        "InputLayer", "TokenAndPositionEmbedding", "TransformerBlock", "GlobalAveragePooling1D",
        "Dropout", "Dense", "Dropout", "Dense"]


# -- models that need a value from data, and draw with the stand-in the error asks for -----------

def test_timeseries_sizes_from_one_peeked_batch_need_a_stand_in_on_the_loops_assignment(engine, tmp_path):
    result, path = build(engine, tmp_path, "weather_forecasting.py")
    loop, peek = line_of(path, "for batch in dataset_train.take(1):"), line_of(path, "inputs, targets = batch")
    error = only_error(result)
    assert (error.kind, error.factory, error.line) == ("arguments", "model", line_of(path, "model = keras.Model("))
    assert error.message == (
        f"`inputs` is set by the loop at line {loop}; NetViz does not run it. "
        f"Add `# netviz: value=...` at the end of line {peek}, in the loop, to stand in for it.")
    assert discover(path.read_text(), str(path), {}).stand_ins == {"model": [("inputs", peek)]}

    stand_in = "value=(keras.ops.zeros((256, 120, 7)), keras.ops.zeros((256, 1)))"
    result, path = build(engine, tmp_path, "weather_forecasting.py", with_comment("inputs, targets = batch", stand_in))
    assert result.errors == []
    assert drawn(result) == {"model": ("Functional", 5_153)}
    assert model(result, "model").layers[0].output_shape == [None, 120, 7]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weather_forecasting.py"]  # no download, no csv


def test_structured_data_needs_a_stand_in_for_the_dataset_its_lookups_adapt_to(engine, tmp_path):
    result, path = build(engine, tmp_path, "structured_heart_disease.py")
    error = only_error(result)
    ds, read = line_of(path, "train_ds = train_ds.batch(32)"), line_of(path, "pd.read_csv(")
    assert (error.kind, error.factory, error.line) == ("arguments", "model", line_of(path, "model = keras.Model("))
    assert error.message == (
        f"`train_ds` (line {ds}) needs `dataframe`, which comes from a file read at line {read}; "
        f"NetViz does not run that. Add `# netviz: value=...` on line {ds} to stand in for it.")


def test_an_lstm_notebook_names_the_cell_and_line_of_the_value_and_draws_with_its_stand_in(engine, tmp_path):
    result, _ = build(engine, tmp_path, "lstm_sentiment.ipynb")
    error = only_error(result)
    # The model is in cell 8 (0-based); the tokenized X in cell 6, line 6; the csv read in cell 3.
    assert (error.kind, error.factory, error.cell, error.line) == ("arguments", "model", 8, 4)
    assert error.message == (
        "`X` (cell 7, line 6) needs `df`, which comes from a file read at cell 4, line 1; NetViz does not "
        "run that. Add `# netviz: value=...` on cell 7, line 6 to stand in for it.")

    result, _ = build(engine, tmp_path, "lstm_sentiment.ipynb",
                      in_cell(6, "X = tokenizer.texts_to_sequences", "value=[[3, 1, 4, 1, 5]]"))
    assert result.errors == []
    lstm = model(result, "model")
    assert (lstm.cell, lstm.line) == (8, 4)
    # Keras 3 drops Keras 2's Embedding(input_length=X.shape[1]) and would build the Sequential at
    # fit; NetViz builds it with the input that meant, (None, 60) from the padded stand-in.
    assert [(layer.class_name, layer.output_shape) for layer in lstm.layers] == [
        ("Embedding", [None, 60, 128]), ("SpatialDropout1D", [None, 60, 128]), ("LSTM", [None, 196]),
        ("Dense", [None, 2])]
    assert lstm.total_params == 895_194
    assert lstm.build.note == (
        "sequential drawn with the input (None, 60) of its Embedding's input_length "
        "(Keras 3 ignores input_length and builds the model from the data at fit)")
    assert [(w.cell, w.line) for w in result.warnings if "input_length" in w.message] == [(8, 5)]


# -- Keras 2 code on Keras 3 ------------------------------------------------------------------------

def test_a_keras2_notebook_fails_at_adam_lr_with_its_whole_model_drawn_up_to_compile(engine, tmp_path):
    result, _ = build(engine, tmp_path, "keras2_fashion_cnn.ipynb")
    assert result.models == []
    augmentation, error = result.errors
    # Keras 3 has no layers.experimental: the import in cell 1 fails, and only the model that needs it;
    # tensorflow is installed, so the error does not ask to pip install it.
    assert (augmentation.kind, augmentation.factory, augmentation.cell, augmentation.line) == (
        "build", "data_augmentation", 1, 8)
    assert augmentation.message == (
        "ModuleNotFoundError: No module named 'tensorflow.keras.layers.experimental' (Keras 2 code: Keras 3 has "
        "no `layers.experimental`; its preprocessing layers are in `keras.layers`, e.g. "
        "`layers.experimental.preprocessing.RandomFlip` is `layers.RandomFlip`)")
    assert (error.kind, error.factory, error.cell, error.line) == ("build", "model", 6, 13)
    assert error.message == ("ValueError: Argument(s) not recognized: {'lr': 0.001} "
                             "(Keras 2 code: in Keras 3, `lr=` is `learning_rate=`)")
    graph = error.graph
    assert graph is not None and not any(layer.failed for layer in graph.layers)
    assert (graph.class_name, graph.total_params, len(graph.layers)) == ("Sequential", 225_034, 10)
    assert graph.layers[0].output_shape == [None, 26, 26, 32]  # input_shape= still works, with a warning
    assert [(w.cell, w.line) for w in result.warnings if "input_shape" in w.message] == [(6, 2)]


def test_keras2_layers_experimental_as_an_attribute_names_where_the_layers_are_now(engine, tmp_path):
    def experimental(source: str) -> str:
        return source.replace("layers.RandomFlip(", "layers.experimental.preprocessing.RandomFlip(", 1)
    result, path = build(engine, tmp_path, "image_classification_scratch.py", experimental)
    error = next(e for e in result.errors if e.factory == "data_augmentation")
    assert error.line == line_of(path, "layers.experimental.preprocessing.RandomFlip(")
    assert error.message.endswith(
        "has no attribute 'experimental' (Keras 2 code: Keras 3 has no `layers.experimental`; its preprocessing "
        "layers are in `keras.layers`, e.g. `layers.experimental.preprocessing.RandomFlip` is `layers.RandomFlip`)")


def test_a_data_loading_function_called_at_the_top_level_is_not_run_and_its_values_need_stand_ins(engine, tmp_path):
    result, path = build(engine, tmp_path, "timeseries_classification.py")
    read = line_of(path, 'x_train, y_train = readucr(root_url + "FordA_TRAIN.tsv")')
    classes, shuffled = line_of(path, "num_classes = len(np.unique(y_train))"), line_of(path, "x_train = x_train[idx]")
    error = only_error(result)
    assert (error.kind, error.factory, error.line) == ("arguments", "make_model", line_of(path, "def make_model("))
    # readucr reads a file (np.loadtxt in its body): its call is a file read NetViz does not run,
    # not a FileNotFoundError inside readucr.
    assert error.message == (
        f"`num_classes` (line {classes}) needs `y_train`, which comes from a file read at line {read}; NetViz "
        f"does not run that. Add `# netviz: value=...` on line {classes} to stand in for it. Also: `x_train` "
        f"(line {shuffled}) needs `x_train`, which comes from a file read at line {read}; NetViz does not run "
        f"that. Add `# netviz: value=...` on line {shuffled} to stand in for it.")
    assert discover(path.read_text(), str(path), {}).stand_ins == {
        "make_model": [("x_train", shuffled), ("num_classes", classes)]}

    def stand_ins(source: str) -> str:
        source = with_comment("num_classes = len(np.unique(y_train))", "value=2")(source)
        return with_comment("x_train = x_train[idx]", "value=np.zeros((3601, 500, 1))")(source)
    result, _ = build(engine, tmp_path, "timeseries_classification.py", stand_ins)
    assert result.errors == []
    assert drawn(result) == {"make_model": ("Functional", 25_858)}
    assert model(result, "make_model").layers[0].output_shape == [None, 500, 1]


def test_only_functions_that_read_or_download_and_build_no_model_make_their_top_level_calls_data():
    source = "\n".join([
        "import json", "import numpy as np", "import keras", "",
        "def read_split(path):", "    return np.load(path)", "",
        "def read_both(a, b):", "    return read_split(a), read_split(b)", "",
        "def scale(x):", "    return x / 255.0", "",
        "def make_model():", "    cfg = json.load(open('cfg.json'))",
        "    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(cfg['units'])])", "",
        "x = read_split('x.npy')", "pair = read_both('a.npy', 'b.npy')", "small = scale(np.ones(3))",
        "model = make_model()", ""])
    parsed = parse(source, "loaders.py")
    effects = {st.first: st.effect for st in facts(parsed).statements if st.first >= 18}
    # A loader, a function calling one: file reads. A plain helper, and a factory that reads
    # its own config, run as before.
    assert effects == {18: "reads files", 19: "reads files", 20: None, 21: None}
    assert [t.name for t in discover(source, "loaders.py", {}).factories] == ["make_model"]
