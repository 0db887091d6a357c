"""User-shaped scripts through the real language server (stdio, real worker): the training
script's module-level model is drawn with hovers at its lines, and a model that needs a value
from data gets a diagnostic whose quick fix inserts the stand-in comment that makes it draw.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_server_lsp import SERVER, Doc, eventually, start_session

REALWORLD = Path(__file__).resolve().parent / "fixtures" / "realworld"
SCRIPTS = Path(__file__).resolve().parent / "fixtures" / "scripts"
KERAS2 = Path(__file__).resolve().parent / "fixtures" / "server" / "bad_optimizer.py"

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("realworld")
    for name in ("mnist_convnet_script.py", "tabular_sizes.py"):
        shutil.copy(REALWORLD / name, folder / name)
    shutil.copy(KERAS2, folder / KERAS2.name)
    (folder / "scripts").mkdir()
    for name in ("cifar10_cnn.py", "tabular_mlp.py"):
        shutil.copy(SCRIPTS / name, folder / "scripts" / name)
    return folder


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient, workspace: Path):
    await start_session(lsp_client, workspace, name="realworld")
    yield
    await lsp_client.shutdown_session()


async def actions_at(client: LanguageClient, doc: Doc, line: int) -> list[types.CodeAction]:
    """The code actions the editor gets for the diagnostics published at ``line`` (once there are some)."""
    diagnostics = await eventually(lambda: [d for d in doc.diagnostics() if d.range.start.line == line],
                                   f"a diagnostic at line {line + 1}")
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=doc.uri),
        range=types.Range(start=types.Position(line, 0), end=types.Position(line, 0)),
        context=types.CodeActionContext(diagnostics=diagnostics)))


async def test_a_training_script_shows_its_module_level_model_with_hovers(client: LanguageClient, workspace: Path):
    doc = Doc(client, workspace / "mnist_convnet_script.py")
    diagram = await doc.diagram(version=1)
    assert diagram["errors"] == []
    (model,) = diagram["models"]
    assert (model["factory"], model["graph"]["kind"], model["graph"]["total_params"]) == ("model", "variable", 34_826)
    assert 'id="conv2d"' in model["svg"]
    conv_line = doc.line_of("layers.Conv2D(32")
    hover = await doc.hover(conv_line)
    assert hover is not None and "(None, 26, 26, 32)" in hover
    hints = await doc.inlay_hints()
    assert any(h.position.line == conv_line for h in hints)
    lenses = await doc.code_lenses()
    assert [lens.range.start.line for lens in lenses] == [doc.line_of("model = keras.Sequential(")]
    assert sorted(p.name for p in workspace.iterdir()) == [KERAS2.name, "mnist_convnet_script.py", "scripts",
                                                            "tabular_sizes.py"]


async def test_a_size_from_data_gets_a_quick_fix_that_makes_the_model_draw(client: LanguageClient, workspace: Path):
    doc = Doc(client, workspace / "tabular_sizes.py")
    diagram = await doc.diagram(version=1)
    assert diagram["models"] == [] and diagram["errors"][0]["factory"] == "model"
    actions = await actions_at(client, doc, doc.line_of("model = keras.Sequential()"))
    titles = [a.title for a in actions]
    assert any("`num_features`" in t for t in titles) and any("`num_classes`" in t for t in titles)
    assert all(a.kind == types.CodeActionKind.QuickFix and a.diagnostics for a in actions)
    # Apply both edits as the editor would, then type the values after `value=`.
    lines = doc.lines
    for action in actions:
        (edit,) = action.edit.changes[doc.uri]
        line = edit.range.start.line
        assert edit.range.start.character == len(lines[line]) and edit.new_text == "  # netviz: value="
        lines[line] += edit.new_text + ("13" if "num_features" in lines[line] else "2")
    doc.replace("\n".join(lines))
    doc.save()
    diagram = await doc.diagram(version=doc.version)
    assert diagram["errors"] == []
    assert diagram["models"][0]["graph"]["total_params"] == (13 * 32 + 32) + (32 * 2 + 2)


async def test_keras_2s_lr_gets_a_quick_fix_that_renames_it_and_the_model_builds(client: LanguageClient,
                                                                                workspace: Path):
    doc = Doc(client, workspace / KERAS2.name)
    diagram = await doc.diagram(version=1)
    (error,) = diagram["errors"]
    assert "Argument(s) not recognized: {'lr'" in error["message"]
    adam_line = doc.line_of("optimizers.Adam(lr=")
    diagnostics = await eventually(lambda: [d for d in doc.diagnostics() if "not recognized" in d.message],
                                   "the lr diagnostic")
    assert diagnostics[0].range.start.line == adam_line
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=doc.uri),
        range=types.Range(start=types.Position(adam_line, 0), end=types.Position(adam_line, 0)),
        context=types.CodeActionContext(diagnostics=diagnostics)))
    (action,) = actions
    assert action.title == "Rename `lr` to `learning_rate` (Keras 3)" and action.is_preferred
    assert list(action.diagnostics) == list(diagnostics)
    (edit,) = action.edit.changes[doc.uri]
    line = doc.lines[adam_line]
    assert line[edit.range.start.character:edit.range.end.character] == "lr"
    fixed = line[:edit.range.start.character] + edit.new_text + line[edit.range.end.character:]
    assert fixed.strip() == "optimizer=keras.optimizers.Adam(learning_rate=learningRate),"
    lines = doc.lines
    lines[adam_line] = fixed
    doc.replace("\n".join(lines))
    doc.save()
    diagram = await doc.diagram(version=doc.version)
    assert diagram["errors"] == []
    assert diagram["models"][0]["factory"] == "cconstruct_model"


async def test_a_main_guard_script_and_a_main_function_draw_with_hovers_lenses_and_stand_in_fixes(
        client: LanguageClient, workspace: Path):
    """The script bodies through the editor: the guard's CIFAR-10 convnet has hovers, inlay hints and
    its lens at its lines inside the guard; main()'s MLP needs its data, and the quick fixes put the
    stand-in comments on the lines inside main() that make it draw."""
    guard = Doc(client, workspace / "scripts" / "cifar10_cnn.py")
    diagram = await guard.diagram(version=1)
    assert diagram["errors"] == []
    (convnet,) = diagram["models"]
    assert (convnet["factory"], convnet["graph"]["total_params"]) == ("model", 1_250_858)
    conv_line = guard.line_of('layers.Conv2D(32, 3, activation="relu")')
    hover = await guard.hover(conv_line)
    assert hover is not None and "(None, 30, 30, 32)" in hover
    assert any(h.position.line == conv_line for h in await guard.inlay_hints())
    assert [lens.range.start.line for lens in await guard.code_lenses()] == [guard.line_of("model = keras.Sequential(")]

    script = Doc(client, workspace / "scripts" / "tabular_mlp.py")
    diagram = await script.diagram(version=1)
    assert diagram["models"] == [] and [e["factory"] for e in diagram["errors"]] == ["main.model"]
    actions = await actions_at(client, script, script.line_of("model = keras.Sequential(["))
    stand_ins = {"x": '"float32"), np.arange(200) % 3', "num_classes": "3"}
    lines = script.lines
    fixed = set()
    for action in actions:
        (edit,) = action.edit.changes[script.uri]
        line = edit.range.start.line
        assert edit.range.start.character == len(lines[line]) and edit.new_text == "  # netviz: value="
        name = next(n for n in stand_ins if f"`{n}`" in action.title)
        value = stand_ins[name] if name == "num_classes" else 'np.zeros((200, 12), ' + stand_ins[name]
        lines[line] += edit.new_text + value
        fixed.add(lines[line].strip().split(" ")[0])
    assert fixed == {"x,", "num_classes"}  # the read in main() and the value computed from it
    script.replace("\n".join(lines))
    script.save()
    diagram = await script.diagram(version=script.version)
    assert diagram["errors"] == []
    (mlp,) = diagram["models"]
    assert (mlp["factory"], mlp["graph"]["total_params"]) == ("main.model", 12 * 128 + 128 + 128 * 64 + 64 + 64 * 3 + 3)
    assert sorted(p.name for p in (workspace / "scripts").iterdir()) == ["cifar10_cnn.py", "tabular_mlp.py"]
