"""When the model is wrong, in the editor: call chains, Keras' warnings, the failing line's hover
and the quick fixes that make a Keras 2 model build.

The first tests drive the pure functions (no server, no TensorFlow); the rest drive the real
language server over stdio (real worker) as an editor would: they ask ``textDocument/codeAction``
for the diagnostics the server published, apply the edits, save, and check the build.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_server_lsp import SERVER, Doc, eventually, start_session
from test_server_notebook import OpenNotebook

from netviz_lsp.discovery import discover
from netviz_lsp.graph import BuildError, BuildInfo, BuildWarning, Layer, ModelGraph
from netviz_lsp.server.actions import OPTIMIZERS, Edit, args_fixes, input_fixes, renamed_lr_actions, text_actions
from netviz_lsp.server.diagnostics import SOURCE, by_cell, diagnostics_for, warning_diagnostics
from netviz_lsp.server.documents import Document
from netviz_lsp.server.hover import failure_markdown
from netviz_lsp.server.notebooks import CellText, NotebookView
from netviz_lsp.server.positions import LineMap, split_lines

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "server"
KERAS_WARNING = ("Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential models, "
                 "prefer using an `Input(shape)` object as the first layer in the model instead.")


def applied(text: str, edits: list[Edit]) -> str:
    """``text`` with ``edits`` (0-based lines, character columns, all against ``text``) applied."""
    lines = split_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    for edit in sorted(edits, key=lambda e: (e.line, e.start), reverse=True):
        text = text[:starts[edit.line] + edit.start] + edit.text + text[starts[edit.end_line] + edit.end:]
    return text


def fix_lines(source: str, needle: str) -> list[int]:
    return [i for i, line in enumerate(split_lines(source)) if needle in line]


# -- quick fixes found in the text -------------------------------------------------------------

def test_input_shape_on_a_sequential_list_becomes_an_input_entry_in_the_modules_own_alias():
    source = ("import tensorflow as tf\n\n"
              "model = tf.keras.Sequential([tf.keras.layers.Dense(64, input_dim=20), tf.keras.layers.Dense(1)])\n")
    (fix,) = input_fixes(source, split_lines(source), [2])
    assert applied(source, fix.edits) == (
        "import tensorflow as tf\n\n"
        "model = tf.keras.Sequential([tf.keras.Input(shape=(20,)), tf.keras.layers.Dense(64), "
        "tf.keras.layers.Dense(1)])\n")
    assert fix.line == 2 and "tf.keras.Input(shape=(20,))" in fix.title


def test_input_shape_on_the_first_add_becomes_an_add_of_the_imported_input_keeping_the_layout():
    source = ("from tensorflow.keras.layers import Dense, Flatten, Input\n"
              "from tensorflow.keras.models import Sequential\n\n"
              "def mnist_mlp():\n"
              "    net = Sequential()\n"
              "    net.add(Flatten(\n"
              "        input_shape=(28, 28),\n"
              "    ))\n"
              "    net.add(Dense(10, activation='softmax', input_shape=(784,)))\n"
              "    return net\n")
    lines = split_lines(source)
    fixes = input_fixes(source, lines, [5, 8])
    assert [f.line for f in fixes] == [5]  # the second add is no first layer: Keras' own warning, no fix
    assert applied(source, fixes[0].edits) == (
        "from tensorflow.keras.layers import Dense, Flatten, Input\n"
        "from tensorflow.keras.models import Sequential\n\n"
        "def mnist_mlp():\n"
        "    net = Sequential()\n"
        "    net.add(Input(shape=(28, 28)))\n"
        "    net.add(Flatten())\n"
        "    net.add(Dense(10, activation='softmax', input_shape=(784,)))\n"
        "    return net\n")


def test_no_input_fix_outside_a_sequential_or_past_its_first_layer():
    source = ("import keras\nfrom keras import layers\n\n"
              "inputs = keras.Input((8,))\n"
              "x = layers.Dense(4, input_shape=(8,))(inputs)\n"
              "model = keras.Sequential([layers.Dense(4, input_shape=(8,)), layers.Dense(2, input_shape=(4,))])\n")
    lines = split_lines(source)
    assert [f.line for f in input_fixes(source, lines, [4, 5])] == [5]
    assert input_fixes(source + "def broken(:\n", lines + ["def broken(:", ""], [5]) == []


def test_args_fix_puts_the_required_parameters_above_the_decorators_as_a_snippet_or_plain():
    source = ("import keras\n\n"
              "@keras.saving.register_keras_serializable()\n"
              "def encoder(latent_dim, depth=2, *, activation, name='encoder'):\n"
              "    return keras.Sequential([keras.Input((latent_dim,))], name=name)\n")
    lines = split_lines(source)
    (snippet,) = args_fixes(source, lines, [3], snippet=True)
    assert snippet.snippet and snippet.line == 3
    assert snippet.edits == [Edit(2, 0, 2, 0, "# netviz: args=(${1:latent_dim}, activation=${2:activation})\n")]
    (plain,) = args_fixes(source, lines, [3], snippet=False)
    assert plain.edits[0].text == "# netviz: args=(latent_dim, activation=activation)\n"
    assert plain.title == "Add `# netviz: args=(latent_dim, activation=activation)` above `encoder()` to build it"


def test_a_hypermodels_args_fix_leaves_its_hyperparameters_to_netviz():
    """``build_model(hp, num_classes)`` passed to a tuner: NetViz gives ``hp`` (KerasTuner's first
    trial), so the fix asks only for ``num_classes``, by keyword, and the filled comment builds."""
    source = ("import keras\nimport keras_tuner as kt\n\n\n"
              "def build_model(hp, num_classes):\n"
              "    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(hp.Int('units', 16, 64)),\n"
              "                              keras.layers.Dense(num_classes)])\n"
              "    return model\n\n\n"
              "tuner = kt.RandomSearch(build_model, objective='val_loss', max_trials=2)\n")
    found = discover(source)
    (error,) = found.errors
    assert error.line == 5 and "needs arguments for: num_classes." in error.message
    lines = split_lines(source)
    (fix,) = args_fixes(source, lines, [4], False, missing={4: {"num_classes"}})
    assert fix.title == "Add `# netviz: args=(num_classes=num_classes)` above `build_model()` to build it"
    filled = applied(source, fix.edits).replace("args=(num_classes=num_classes)", "args=(num_classes=10)")
    (factory,) = [f for f in discover(filled).factories if f.name == "build_model"]
    assert factory.buildable and "num_classes=10" in factory.expr and "HyperParameters()" in factory.expr
    # Without the diagnostic's names the fix names every required parameter, as before.
    (plain,) = args_fixes(source, lines, [4], False)
    assert "args=(hp, num_classes)" in plain.title


def test_quick_fixes_in_a_notebook_cell_edit_that_cell_at_its_own_lines():
    cells = [CellText("cell:0", "code", "%matplotlib inline\nimport keras\nfrom keras import layers"),
             CellText("cell:1", "markdown", "# The model"),
             CellText("cell:2", "code", "model = keras.Sequential([\n    layers.Dense(32, input_shape=(16,)),\n"
                                         "    layers.Dense(1),\n])")]
    view = NotebookView("nb.ipynb", cells)
    document = Document("nb.ipynb", None, view.joined.source, 1)
    document.notebook = view
    warning = types.Diagnostic(range=types.Range(start=types.Position(1, 4), end=types.Position(1, 39)),
                               message=KERAS_WARNING, severity=types.DiagnosticSeverity.Warning, source=SOURCE)
    (action,) = text_actions(document, "cell:2", [warning], len, False)
    assert action.kind == types.CodeActionKind.QuickFix and action.diagnostics == [warning]
    insert, remove = action.edit.changes["cell:2"]
    assert (insert.range.start.line, insert.range.start.character, insert.new_text) == \
        (1, 4, "keras.Input(shape=(16,)),\n    ")
    assert (remove.range.start.line, remove.range.start.character, remove.range.end.character) == (1, 19, 38)


@pytest.mark.parametrize("optimizer", ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl", "Adam"])
def test_lr_is_renamed_on_every_keras_2_optimizer_even_on_the_calls_next_line(optimizer: str):
    assert optimizer in OPTIMIZERS
    lines = [f"opt = tf.keras.optimizers.{optimizer}(", "    lr=0.01,  # Keras 2", ")"]
    error = types.Diagnostic(range=types.Range(start=types.Position(0, 0), end=types.Position(0, 20)),
                             message="ValueError: Argument(s) not recognized: {'lr': 0.01}", source=SOURCE)
    (action,) = renamed_lr_actions("file:///t.py", lines, [error])
    (edit,) = action.edit.changes["file:///t.py"]
    assert (edit.range.start, edit.range.end, edit.new_text) == \
        (types.Position(1, 4), types.Position(1, 6), "learning_rate")


# -- diagnostics and hover -----------------------------------------------------------------------

HELPER_FILE = """import keras
from keras import layers


