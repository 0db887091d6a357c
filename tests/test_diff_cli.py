"""``netviz diff FILE --against REV`` as a subprocess, on a temporary git repository holding a
training script and the workspace module it imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "diff"

pytestmark = pytest.mark.needs_tool("git", reason="git is not installed")

FLATTENED = 8 * 8 * 64
HIDDEN_DELTA = (FLATTENED * 256 + 256) - (FLATTENED * 128 + 128)
CLASSES_DELTA = (256 * 10 + 10) - (128 * 10 + 10)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=dev@example.com", "-c", "user.name=Dev", *args],
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose HEAD has the fixtures, and whose working copy widens ``hidden``, adds a
    Dropout after it, and renames ``build_baseline`` to ``build_linear``."""
    repo = tmp_path_factory.mktemp("project")
    for name in ("train_classifier.py", "layers_lib.py"):
        shutil.copy(FIXTURES / name, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "A CIFAR-10 classifier")
    script = repo / "train_classifier.py"
    text = script.read_text()
    text = text.replace('    x = layers.Dense(128, activation="relu", name="hidden")(x)\n',
                        '    x = layers.Dense(256, activation="relu", name="hidden")(x)\n'
                        '    x = layers.Dropout(0.5, name="hidden_dropout")(x)\n')
    text = text.replace("def build_baseline():", "def build_linear():")
    script.write_text(text)
    return repo


def netviz(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "netviz_lsp.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_table_names_each_changed_layer_and_the_exact_params_delta(repo: Path):
    done = netviz("diff", "train_classifier.py", "--against", "HEAD", cwd=repo)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "train_classifier.py against HEAD"
    before = 3 * 3 * 3 * 32 + 32 + 4 * 32 + 3 * 3 * 32 * 64 + 64 + 4 * 64 + FLATTENED * 128 + 128 + 128 * 10 + 10
    after = before + HIDDEN_DELTA + CLASSES_DELTA
    assert lines[1] == f"build_classifier: {before:,} -> {after:,} params (+{HIDDEN_DELTA + CLASSES_DELTA:,})"
    rows = [line.split() for line in lines[2:5]]
    assert [row[:3] for row in rows] == [["changed", "hidden", "Dense"], ["added", "hidden_dropout", "Dropout"],
                                         ["changed", "classes", "Dense"]]
    assert "(None, 128) -> (None, 256)" in lines[2] and f"(+{HIDDEN_DELTA:,})" in lines[2]
    assert f"(+{CLASSES_DELTA:,})" in lines[4]
    assert lines[5:] == ["build_linear: new since HEAD (30,730 params)", "build_baseline: gone since HEAD (had 30,730 params)"]
    assert sorted(p.name for p in repo.iterdir()) == [".git", "layers_lib.py", "train_classifier.py"]  # no copy left


def test_json_carries_the_changes_as_the_server_sends_them(repo: Path):
    done = netviz("diff", "train_classifier.py", "--against", "HEAD", "--format", "json", "--factory", "build_classifier",
                  cwd=repo)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["against"] == "HEAD" and data["errors"] == []
    (model,) = data["models"]
    assert model["status"] == "changed"
    assert model["changes"] == {"added": ["hidden_dropout"], "removed": [], "changed": ["hidden", "classes"],
                                "params_delta": HIDDEN_DELTA + CLASSES_DELTA}
    assert model["total_params"]["after"] - model["total_params"]["before"] == HIDDEN_DELTA + CLASSES_DELTA


@pytest.mark.needs_tool("dot", reason="Graphviz dot is not installed")
def test_svg_highlights_the_added_and_changed_layers(repo: Path, tmp_path: Path):
    out = tmp_path / "review.svg"
    done = netviz("diff", "train_classifier.py", "--against", "HEAD", "--format", "svg", "--factory", "build_classifier",
                  "-o", str(out), cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    svg = out.read_text()

    def classes(node_id: str) -> str:
        start = svg.index(f'id="{node_id}"')
        tag = svg[svg.rindex("<g", 0, start):svg.index(">", start)]
        return tag.split('class="', 1)[1].split('"', 1)[0]

    assert classes("hidden_dropout").endswith("layer&#45;added")
    assert classes("hidden").endswith("layer&#45;changed") and classes("classes").endswith("layer&#45;changed")
    assert "layer&#45;added" not in classes("stage1_conv") and "layer&#45;changed" not in classes("flatten")
    assert "#fff8c5" in svg and "#dafbe1" in svg  # the amber and green fills, for PNG and PDF too


def test_a_revision_git_cannot_read_is_an_error(repo: Path):
    done = netviz("diff", "train_classifier.py", "--against", "no-such-branch", cwd=repo)
    assert done.returncode == 2
    assert "cannot read train_classifier.py at no-such-branch" in done.stderr
    untracked = repo / "notes.py"
    untracked.write_text("import keras\n")
    try:
        done = netviz("diff", "notes.py", "--against", "HEAD", cwd=repo)
        assert done.returncode == 2 and "cannot read notes.py at HEAD" in done.stderr
    finally:
        untracked.unlink()
