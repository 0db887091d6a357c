"""The ``netviz`` command as a user runs it: real subprocesses, real worker, real ``dot``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BAD = Path(__file__).resolve().parent / "fixtures" / "bad"
SVG = "{http://www.w3.org/2000/svg}"


def netviz(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netviz_lsp.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env, cwd=ROOT)


def test_json_reports_the_article_models_and_only_json_on_stdout():
    done = netviz("render", "examples/seed_cnns.py", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["file"] == "examples/seed_cnns.py" and data["errors"] == []
    models = {m["factory"]: m for m in data["models"]}
    assert {k: m["total_params"] for k, m in models.items()} == {
        "construct_model": 63_021_004, "sconstruct_model": 5_277_260, "cconstruct_model": 5_074_156}
    conv = models["construct_model"]["layers"][0]
    assert conv["output_shape"] == [None, 126, 126, 64] and conv["params"] == 640 and conv["line"] == 20
    assert "construct_model: Sequential, 8 layers, 63,021,004 params" in done.stderr


def test_user_output_goes_to_stderr():
    done = netviz("render", str(BAD / "prints.py"), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["models"][0]["factory"] == "noisy"
    for text in ("hello from the factory", "straight to fd 1", "via sys.stdout"):
        assert text in done.stderr
    assert "top-level print" not in done.stderr  # not in the slice: never runs


def test_resnet50_and_efficientnet_render_to_svg_and_png(tmp_path):
    for fmt in ("svg", "png"):
        done = netviz("render", "examples/applications.py", "--factory", "resnet50", "--factory", "efficientnet_b0",
                      "--format", fmt, "--output", str(tmp_path))
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [str(tmp_path / f"applications.{name}.{fmt}")
                                       for name in ("resnet50", "efficientnet_b0")]
    data = json.loads(netviz("render", "examples/applications.py", "--factory", "resnet50", "--format", "json").stdout)
    ids = {layer["id"] for layer in data["models"][0]["layers"]}
    assert len(ids) == 177
    svg = ET.parse(tmp_path / "applications.resnet50.svg").getroot()
    node_ids = {g.get("id") for g in svg.iter(f"{SVG}g") if "node" in (g.get("class") or "")}
    # 177 layers: drawn collapsed to its top-level groups (stem, conv2 ... conv5, head), each holding its layers
    groups = {g["id"]: g for g in data["models"][0]["groups"]}
    assert node_ids & set(groups) == {g for g, group in groups.items() if group["parent"] is None}
    assert ids <= node_ids | {i for g in node_ids & set(groups) for i in groups[g]["layers"]}
    for name in ("resnet50", "efficientnet_b0"):
        assert (tmp_path / f"applications.{name}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_groups_open_draws_every_layer_of_a_big_model_and_closed_only_the_top_groups(tmp_path):
    data = json.loads(netviz("render", "examples/applications.py", "--factory", "resnet50", "--format", "json").stdout)
    ids = {layer["id"] for layer in data["models"][0]["layers"]}
    groups = {g["id"]: g for g in data["models"][0]["groups"]}
    drawn = {}
    for mode in ("open", "closed"):
        out = tmp_path / mode
        done = netviz("render", "examples/applications.py", "--factory", "resnet50", "--groups", mode,
                      "--output", str(out))
        assert done.returncode == 0, done.stderr
        svg = ET.parse(out / "applications.resnet50.svg").getroot()
        drawn[mode] = {g.get("id") for g in svg.iter(f"{SVG}g") if "node" in (g.get("class") or "")}
    assert ids <= drawn["open"] and not drawn["open"] & set(groups)  # 177 layers, no group box left closed
    top = {g for g, group in groups.items() if group["parent"] is None}
    grouped = {layer for g in top for layer in groups[g]["layers"]}
    assert drawn["closed"] == top | (ids - grouped) and ids - grouped == {"input_layer"}


@pytest.mark.parametrize("fmt,magic", [("pdf", b"%PDF"), ("dot", b"digraph")])
def test_other_formats(tmp_path, fmt, magic):
    done = netviz("render", "examples/nested.py", "--factory", "siamese", "--format", fmt,
                  "--output", str(tmp_path), "--expand-nested")
    assert done.returncode == 0, done.stderr
    data = Path(done.stdout.strip()).read_bytes()
    assert data.startswith(magic)
    if fmt == "dot":
        assert b"cluster" in data and b"shared_features/conv2d" in data


def test_errors_exit_1_and_good_factories_still_render(tmp_path):
    done = netviz("render", str(BAD / "raises.py"), "--output", str(tmp_path))
    assert done.returncode == 1
    # The good model, then each failed one drawn up to its error
    assert done.stdout.split() == [str(tmp_path / f"raises.{name}.svg")
                                   for name in ("good", "article_adam", "shape_mismatch")]
    assert "raises.py:7: build error in article_adam: ValueError: Argument(s) not recognized" in done.stderr
    partial = tmp_path / "raises.article_adam.svg"
    assert f"raises.py:7: note: article_adam drawn up to the error: {partial}" in done.stderr
    built = r"good: Sequential, 1 layers, 36 params \(36\), built shape-only on (tensorflow|jax|torch) in \d+ ms"
    assert re.search(built, done.stderr), done.stderr
    assert "Traceback" not in done.stderr


def test_a_failed_model_is_drawn_up_to_the_error_in_each_format(tmp_path):
    """Add receives (None, 8) and (None, 9): the input, both towers and the failed Add, the message beside it."""
    fixture = ROOT / "tests" / "fixtures" / "failures" / "tabular_two_towers.py"
    done = netviz("render", str(fixture), "--format", "svg,png,pdf", "--output", str(tmp_path))
    assert done.returncode == 1, "a failed build stays a failure, drawing or not"
    paths = [tmp_path / f"tabular_two_towers.two_towers.{fmt}" for fmt in ("svg", "png", "pdf")]
    assert done.stdout.split() == [str(p) for p in paths]
    assert ("tabular_two_towers.py:18: build error in two_towers: ValueError: Inputs have incompatible shapes. "
            "Received shapes (8,) and (9,)") in done.stderr
    note = f"tabular_two_towers.py:18: note: two_towers drawn up to the error: {', '.join(map(str, paths))}"
    assert note in done.stderr
    nodes = {g.get("id"): g for g in ET.parse(paths[0]).getroot().iter(f"{SVG}g")
             if "node" in (g.get("class") or "").split()}
    assert set(nodes) == {"features", "wide", "deep", "merge", "netviz_failure_note"}
    assert "layer-failed" in nodes["merge"].get("class").split()
    assert not any("layer-failed" in nodes[i].get("class").split() for i in ("features", "wide", "deep"))
    assert nodes["netviz_failure_note"].get("class") == "node failure-note"
    note = " ".join(t.text or "" for t in nodes["netviz_failure_note"].iter(f"{SVG}text"))
    assert "merge failed" in note and "Received" in note and "(8,) and (9,)" in note
    assert paths[1].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert paths[2].read_bytes().startswith(b"%PDF")


def test_a_failed_models_html_page_holds_its_partial_graph_as_the_panel_does(tmp_path):
    viewer = tmp_path / "viewer"
    (viewer / "dist").mkdir(parents=True)
    (viewer / "media").mkdir()
    (viewer / "dist" / "standalone.js").write_text("document.title = 'viewer';\n")
    (viewer / "media" / "preview.css").write_text("body { margin: 0; }\n")
    fixture = ROOT / "tests" / "fixtures" / "failures" / "tabular_two_towers.py"
    done = netviz("render", str(fixture), "--format", "html", "--output", str(tmp_path / "out"),
                  env=dict(os.environ, NETVIZ_VIEWER_DIR=str(viewer), TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 1
    page = tmp_path / "out" / "tabular_two_towers.two_towers.html"
    assert done.stdout.split() == [str(page)]
    text = page.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="netviz-standalone">(.*?)</script>', text, re.S)
    data = json.loads(found[1])
    (model,) = data["diagram"]["models"]
    assert (model["factory"], model["svg"], model["partialOnly"], model["stale"]) == ("two_towers", None, True, False)
    assert [(l["id"], bool(l.get("failed"))) for l in model["partial"]["graph"]["layers"]] == [
        ("features", False), ("wide", False), ("deep", False), ("merge", True)]
    assert model["partial"]["error"]["line"] == 18 and "(8,) and (9,)" in model["partial"]["error"]["message"]
    classes = {g.get("id"): g.get("class") for g in ET.fromstring(model["partial"]["svg"]).iter(f"{SVG}g")}
    assert classes["merge"] == "node layer layer-merge layer-failed"
    assert classes["netviz_failure_note"] == "node failure-note"
    assert [e["factory"] for e in data["diagram"]["errors"]] == ["two_towers"]


def test_other_views_draw_no_partial_graph(tmp_path):
    fixture = ROOT / "tests" / "fixtures" / "failures" / "tabular_two_towers.py"
    done = netviz("render", str(fixture), "--view", "keras", "--output", str(tmp_path))
    assert done.returncode == 1
    assert done.stdout == "" and list(tmp_path.iterdir()) == []
    assert "drawn up to the error" not in done.stderr


def test_several_formats_come_from_one_build(tmp_path):
    done = netviz("render", "examples/nested.py", "--format", "svg,png", "--output", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(tmp_path / f"nested.{name}.{fmt}")
                                   for fmt in ("svg", "png") for name in ("feature_block", "siamese")]
    assert done.stderr.count("siamese: Functional, 8 layers") == 1  # built once
    assert (tmp_path / "nested.siamese.png").read_bytes().startswith(b"\x89PNG")


def test_usage_errors_exit_2(tmp_path):
    assert netviz("render", str(tmp_path / "missing.py")).returncode == 2
    assert netviz("render", "examples/unet.py", "--format", "gif").returncode == 2
    assert netviz("render", "examples/unet.py", "examples/nested.py", "--format", "json").returncode == 2
    assert netviz().returncode == 2
    assert netviz("render", "examples/unet.py", "--format", "json,svg").returncode == 2


def test_no_factories_is_exit_0_with_a_note():
    done = netviz("render", str(BAD / "no_factories.py"), "--format", "json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["models"] == []
    assert "no Keras models found" in done.stderr


def test_non_utf8_file_is_a_syntax_error_at_its_line(tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes(b"import keras\n\nNAME = '\xe9t\xe9'\n")
    done = netviz("render", str(path), "--format", "json")
    assert done.returncode == 1
    (error,) = json.loads(done.stdout)["errors"]
    assert error["kind"] == "syntax" and error["line"] == 3 and "utf-8" in error["message"]


def test_a_failing_dot_is_an_error_entry_not_a_traceback(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dot").write_text("#!/bin/sh\nkill -ABRT $$\n")
    (bin_dir / "dot").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    done = netviz("render", "examples/nested.py", "--factory", "siamese", "--output", str(tmp_path), env=env)
    assert done.returncode == 1
    assert "render error in siamese: the diagram could not be drawn: dot crashed (SIGABRT)" in done.stderr
    assert "Traceback" not in done.stderr