def block(x, filters):
    y = layers.Dense(filters)(x)
    return layers.Add()([x, y])


def build():
    inputs = keras.Input((8,))
    x = block(inputs, 8)
    x = block(x, 9)
    return keras.Model(inputs, x)
"""


def test_an_error_in_a_helper_links_each_outer_call_and_moves_with_edits():
    lines = split_lines(HELPER_FILE)
    error = BuildError("build", "Inputs have incompatible shapes", 7, "build", call_lines=[7, 13])
    (diagnostic,) = diagnostics_for([error], {"build": 10}, LineMap(lines, lines), lines, uri="file:///m.py",
                                    built_text=HELPER_FILE)
    (related,) = diagnostic.related_information
    assert related.message == "`block()` called here, in `build()`"
    assert related.location.uri == "file:///m.py" and related.location.range.start == types.Position(12, 4)
    edited = lines[:11] + ["    # two blocks"] + lines[11:]
    (moved,) = diagnostics_for([error], {"build": 10}, LineMap(lines, edited), edited, uri="file:///m.py",
                               built_text=HELPER_FILE)
    assert moved.range.start.line == 6 and moved.related_information[0].location.range.start.line == 13


def test_warnings_are_deduplicated_warning_diagnostics_at_their_line_or_their_factorys():
    lines = split_lines(HELPER_FILE)
    warnings = [BuildWarning("Careful", "UserWarning", 6, "build"), BuildWarning("Careful", "UserWarning", 6, "build"),
                BuildWarning("No line", "DeprecationWarning", None, "build")]
    found = warning_diagnostics(warnings, {"build": 10}, LineMap(lines, lines), lines)
    assert [(d.range.start.line, d.message, d.severity, d.source, d.code) for d in found] == [
        (5, "Careful", types.DiagnosticSeverity.Warning, SOURCE, "UserWarning"),
        (9, "No line", types.DiagnosticSeverity.Warning, SOURCE, "DeprecationWarning")]


def test_a_notebooks_related_information_goes_to_the_callers_cell():
    view = NotebookView("nb.ipynb", [CellText("c0", "code", "import keras\ndef block(x):\n    return x"),
                                     CellText("c1", "code", "y = block(1)")])
    at = lambda line: types.Range(start=types.Position(line, 0), end=types.Position(line, 5))  # noqa: E731
    diagnostic = types.Diagnostic(range=at(2), message="boom", source=SOURCE, related_information=[
        types.DiagnosticRelatedInformation(location=types.Location(uri="nb.ipynb", range=at(3)), message="here")])
    cells = by_cell([diagnostic], view)
    (moved,) = cells["c0"]
    assert moved.range.start.line == 2 and moved.related_information[0].location.uri == "c1"
    assert moved.related_information[0].location.range.start.line == 0


def _layer(id: str, class_name: str, line: int, shape, failed: bool = False) -> Layer:
    return Layer(id, id, class_name, line, [line], shape, 0, True, failed=failed)


def test_the_failing_lines_hover_says_what_met_there():
    graph = ModelGraph("build", 10, "Functional", 0, 0, 0, [[None, 8]], [], BuildInfo(1.0, True), layers=[
        _layer("input_layer", "InputLayer", 11, [None, 8]), _layer("dense", "Dense", 88, [None, 8]),
        _layer("dense_1", "Dense", 89, [None, 9]), _layer("add", "Add", 90, None, failed=True)],
        edges=[["input_layer", "dense"], ["input_layer", "dense_1"], ["dense", "add"], ["dense_1", "add"]])
    error = BuildError("build", "Inputs have incompatible shapes", 90, "build", call_lines=[90], graph=graph)
    assert failure_markdown([error], 90) == "`Add` received `(None, 8)` from line 88 and `(None, 9)` from line 89"
    assert failure_markdown([error], 89) is None
    cells = {88: "cell 3, line 2", 89: ""}  # a source line changed since the build: named instead
    assert failure_markdown([error], 90, cells.get) == \
        "`Add` received `(None, 8)` from cell 3, line 2 and `(None, 9)` from `dense_1`"


# -- the real server -------------------------------------------------------------------------------

pytestmark_lsp = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fixes")
    for name in ("article_original.py", "resnet_blocks.py", "train_classifier.py", "keras2_imdb_lstm.py"):
        shutil.copy(FIXTURES / name, folder / name)
    shutil.copy(ROOT / "examples" / "seed_cnns.py", folder / "seed_cnns.py")
    return folder


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient, workspace: Path):
    await start_session(lsp_client, workspace, name="fixes", capabilities=types.ClientCapabilities(
            workspace=types.WorkspaceClientCapabilities(workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=True, snippet_edit_support=True)),
            notebook_document=types.NotebookDocumentClientCapabilities(
                synchronization=types.NotebookDocumentSyncClientCapabilities())))
    yield
    await lsp_client.shutdown_session()


async def quick_fixes(client: LanguageClient, doc: Doc, line: int,
                      diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=doc.uri),
        range=types.Range(start=types.Position(line, 0), end=types.Position(line, 0)),
        context=types.CodeActionContext(diagnostics=diagnostics)))
    return [a for a in actions or [] if a.kind == types.CodeActionKind.QuickFix]


def text_edits(action: types.CodeAction, uri: str, fill: dict[str, str] | None = None) -> list[types.TextEdit]:
    """The action's edits of ``uri``; snippet edits with their placeholders filled from ``fill``."""
    edits = list((action.edit.changes or {}).get(uri, []))
    for change in action.edit.document_changes or []:
        assert change.text_document.uri == uri
        for edit in change.edits:
            if isinstance(edit, types.SnippetTextEdit):
                text = re.sub(r"\$\{\d+:(\w+)\}", lambda m: (fill or {})[m.group(1)], edit.snippet.value)
                edits.append(types.TextEdit(range=edit.range, new_text=text))
            else:
                edits.append(edit)
    return edits


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """The editor's part: every edit against ``text`` (ASCII here: UTF-16 units are characters)."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    spans = sorted(((starts[e.range.start.line] + e.range.start.character,
                     starts[e.range.end.line] + e.range.end.character, e.new_text) for e in edits), reverse=True)
    for (start, end, new), after in zip(spans, [None, *spans]):
        assert after is None or end <= after[0], "edits overlap"
        text = text[:start] + new + text[end:]
    return text


@pytestmark_lsp
async def test_the_articles_keras_2_code_gets_a_fix_per_problem_and_then_builds_its_totals(
        client: LanguageClient, workspace: Path):
    ported = Doc(client, workspace / "seed_cnns.py")  # the article's models ported by hand: the totals to reach
    totals = {m["factory"]: m["graph"]["total_params"] for m in (await ported.diagram(version=1))["models"]}
    assert totals["construct_model"] == 63_021_004 and len(totals) == 3

    doc = Doc(client, workspace / "article_original.py")
    diagram = await doc.diagram(version=1)
    assert sorted(e["factory"] for e in diagram["errors"]) == ["cconstruct_model", "construct_model"]
    shapes = fix_lines(doc.text, "input_shape=(")
    calls = [doc.line_of('model.add(Conv2D(64, (3, 3), activation="relu", input_shape'),
             doc.line_of('Conv2D(8, (5, 5), activation="relu",'),
             doc.line_of('model.add(Conv2D(32, (5, 5), padding="same", activation="relu", input_shape')]
    assert shapes == [calls[0], calls[1] + 1, calls[2]]  # the list's layer spans two lines
    adams = fix_lines(doc.text, "keras.optimizers.Adam(lr=")
    assert len(adams) == 2

    def problems():
        found = {d.range.start.line: d for d in doc.diagnostics()}
        warned = [line for line in calls if line in found and found[line].severity == types.DiagnosticSeverity.Warning
                  and "`input_shape`" in found[line].message]
        failed = [line for line in adams if line in found and found[line].severity == types.DiagnosticSeverity.Error
                  and "Argument(s) not recognized: {'lr'" in found[line].message]
        return found if (warned, failed) == (calls, adams) else None
    found = await eventually(problems, "a Warning at each input_shape layer and an Error at each Adam(lr=)")

    edits = []
    for line in calls + adams:
        (action,) = await quick_fixes(client, doc, line, [found[line]])
        assert action.is_preferred and list(action.diagnostics) == [found[line]], action.title
        edits += text_edits(action, doc.uri)
    fixed = apply(doc.text, edits)
    assert "input_shape=(" not in fixed and "optimizers.Adam(lr=" not in fixed
    assert '    model.add(keras.Input(shape=(128, 128, 1)))\n    model.add(Conv2D(64, (3, 3), activation="relu"))\n' \
        in fixed
    assert ('    model = Sequential([\n        keras.Input(shape=(128, 128, 3)),\n'
            '        Conv2D(8, (5, 5), activation="relu"),\n        BatchNormalization(),\n') in fixed
    assert '                  optimizer=keras.optimizers.Adam(learning_rate=learningRate),\n' in fixed

    doc.replace(fixed)
    doc.save()
    diagram = await doc.diagram(version=doc.version)
    assert diagram["errors"] == []
    assert {m["factory"]: m["graph"]["total_params"] for m in diagram["models"]} == totals
    await eventually(lambda: not doc.diagnostics(), "the warnings and errors to clear")


@pytestmark_lsp
async def test_keras_2_imports_get_a_fix_each_until_the_script_draws(client: LanguageClient, workspace: Path):
    """A 2017 blog post's script imports from modules Keras 3 removed. Each failing import is an
    error at its line that says where the names went, with a fix that moves the import; after
    the fixes the model draws (the unused ``np_utils`` import never runs, so it needs none)."""
    doc = Doc(client, workspace / "keras2_imdb_lstm.py")
    await doc.diagram(version=1)
    moved = {"from keras.layers.core import": "from keras.layers import",
             "from keras.layers.embeddings import": "from keras.layers import",
             "from keras.layers.recurrent import": "from keras.layers import"}
    for _ in moved:
        errors = await eventually(lambda: [d for d in doc.diagnostics() if d.code == "build"], "an import error")
        (error,) = errors
        line = doc.text.splitlines()[error.range.start.line]
        assert line.split(" import ")[0] + " import" in moved, line
        assert "Keras 2 code: Keras 3 has no `keras.layers." in error.message
        (action,) = await quick_fixes(client, doc, error.range.start.line, [error])
        assert action.title == "Import from `keras.layers` (Keras 3)" and action.is_preferred
        fixed = apply(doc.text, text_edits(action, doc.uri))
        assert fixed.splitlines()[error.range.start.line] == line.replace(line.split(" import ")[0] + " import",
                                                                          moved[line.split(" import ")[0] + " import"])
        mark = len(client.netviz_diagrams)
        doc.replace(fixed)
        doc.save()
        await doc.diagram(since=mark)
    diagram = await doc.diagram(version=doc.version)
    assert diagram["errors"] == []
    (lstm,) = diagram["models"]
    # Plain Keras 3: 20000*128 + 4*(128*128+128*128+128) + 4*(128*64+64*64+64) + 64+1
    assert lstm["graph"]["total_params"] == 2_560_000 + 131_584 + 49_408 + 65
    assert "from keras.utils.np_utils import to_categorical" in doc.text


@pytestmark_lsp
async def test_a_failure_in_a_helper_points_at_the_models_call_and_its_hover_says_what_met(
        client: LanguageClient, workspace: Path):
    doc = Doc(client, workspace / "resnet_blocks.py")
    diagram = await doc.diagram(version=1)
    (error,) = diagram["errors"]
    add, call = doc.line_of("y = layers.Add()([shortcut, y])"), doc.line_of("x = residual_block(x, 64)")
    assert (error["factory"], error["line"], error["call_lines"]) == ("build_resnet", add + 1, [add + 1, call + 1])
    (diagnostic,) = await eventually(lambda: [d for d in doc.diagnostics() if d.range.start.line == add],
                                     "the diagnostic at the Add")
    (related,) = diagnostic.related_information
    assert related.message == "`residual_block()` called here, in `build_resnet()`"
    assert related.location.uri == doc.uri and related.location.range.start == types.Position(call, 4)

    shortcut = doc.line_of('    return layers.Activation("relu")(y)') + 1  # the previous block's output
    branch = doc.line_of("    y = layers.BatchNormalization()(y)") + 1
    hover = await doc.hover(add)
    assert hover is not None
    assert hover.startswith(f"`Add` received `(None, 32, 32, 32)` from line {shortcut} "
                            f"and `(None, 32, 32, 64)` from line {branch}"), hover


@pytestmark_lsp
async def test_a_factory_that_needs_arguments_gets_an_args_snippet_that_makes_it_build(
        client: LanguageClient, workspace: Path):
    """The script's factory as a library module: nothing calls it, so it needs its arguments (the
    script itself draws its guard's ``model``, with stand-ins for the data: test_script_bodies.py)."""
    script = (workspace / "train_classifier.py").read_text()
    library = workspace / "classifier_lib.py"
    library.write_text(script[:script.index('if __name__ == "__main__":')].rstrip() + "\n")
    doc = Doc(client, library)
    diagram = await doc.diagram(version=1)
    (error,) = diagram["errors"]
    assert error["kind"] == "arguments" and diagram["models"] == []
    define = doc.line_of("def build_classifier(")
    (diagnostic,) = await eventually(lambda: [d for d in doc.diagnostics() if d.range.start.line == define],
                                     "the needs-arguments diagnostic")
    (action,) = await quick_fixes(client, doc, define, [diagnostic])
    (change,) = action.edit.document_changes
    (snippet,) = change.edits
    assert snippet.snippet.value == "# netviz: args=(${1:num_features}, ${2:num_classes})\n"
    assert snippet.range.start == snippet.range.end == types.Position(define, 0)
    doc.replace(apply(doc.text, text_edits(action, doc.uri, {"num_features": "20", "num_classes": "3"})))
    assert doc.lines[define] == "# netviz: args=(20, 3)"
    doc.save()
    diagram = await doc.diagram(version=doc.version)
    assert diagram["errors"] == []
    (model,) = diagram["models"]
    assert (model["factory"], model["graph"]["total_params"]) == ("build_classifier", (20 * 64 + 64) + (64 * 32 + 32)
                                                                  + (32 * 3 + 3))


