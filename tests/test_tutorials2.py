"""Sweep 2: whole scripts and notebooks shaped like keras.io's advanced examples, built for real.

Each fixture in ``tests/fixtures/tutorials2/`` is a complete program (data, model, compile,
training, evaluation, plots), copied to a temporary folder and built through ``Engine.build``
on a worker whose HOME is empty, as the CLI and the server build it. Each test says what the
file draws (targets, totals checked against plain Keras 3 building the same layers, layer
counts), or the exact error of a model that needs a value from data NetViz never loads and
that the ``# netviz: value=`` stand-in it asks for makes it draw.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from real_builds import copy_and_build, drawn, model, untouched

from netviz_lsp.discovery import discover
from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult, ModelGraph

TUTORIALS = Path(__file__).resolve().parent / "fixtures" / "tutorials2"


def build(engine: Engine, tmp_path: Path, name: str, edit=None) -> tuple[FileResult, Path]:
    return copy_and_build(engine, TUTORIALS / name, tmp_path, edit)


def line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text)


def top_level(graph: ModelGraph) -> list[str]:
    return [layer.class_name for layer in graph.layers if layer.parent is None]


# -- transformers and mixers: custom Layer subclasses over patches --------------------------------

def test_a_vision_transformer_draws_its_patch_layers_and_eight_blocks_from_a_loop_in_the_factory(engine, tmp_path):
    result, path = build(engine, tmp_path, "vit_cifar100.py")
    assert result.errors == []
    # Plain Keras 3: create_vit_classifier().count_params() == 21,759,019 (84 layers).
    # The augmentation Sequential starts with no Input: Keras builds it inside the classifier, and
    # it draws as built there (its Normalization's mean, variance and count: 3 + 3 + 1).
    assert drawn(result) == {"data_augmentation": ("Sequential", 7),
                             "create_vit_classifier": ("Functional", 21_759_019)}
    augmentation = model(result, "data_augmentation")
    assert augmentation.build.note is None and augmentation.layers[-1].output_shape == [None, 72, 72, 3]
    vit = model(result, "create_vit_classifier")
    top = top_level(vit)
    assert top[:4] == ["InputLayer", "Sequential", "Patches", "PatchEncoder"]
    assert (top.count("MultiHeadAttention"), top.count("Add"), top.count("LayerNormalization")) == (8, 16, 17)
    assert len(top) == 84
    patches = next(layer for layer in vit.layers if layer.class_name == "Patches")
    assert patches.output_shape == [None, 144, 108]  # (72 // 6) ** 2 patches of 6 * 6 * 3
    assert patches.line == line_of(path, "patches = Patches(patch_size)(augmented)")
    assert vit.layers[-1].output_shape == [None, 100]
    untouched(tmp_path, "vit_cifar100.py")  # no plot, no checkpoint, no training


def test_an_mlp_mixer_draws_the_classifier_over_its_sequential_of_mixer_blocks(engine, tmp_path):
    result, _ = build(engine, tmp_path, "mlp_mixer.py")
    assert result.errors == []
    # build_classifier(mlpmixer_blocks): its argument is the module-level Sequential, which
    # Keras builds when the classifier calls it (plain Keras 3: 219,665, blocks 167,680).
    assert drawn(result) == {"data_augmentation": ("Sequential", 7), "mlpmixer_blocks": ("Sequential", 167_680),
                             "build_classifier": ("Functional", 219_665)}
    mixer = model(result, "build_classifier")
    assert top_level(mixer) == ["InputLayer", "Sequential", "Patches", "Dense", "Sequential",
                                "GlobalAveragePooling1D", "Dropout", "Dense"]
    blocks = next(layer for layer in mixer.layers if layer.parent is None and layer.id == "sequential_8")
    assert blocks.params == 167_680 and blocks.output_shape == [None, 64, 256]
    # At its own line the blocks' Sequential has no input yet: it draws as the classifier built it.
    alone = model(result, "mlpmixer_blocks")
    assert alone.build.note is None and alone.layers[-1].output_shape == [None, 64, 256]


def test_a_triplet_siamese_model_subclass_is_traced_through_the_network_it_wraps(engine, tmp_path):
    result, path = build(engine, tmp_path, "siamese_triplet.py")
    assert result.errors == []
    # ResNet50 (include_top=False) 23,587,712 + the embedding's Dense/BatchNorm head 51,580,928.
    assert drawn(result) == {"base_cnn": ("Functional", 23_587_712), "embedding": ("Functional", 75_168_640),
                             "siamese_network": ("Functional", 75_168_640),
                             "siamese_model": ("SiameseModel", 75_168_640)}
    network = model(result, "siamese_network")
    assert network.outputs == [[None], [None]]  # DistanceLayer's two distances
    assert [layer.class_name for layer in network.layers].count("Functional") == 1  # one shared embedding
    # SiameseModel(siamese_network) is never called before fit: its call() is traced on the
    # wrapped network's three inputs.
    wrapper = model(result, "siamese_model")
    assert top_level(wrapper) == ["InputLayer", "InputLayer", "InputLayer", "Functional"]
    assert [layer.id for layer in wrapper.layers if layer.parent is None][:3] == ["anchor", "positive", "negative"]
    assert wrapper.build.note == (
        "pretrained weights not loaded (shape-only); siamese_model (SiameseModel) was never built: its call() is "
        "traced with the inputs of the model it wraps, self.siamese_network (Keras builds it on its first call)")
    untouched(tmp_path, "siamese_triplet.py")  # no download, no folder listing, no training


# -- several inputs, several outputs, shared towers --------------------------------------------

def test_a_siamese_notebook_draws_the_shared_tower_once_between_its_two_inputs_and_the_distance(engine, tmp_path):
    result, _ = build(engine, tmp_path, "siamese_contrastive.ipynb")
    assert result.errors == []
    # Plain Keras 3: 5,318 for the tower, 5,324 for the Siamese model (BatchNormalization + Dense(1)).
    assert drawn(result) == {"embedding_network": ("Functional", 5_318), "siamese": ("Functional", 5_324)}
    siamese = model(result, "siamese")
    assert (siamese.cell, siamese.line) == (7, 37)
    assert top_level(siamese) == ["InputLayer", "InputLayer", "Functional", "Lambda", "BatchNormalization", "Dense"]
    assert siamese.inputs == [[None, 28, 28, 1], [None, 28, 28, 1]]
    tower = next(layer for layer in siamese.layers if layer.class_name == "Functional")
    # One box for the shared tower, with an edge from each input.
    assert sorted(src for src, dst in siamese.edges if dst == tower.id) == ["input_layer", "input_layer_1"]
    distance = next(layer for layer in siamese.layers if layer.class_name == "Lambda")
    assert distance.output_shape == [None, 1] and (distance.cell, distance.line) == (7, 32)
    untouched(tmp_path, "siamese_contrastive.ipynb")  # make_pairs over MNIST never ran


def test_a_multi_output_model_compiled_with_loss_dicts_draws_its_three_heads(engine, tmp_path):
    result, _ = build(engine, tmp_path, "multi_output_heads.py")
    assert result.errors == []
    assert drawn(result) == {"model": ("Functional", 1_397_732)}  # plain Keras 3: 1,397,732
    heads = model(result, "model")
    assert heads.inputs == [[None, None], [None, None], [None, 12]]
    # A dict of outputs, in Keras' order (its keys sorted): department, priority, sentiment.
    assert heads.outputs == [[None, 4], [None, 1], [None, 3]]
    assert len(heads.layers) == 12
    untouched(tmp_path, "multi_output_heads.py")  # plot_model wrote no PNG, fit never ran


def test_an_ocr_model_needs_a_stand_in_for_its_characters_and_then_draws_with_its_prediction_model(
        engine, tmp_path):
    result, path = build(engine, tmp_path, "ocr_captcha.py")
    glob, chars = line_of(path, 'images = sorted(list(map(str, list(data_dir.glob'), line_of(
        path, "characters = sorted(list(characters))")
    message = (f"`characters` (line {chars}) needs `images`, which comes from a file read at line {glob}; "
               f"NetViz does not run that. Add `# netviz: value=...` on line {chars} to stand in for it.")
    assert [(e.kind, e.factory, e.line, e.message) for e in result.errors] == [
        ("arguments", "build_model", line_of(path, "def build_model():"), message),
        ("arguments", "prediction_model", line_of(path, "prediction_model = keras.models.Model("), message)]
    # The quick fix's line for both models.
    assert discover(path.read_text(), str(path), {}).stand_ins == {
        "build_model": [("characters", chars)], "prediction_model": [("characters", chars)]}

    def stand_in(source: str) -> str:
        return source.replace("characters = sorted(list(characters))",
                              'characters = sorted(list(characters))  # netviz: value=list("2345678bcdefgmnpwxy")')
    result, path = build(engine, tmp_path, "ocr_captcha.py", stand_in)
    assert result.errors == []
    # 19 characters + [UNK] + the CTC blank: 21 classes. Plain Keras 3: 432,725 both.
    assert drawn(result) == {"build_model": ("Functional", 432_725), "prediction_model": ("Functional", 432_725)}
    training = model(result, "build_model")
    assert training.inputs == [[None, 200, 50, 1], [None, None]]
    assert top_level(training)[-1] == "CTCLayer" and training.outputs == [[None, 50, 21]]
    # JAX cannot infer the CTC layer's output (plain Keras 3 on JAX fails the same way): built on TensorFlow.
    assert training.build.backend == "tensorflow"
    # model.input[0] up to get_layer("dense2"): the label input and the CTC layer are not in it.
    prediction = model(result, "prediction_model")
    assert prediction.kind == "variable" and prediction.inputs == [[None, 200, 50, 1]]
    assert [layer.id for layer in prediction.layers][-2:] == ["bidirectional_1", "dense2"]
    assert "label" not in {layer.id for layer in prediction.layers}
    untouched(tmp_path, "ocr_captcha.py")


# -- training code that must never run ------------------------------------------------------------

def test_a_custom_training_loop_with_gradient_tape_never_runs_and_the_model_draws(engine, tmp_path):
    result, path = build(engine, tmp_path, "custom_training_loop.py")
    assert result.errors == []
    assert drawn(result) == {"model": ("Functional", 55_050)}
    net = model(result, "model")
    assert net.line == line_of(path, "model = keras.Model(inputs=inputs, outputs=outputs)")
    assert [layer.id for layer in net.layers] == ["digits", "dense", "dense_1", "predictions"]


def test_a_pydataset_class_and_its_file_listing_never_run_and_the_factory_draws(engine, tmp_path):
    result, _ = build(engine, tmp_path, "pydataset_images.py")
    # os.listdir("flower_photos") would raise here: the loop that fills the file lists never ran.
    assert result.errors == []
    assert drawn(result) == {"build_model": ("Functional", 288_997)}  # plain Keras 3: 288,997
    cnn = model(result, "build_model")
    assert (cnn.kind, len(cnn.layers)) == ("factory", 25)
    assert cnn.inputs == [[None, 128, 128, 3]] and cnn.outputs == [[None, 5]]
    untouched(tmp_path, "pydataset_images.py")  # no flowers.keras


def test_a_model_rebuilt_from_its_json_architecture_draws(engine, tmp_path):
    result, path = build(engine, tmp_path, "model_from_json.py")
    assert result.errors == []
    # 784*512+512 + 512*256+256 + 256*10+10; load_weights and evaluate never ran.
    assert drawn(result) == {"model": ("Sequential", 535_818)}
    net = model(result, "model")
    assert net.line == line_of(path, "model = keras.models.model_from_json(json_string)")
    assert [(layer.id, layer.output_shape) for layer in net.layers] == [
        ("hidden_1", [None, 512]), ("dropout", [None, 512]), ("hidden_2", [None, 256]), ("predictions", [None, 10])]


def test_json_read_in_a_with_block_gets_a_stand_in_inside_the_block_and_then_draws(engine, tmp_path):
    literal = next(line for line in (TUTORIALS / "model_from_json.py").read_text().splitlines()
                   if line.startswith("json_string = "))

    def from_file(source: str) -> str:
        return source.replace(literal, 'with open("mnist_mlp.json") as f:\n    json_string = f.read()')
    result, path = build(engine, tmp_path, "model_from_json.py", from_file)
    block, read = line_of(path, 'with open("mnist_mlp.json") as f:'), line_of(path, "json_string = f.read()")
    assert [(e.kind, e.factory, e.message) for e in result.errors] == [(
        "arguments", "model",
        f"`json_string` is set in the `with` block at line {block}; NetViz does not run it. "
        f"Add `# netviz: value=...` at the end of line {read}, in the block, to stand in for it.")]
    assert discover(path.read_text(), str(path), {}).stand_ins == {"model": [("json_string", read)]}

    def stood_in(source: str) -> str:
        value = literal.removeprefix("json_string = ")
        return from_file(source).replace("json_string = f.read()", f"json_string = f.read()  # netviz: value={value}")
    result, _ = build(engine, tmp_path, "model_from_json.py", stood_in)
    assert result.errors == []
    assert drawn(result) == {"model": ("Sequential", 535_818)}


@pytest.mark.parametrize("spelling, kind", [
    ("from keras.models import model_from_json\nnet = model_from_json(spec)", "variable"),
    ("import tensorflow as tf\nnet = tf.keras.models.model_from_config(spec)", "variable"),
    ("import keras\ndef net(spec=spec):\n    return keras.models.clone_model(spec)", "factory"),
])
def test_keras_functions_that_return_a_model_make_targets(spelling, kind):
    found = discover(f"spec = '{{}}'\n{spelling}\n", "m.py", {})
    assert [(t.name, t.kind) for t in found.factories] == [("net", kind)]


def test_a_function_of_the_same_name_that_is_not_keras_makes_no_target():
    source = "def model_from_json(text):\n    return text\n\nnet = model_from_json('{}')\n"
    assert discover(source, "m.py", {}).factories == []


# -- pretrained backbones -------------------------------------------------------------------------

def test_an_efficientnet_notebook_draws_the_backbone_and_the_head_with_its_augmentation(engine, tmp_path):
    result, _ = build(engine, tmp_path, "efficientnet_dogs.ipynb")
    assert result.errors == []
    # Plain Keras 3 (weights=None): 4,049,571 and 4,049,571 + BatchNorm 5,120 + Dense 153,720.
    assert drawn(result) == {"base_model": ("Functional", 4_049_571), "model": ("Functional", 4_208_411)}
    head = model(result, "model")
    assert (head.cell, head.line) == (7, 12)
    assert top_level(head) == ["InputLayer", "RandomRotation", "RandomTranslation", "RandomFlip", "RandomContrast",
                               "Functional", "BatchNormalization", "Dropout", "Dense"]
    assert head.build.note == "pretrained weights not loaded (shape-only)"
    assert model(result, "base_model").outputs == [[None, 1280]]  # pooling="avg"
    # tensorflow_datasets is never imported, the pip line is skipped, plot_model wrote nothing.
    untouched(tmp_path, "efficientnet_dogs.ipynb")


def test_a_sequential_over_a_backbone_with_no_input_is_drawn_with_the_backbones_input(engine, tmp_path):
    result, path = build(engine, tmp_path, "sequential_backbone.py")
    assert result.errors == []
    # Plain Keras 3 leaves the Sequential unbuilt until fit; model.build((None, 160, 160, 3)) gives
    # 2,259,265: MobileNetV2 2,257,984 + the head's Dense 1,281.
    assert drawn(result) == {"base": ("Functional", 2_257_984), "head": ("Sequential", 0),
                             "model": ("Sequential", 2_259_265)}
    pets = model(result, "model")
    assert [(layer.id, layer.output_shape) for layer in pets.layers if layer.parent is None] == [
        ("rescaling", [None, 160, 160, 3]), ("random_flip", [None, 160, 160, 3]),
        ("mobilenetv2_1.00_160", [None, 5, 5, 1280]), ("head", [None, 1])]
    assert pets.build.note == (
        "pretrained weights not loaded (shape-only); pets drawn with the input (None, 160, 160, 3) of "
        "mobilenetv2_1.00_160, which the 2 layers before it keep (Keras builds an unbuilt Sequential "
        "from the data at fit)")
    untouched(tmp_path, "sequential_backbone.py")


def test_a_layer_in_front_that_could_take_other_inputs_leaves_the_sequential_unbuilt(engine, tmp_path):
    # Dense(3) keeps (None, 160, 160, 3) but would take any number of channels: no input is known.
    def dense_front(source: str) -> str:
        return source.replace("keras.layers.Rescaling(1.0 / 127.5, offset=-1)", "layers.Dense(3)")
    result, _ = build(engine, tmp_path, "sequential_backbone.py", dense_front)
    assert result.errors == []
    pets = model(result, "model")
    assert pets.total_params == 2_257_984  # the backbone's own; Dense(3) and the head unbuilt
    assert pets.build.note == (
        "pretrained weights not loaded (shape-only); pets has no known input shape, so shapes and params are "
        "unknown: start it with keras.Input(shape=...); head has no known input shape, so shapes and params are "
        "unknown: start it with keras.Input(shape=...)")
