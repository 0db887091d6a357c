"""The language server's pure logic, without a server: hover Markdown, inlay labels, line
mapping, diagnostics, code lens titles, the latest-wins scheduler, command arguments,
settings parsing and the workspace imports the watcher follows."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import threading
from pathlib import Path

import pytest

from netviz_lsp.discovery import discover
from netviz_lsp.graph import BuildError, FileResult, Layer
from netviz_lsp.server import markdown
from netviz_lsp.server.commands import CommandFailed, command_args, export_path
from netviz_lsp.server.configuration import compare, settings_object
from netviz_lsp.engine.workspace import imported_names, workspace_dependencies
from netviz_lsp.server.diagnostics import diagnostics_for, to_diagnostic
from netviz_lsp.server.documents import Built, Document, Snapshot
from netviz_lsp.server.guard import guarded
from netviz_lsp.server.hover import hover_markdown
from netviz_lsp.server.inlay import inlay_label, layers_by_line
from netviz_lsp.server.lens import factory_lenses, lens_title
from netviz_lsp.server.positions import LineMap, matching_lines, split_lines, utf16_width
from netviz_lsp.server.scheduler import BUILD, RENDER, BuildScheduler, State
from netviz_lsp.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEED = FileResult.from_dict(json.loads((ROOT / "tests/fixtures/server/seed_cnns.json").read_text()))
# The graph of examples/seed_cnns.py as `netviz render --format json` printed it, with that
# file's text as it was then: their lines agree even if the example changes.
SEED_SOURCE = (ROOT / "tests/fixtures/server/seed_cnns_source.txt").read_text()
CONSTRUCT = SEED.model("construct_model")
CCONSTRUCT = SEED.model("cconstruct_model")


def line_of(needle: str, text: str = SEED_SOURCE) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


def layer(name: str, class_name: str = "Dense", shape=(None, 4), params: int = 20, line: int = 5, **extra) -> Layer:
    return Layer(id=name, name=name, class_name=class_name, line=line, call_lines=[line],
                 output_shape=list(shape), params=params, trainable=True, trainable_params=params, **extra)


# -- hover -----------------------------------------------------------------------------------

def test_hover_on_a_layer_line_is_a_table_row_with_shape_params_and_split():
    text = hover_markdown([CONSTRUCT], line_of('layers.Conv2D(64, (3, 3), activation="relu"))'))
    header, rule, row = text.split("\n")
    assert header.startswith("| Layer | Class | Output shape | Params | Trainable | Non-trainable | Activation")
    assert row == "| conv2d | Conv2D | `(None, 126, 126, 64)` | 640 | 640 | 0 | relu |"


def test_hover_on_a_loop_line_shows_every_layer_it_made():
    text = hover_markdown([CCONSTRUCT], line_of("model.add(layers.Conv2D(filters, kernel"))
    rows = [line for line in text.split("\n") if line.startswith("| conv2d")]
    assert [row.split(" | ")[2] for row in rows] == [
        "`(None, 128, 128, 32)`", "`(None, 64, 64, 32)`", "`(None, 32, 32, 128)`", "`(None, 16, 16, 256)`"]
    assert "4 layers on this line · 866,528 params (866,528 trainable, 0 non-trainable)" in text


def test_hover_on_a_factory_def_line_is_the_model_summary():
    text = hover_markdown(SEED.models, line_of("def construct_model"))
    for expected in ("**construct\\_model()** · Sequential", "| Total params | 63,021,004 (63.0M) |",
                     "| Trainable params | 63,021,004 |", "| Non-trainable params | 0 |",
                     "`(None, 128, 128, 1)`", "`(None, 12)`", "| Layers | 8 |", "| Weights | 240.41 MB |",
                     "shape-only"):
        assert expected in text, expected


def test_hover_on_a_line_without_layers_is_nothing():
    assert hover_markdown(SEED.models, line_of("NUM_CLASSES = 12")) is None
    assert hover_markdown([], 3) is None


def test_hover_shows_the_trainable_split_of_a_batch_norm_layer():
    text = hover_markdown(SEED.models, line_of("layers.BatchNormalization(),"))
    assert "| batch\\_normalization | BatchNormalization | `(None, 124, 124, 8)` | 32 | 16 | 16 |" in text


def test_user_text_is_escaped_in_hover():
    evil = layer("<img src=x onerror=alert(1)>", class_name="My|Layer*")
    graph = dataclasses.replace(CONSTRUCT, layers=[evil])
    text = hover_markdown([graph], 5)
    assert "<img" not in text and "&lt;img src=x onerror=alert\\(1\\)&gt;" in text
    assert "My\\|Layer\\*" in text
    assert text.split("\n")[2].count(" | ") == 6  # the row still has seven cells


@pytest.mark.parametrize("raw, escaped", [
    ("a|b", "a\\|b"), ("<b>&", "&lt;b&gt;&amp;"), ("x_y*z`", "x\\_y\\*z\\`"), ("[l](u)", "\\[l\\]\\(u\\)"),
    ("two\nlines", "two lines"),
])
def test_markdown_escape(raw, escaped):
    assert markdown.escape(raw) == escaped


# -- inlay hints -----------------------------------------------------------------------------

def test_inlay_label_for_one_layer():
    conv = CONSTRUCT.layers_at_line(line_of('layers.Conv2D(64, (3, 3), activation="relu"))'))
    assert inlay_label(conv) == "→ (None, 126, 126, 64) · 640 params"
    pool = CONSTRUCT.layers_at_line(line_of("layers.MaxPooling2D(pool_size=(2, 2)))"))
    assert inlay_label(pool) == "→ (None, 62, 62, 64)"  # no "0 params"
    dense = CONSTRUCT.layers_at_line(line_of("layers.Dense(256"))
    assert inlay_label(dense) == "→ (None, 256) · 63.0M params"


def test_inlay_label_summarises_a_loop_line():
    convs = CCONSTRUCT.layers_at_line(line_of("model.add(layers.Conv2D(filters, kernel"))
    assert inlay_label(convs) == "→ 4× Conv2D, last (None, 16, 16, 256) · 866,528 params"
    mixed = [layer("d", "Dense", params=10), layer("b", "BatchNormalization", shape=(None, 8), params=32)]
    assert inlay_label(mixed) == "→ 2 layers, last (None, 8) · 42 params"
    assert inlay_label([]) is None


def test_inlay_lines_follow_unsaved_edits():
    built = split_lines(SEED_SOURCE)
    now = ["# a new first line", *built]
    conv_line = line_of('layers.Conv2D(64, (3, 3), activation="relu"))')
    found = layers_by_line([(CONSTRUCT, LineMap(built, now))], 0, len(now))
    assert [l.name for l in found[conv_line]] == ["conv2d"]  # 1-based old line == 0-based new line + 0
    assert conv_line - 1 not in found


# -- positions -------------------------------------------------------------------------------

def test_line_map_through_inserts_deletes_and_edits():
    old = ["a", "b", "c", "d", "e"]
    new = ["x", "a", "b", "C", "d", "e"]
    line_map = LineMap(old, new)
    assert [line_map.to_new(i) for i in range(5)] == [1, 2, None, 4, 5]
    assert [line_map.to_old(i) for i in range(6)] == [None, 0, 1, None, 3, 4]
    assert LineMap(old, old).identity and LineMap(old, old).to_new(4) == 4
    assert LineMap(old, []).to_new(0) is None and LineMap(old, old).to_new(-1) is None


def test_line_map_of_a_large_reformat_only_maps_equal_lines():
    old = [f"x{i} = f({i})" for i in range(4000)]
    new = [line + "  # changed" if i % 5 == 0 else line for i, line in enumerate(old)]
    pairs = matching_lines(old, new)
    assert pairs == [(i, i) for i in range(4000) if i % 5]  # every unchanged line, and only those


def test_split_lines_and_widths_agree_with_lsp():
    assert split_lines("a\r\nb\rc\nd") == ["a", "b", "c", "d"]
    assert split_lines("a\x0cb\u2028c") == ["a\x0cb\u2028c"]  # not line breaks for Python or LSP
    assert utf16_width("a😀b") == 4


# -- diagnostics -----------------------------------------------------------------------------

def test_a_build_error_becomes_an_error_diagnostic_at_its_line():
    error = BuildError("build", "Argument(s) not recognized: {'lr': 0.001}", 15, "cconstruct_model")
    diagnostic = to_diagnostic(error, 14, "        optimizer=keras.optimizers.Adam(lr=learningRate),")
    assert (diagnostic.range.start.line, diagnostic.range.start.character, diagnostic.range.end.character) == \
        (14, 8, 57)
    assert diagnostic.source == "netviz" and diagnostic.code == "build" and diagnostic.severity == 1
    assert diagnostic.message == "cconstruct_model(): Argument(s) not recognized: {'lr': 0.001}"


def test_diagnostics_move_with_their_line_or_are_dropped():
    built = ["def f():", "    bad()", "    return m"]
    errors = [BuildError("build", "boom", 2, "f"), BuildError("timeout", "slow", None, "f"),
              BuildError("syntax", "bad", 3, None, column=4)]
    moved = diagnostics_for(errors, {"f": 1}, LineMap(built, ["# new", *built]), ["# new", *built])
    assert [(d.range.start.line, d.code) for d in moved] == [(2, "build"), (1, "timeout"), (3, "syntax")]
    assert moved[2].range.start.character == 4
    edited = ["def f():", "    bad(1)", "    return m"]
    kept = diagnostics_for(errors, {"f": 1}, LineMap(built, edited), edited)
    assert [d.code for d in kept] == ["timeout", "syntax"]  # the edited line's error is gone


# -- code lens -------------------------------------------------------------------------------

def test_lens_titles():
    found = discover((ROOT / "tests/fixtures/server/needs_args.py").read_text(), "needs_args.py")
    small, build_dense = found.factories
    assert lens_title(build_dense, None, False) == "NetViz: needs arguments"
    assert lens_title(small, CONSTRUCT, False) == "NetViz: preview · 63.0M params"
    assert lens_title(small, CONSTRUCT, True) == "NetViz: build failed"
    assert lens_title(small, None, False) == "NetViz: preview"
    lines = split_lines((ROOT / "tests/fixtures/server/needs_args.py").read_text())
    lenses = factory_lenses(found.factories, LineMap(lines, ["", *lines]), {}, set())
    assert [(lens.line, lens.factory) for lens in lenses] == [(small.line, "small"), (build_dense.line, "build_dense")]


def test_a_file_wide_failure_fails_every_factory_it_meant_to_build():
    found = discover((ROOT / "tests/fixtures/server/needs_args.py").read_text(), "needs_args.py")
    built = Built(Snapshot(1, ""), found, FileResult("f", errors=[BuildError("build", "ImportError", 3)]))
    assert built.failed_factories() == {"small"}


# -- documents -------------------------------------------------------------------------------

def test_a_failed_factory_keeps_its_last_good_graph():
    document = Document("file:///seed.py", "/seed.py", SEED_SOURCE, 1)
    found = discover(SEED_SOURCE, "/seed.py")
    document.record(Built(Snapshot(1, SEED_SOURCE), found, SEED))
    broken = FileResult("f", models=[CONSTRUCT], errors=[BuildError("build", "x", 60, "cconstruct_model")])
    document.record(Built(Snapshot(2, SEED_SOURCE), found, broken))
    assert set(document.good) == {"construct_model", "sconstruct_model", "cconstruct_model"}
    assert document.last.failed_factories() == {"cconstruct_model"}
    document.update("# moved\n" + SEED_SOURCE, 3)
    graphs, built_line = next(document.graphs_at(line_of("def construct_model")))  # 0-based now: +1 line
    assert built_line == line_of("def construct_model") - 1


def test_lenses_outlive_a_syntax_error_and_say_the_build_failed():
    source = (ROOT / "tests/fixtures/server/needs_args.py").read_text()
    document = Document("file:///n.py", "/n.py", source, 1)
    found = discover(source, "/n.py")
    small = dataclasses.replace(CONSTRUCT, factory="small")
    document.record(Built(Snapshot(1, source), found, FileResult("f", models=[small])))
    broken = source.replace("def small(units=8):", "def small(units=8:")
    document.update(broken, 2)
    syntax = discover(broken, "/n.py")
    document.record(Built(Snapshot(2, broken), syntax, FileResult("f", errors=syntax.errors)))
    assert document.discovered[0] is found and "small" in document.good
    assert document.failed_factories() == {"small"}


# -- scheduler -------------------------------------------------------------------------------

def test_saves_during_a_build_collapse_into_one_more_build():
    ran, release, started = [], threading.Event(), threading.Event()

    def run(job):
        ran.append(job)
        started.set()
        release.wait(5)

    queued = []
    scheduler = BuildScheduler(run, on_queued=queued.append)
    first = scheduler.submit("a", BUILD, 0)
    assert started.wait(5)
    assert scheduler.state("a") == State.BUILDING
    jobs = [scheduler.submit("a", BUILD, version) for version in range(1, 10)]
    assert scheduler.state("a") == State.BUILDING_AND_QUEUED
    assert scheduler.superseded(first) and not scheduler.superseded(jobs[-1])
    release.set()
    assert scheduler.wait_idle(5)
    assert [job.payload for job in ran] == [0, 9]
    assert ran[-1].merged == 9 and len(queued) == 9
    assert scheduler.state("a") == State.IDLE
    scheduler.close()


def test_a_build_covers_a_render_but_not_the_other_way_round():
    ran, release, started = [], threading.Event(), threading.Event()

    def run(job):
        ran.append((job.key, job.kind, job.payload))
        started.set()
        release.wait(5)

    scheduler = BuildScheduler(run)
    scheduler.submit("busy", BUILD, "b0")
    assert started.wait(5)  # "busy" runs, so what follows queues behind it
    build = scheduler.submit("a", BUILD, "b1")
    render = scheduler.submit("a", RENDER, "r1")
    assert render is build and not scheduler.superseded(build)
    scheduler.submit("c", RENDER, "r2")
    later = scheduler.submit("c", BUILD, "b2")
    release.set()
    assert scheduler.wait_idle(5)
    assert ran == [("busy", BUILD, "b0"), ("a", BUILD, "b1"), ("c", BUILD, "b2")]
    assert not scheduler.superseded(later)
    scheduler.discard("c")
    assert scheduler.superseded(later)
    scheduler.close()


def test_a_job_that_raises_does_not_stop_the_scheduler():
    ran = []

    def run(job):
        ran.append(job.payload)
        if job.payload == 1:
            raise RuntimeError("bug")

    scheduler = BuildScheduler(run)
    scheduler.submit("a", BUILD, 1)
    assert scheduler.wait_idle(5)
    scheduler.submit("a", BUILD, 2)
    assert scheduler.wait_idle(5)
    assert ran == [1, 2]
    scheduler.close()


# -- guarded handlers ------------------------------------------------------------------------

class FakeServer:
    def __init__(self):
        self.logged = []

    def window_log_message(self, params):
        self.logged.append(params.message)


def test_guarded_handlers_log_internal_errors_and_let_refusals_through():
    @guarded
    def hover(ls, params):
        raise KeyError("bug")

    @guarded
    async def export(ls, *args):
        raise CommandFailed(message="exists")

    server = FakeServer()
    assert hover(server, object()) is None
    assert server.logged == ["NetViz internal error in hover: KeyError: 'bug'"]
    with pytest.raises(CommandFailed, match="exists"):
        asyncio.run(export(server, {"uri": "u"}))
    assert list(inspect.signature(export).parameters) == ["ls", "args"] and export.__name__ == "export"


# -- commands and settings -------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [{"uri": "u", "factory": "f", "format": "png", "path": "/p"}],
    ["u", "f", "png", "/p"],
    [["u", "f", "png", "/p"]],
    ["u", {"factory": "f", "format": "png", "path": "/p"}],
])
def test_command_arguments_as_object_or_positional(args):
    assert command_args(args, ("uri", "factory", "format", "path", "overwrite")) == \
        {"uri": "u", "factory": "f", "format": "png", "path": "/p"}


def test_export_paths(tmp_path: Path):
    document = Document("file:///x", str(tmp_path / "model.py"), "", 1)
    assert export_path("out/a.svg", "svg", document, "f") == str(tmp_path / "out" / "a.svg")
    assert export_path(None, "png", document, "build") == str(tmp_path / "model.build.png")


def test_settings_objects_and_what_their_change_means():
    assert settings_object({"netviz": {"render": {"rankdir": "LR"}}}) == {"render": {"rankdir": "LR"}}
    assert settings_object({"inlayHints": {"enabled": False}}) == {"inlayHints": {"enabled": False}}
    assert settings_object(None) is None and settings_object({"python": {}}) is None
    assert settings_object({"netviz": {}}) is None
    base = Settings()
    rerender = compare(base, Settings.from_json({"render": {"rankdir": "LR"}}))
    assert rerender.rerender and not rerender.rebuild
    rebuild = compare(base, Settings.from_json({"build": {"timeoutSeconds": 5}, "render": {"rankdir": "LR"}}))
    assert rebuild.rebuild and not rebuild.rerender and not rebuild.restart_worker
    assert compare(base, Settings.from_json({"build": {"memoryLimitMB": 1234}})).restart_worker
    assert compare(base, Settings.from_json({"inlayHints": {"enabled": False}})).refresh_hints
    assert compare(base, base) == compare(base, Settings.from_json({})) == \
        type(rerender)(rebuild=False, rerender=False, restart_worker=False, refresh_hints=False)


@pytest.mark.parametrize("render", [
    {"layered": {"spacing": 40}},
    {"layered": {"typeIgnore": ["Dropout"]}},
    {"layered": {"legend": False}},
    {"neuron": {"maxUnits": 4}},
    {"neuron": {"legend": False}},
    {"collapseRepeats": False},
    {"collapseRepeats": True},
])
def test_a_views_setting_redraws_without_a_build(render):
    new = Settings.from_json({"render": render})
    assert new.views != Settings().views and new.render == Settings().render  # only the views changed
    change = compare(Settings(), new)
    assert change.rerender and not change.rebuild and not change.restart_worker and not change.refresh_hints
    assert compare(new, Settings()).rerender  # and changing it back redraws too
    # A build change still covers it: the rebuild draws with the new views settings anyway.
    both = compare(Settings(), Settings.from_json({"render": render, "build": {"shapeOnly": False}}))
    assert both.rebuild and not both.rerender


# -- dependencies ----------------------------------------------------------------------------

def test_imported_names_keep_submodule_candidates():
    names = imported_names("import a.b\nfrom pkg import sub, other\nfrom . import sibling\n"
                           "def f():\n    from .rel import x\n")
    assert set(names) >= {(0, "a.b"), (0, "pkg"), (0, "pkg.sub"), (1, "sibling"), (1, "rel"), (1, "rel.x")}


def test_workspace_dependencies_are_transitive_and_stay_in_the_workspace(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub.py").write_text("import helpers\n")
    (tmp_path / "helpers.py").write_text("import os\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "keras.py").write_text("")
    (tmp_path / "model.py").write_text("")
    found = workspace_dependencies(str(tmp_path / "model.py"), "from pkg import sub\nimport keras\n", [str(tmp_path)])
    assert found == {str(tmp_path / "pkg" / "__init__.py"), str(tmp_path / "pkg" / "sub.py"),
                     str(tmp_path / "helpers.py")}