@pytestmark_lsp
async def test_in_a_notebook_the_chain_the_hover_the_warning_and_its_fix_speak_in_cells(
        client: LanguageClient, workspace: Path):
    nb = OpenNotebook(client, workspace / "flowers", FIXTURES / "flowers_residual.ipynb")
    helper, model, baseline = 6, 7, 4  # cell indexes; people read them from 1
    diagram = await nb.diagram()
    (error,) = diagram["errors"]
    add, call = nb.line_in(helper, "layers.Add()"), nb.line_in(model, "residual_block(x, 64)")
    assert (error["factory"], error["cell"]) == ("resnet", helper)
    (failure,) = await eventually(lambda: [d for d in nb.diagnostics(helper) if d.range.start.line == add],
                                  "the Add's diagnostic in the helper's cell")
    (related,) = failure.related_information
    assert related.message == "`residual_block()` called here"  # from the notebook's top level
    assert related.location.uri == nb.cell_uris[model] and related.location.range.start.line == call
    shortcut = nb.line_in(helper, "return layers.Activation") + 1
    branch = nb.line_in(helper, 'y = layers.Conv2D(filters, 3, padding="same")(y)') + 1
    hover = await nb.hover(helper, add)
    assert hover is not None and hover.startswith(
        f"`Add` received `(None, 96, 96, 32)` from cell {helper + 1}, line {shortcut} "
        f"and `(None, 96, 96, 64)` from cell {helper + 1}, line {branch}"), hover

    rescaling = nb.line_in(baseline, "input_shape=")
    (warning,) = await eventually(lambda: [d for d in nb.diagnostics(baseline)
                                           if d.severity == types.DiagnosticSeverity.Warning], "the baseline's warning")
    assert warning.range.start.line == rescaling and "`input_shape`" in warning.message
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=nb.cell_uris[baseline]),
        range=warning.range, context=types.CodeActionContext(diagnostics=[warning])))
    (action,) = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    fixed = apply(nb.texts[baseline], text_edits(action, nb.cell_uris[baseline]))
    assert fixed.split("\n")[1:3] == ["    keras.Input(shape=IMAGE_SIZE + (3,)),", "    layers.Rescaling(1.0 / 255),"]
    params = next(m for m in diagram["models"] if m["factory"] == "baseline")["graph"]["total_params"]
    mark = len(client.netviz_diagrams)
    nb.edit(baseline, fixed)
    nb.save()
    rebuilt = await nb.diagram(mark, lambda d: any(m["factory"] == "baseline" for m in d["models"]))
    assert next(m for m in rebuilt["models"] if m["factory"] == "baseline")["graph"]["total_params"] == params
    await eventually(lambda: not nb.diagnostics(baseline), "the baseline cell's warning to clear")
