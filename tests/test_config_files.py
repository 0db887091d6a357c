"""Training scripts sized from a config file, built end to end with real Keras.

A config read (``discovery/effects.py``'s ``CONFIG``: json, tomllib, configparser...) of a
config path runs, ``with open(...)`` block included; the worker checks each such read
(``worker/offline.py``: inside the file's folder or a workspace root, at most 1 MB). Each
fixture folder in ``tests/fixtures/configs/`` is copied to a temporary folder and built through
``Engine.build``, as ``test_realworld.py`` does. Totals were checked against plain Keras 3
running the same layers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from real_builds import build_file, line_of, model

from netviz_lsp.settings import Settings

CONFIGS = Path(__file__).resolve().parent / "fixtures" / "configs"

TRANSFORMER_PARAMS = (20000 * 32 + 200 * 32                 # token and position embeddings
                      + 3 * (32 * 2 * 32 + 2 * 32) + 2 * 32 * 32 + 32  # attention, 2 heads of 32
                      + 2 * 64 + (32 * 32 + 32) * 2          # two layer norms, the feed-forward pair
                      + (32 * 20 + 20) + (20 * 2 + 2))       # the head
CONVNET_PARAMS = (3 * 3 * 3 * 32 + 32 + 4 * 32 + 3 * 3 * 32 * 32 + 32
                  + 3 * 3 * 32 * 64 + 64 + 4 * 64 + 3 * 3 * 64 * 64 + 64
                  + 8 * 8 * 64 * 128 + 128 + 128 * 10 + 10)
MLP_PARAMS = (13 * 64 + 64) + (64 * 32 + 32) + (32 + 1)


def copy(tmp_path: Path, name: str) -> Path:
    """The fixture folder ``name`` copied into ``tmp_path``; its script's path."""
    folder = tmp_path / name
    shutil.copytree(CONFIGS / name, folder)
    return folder / "train.py"


build = build_file


def test_a_toml_config_read_in_a_with_block_sizes_the_transformer(engine, tmp_path):
    path = copy(tmp_path, "text_transformer")
    result = build(engine, path)
    assert result.errors == []
    transformer = model(result, "model")
    assert transformer.total_params == TRANSFORMER_PARAMS
    assert transformer.inputs == [[None, 200]] and transformer.outputs == [[None, 2]]
    # np.load and fit never ran: the data folder the script names does not exist, and nothing was written.
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml", "train.py"]


def test_an_argparse_default_names_the_json_config_the_factory_is_built_with(engine, tmp_path):
    path = copy(tmp_path, "cifar_convnet")
    result = build(engine, path)
    assert result.errors == []
    convnet = model(result, "build_model")
    assert convnet.total_params == CONVNET_PARAMS
    assert convnet.inputs == [[None, 32, 32, 3]] and convnet.outputs == [[None, 10]]


def test_configparser_reads_the_ini_beside_the_script(engine, tmp_path):
    path = copy(tmp_path, "tabular_mlp")
    result = build(engine, path)
    assert result.errors == []
    mlp = model(result, "model")
    assert mlp.total_params == MLP_PARAMS
    assert [layer.output_shape for layer in mlp.layers if layer.class_name == "Dense"] == [
        [None, 64], [None, 32], [None, 1]]


def test_a_missing_config_is_an_error_at_the_read_naming_the_file_and_a_stand_in_still_draws(engine, tmp_path):
    path = copy(tmp_path, "cifar_convnet")
    (path.parent / "configs" / "convnet.json").unlink()
    result = build(engine, path)
    assert result.models == []
    (error,) = result.errors
    assert (error.factory, error.kind, error.line) == ("build_model", "build", line_of(path, "with open(args.config)"))
    assert error.message.startswith("FileNotFoundError: config file 'configs/convnet.json' not found")
    assert str(path.parent / "configs" / "convnet.json") in error.message and "# netviz: value=" in error.message

    stand_in = ('{"input_shape": [32, 32, 3], "filters": [32, 64], "dropout": 0.25, '
                '"dense_units": 128, "num_classes": 10}')
    path.write_text(path.read_text().replace("cfg = json.load(f)", f"cfg = json.load(f)  # netviz: value={stand_in}"))
    result = build(engine, path)
    assert result.errors == []
    assert model(result, "build_model").total_params == CONVNET_PARAMS


def test_a_missing_ini_is_an_error_at_configparsers_read_not_a_key_error_later(engine, tmp_path):
    """``ConfigParser.read`` skips a file it cannot open; the script would fail later at
    ``config["model"]``, far from the cause. The read itself says which file is missing."""
    path = copy(tmp_path, "tabular_mlp")
    (path.parent / "train.ini").unlink()
    result = build(engine, path)
    (error,) = result.errors
    assert (error.factory, error.kind, error.line) == ("model", "build", line_of(path, "config.read("))
    assert error.message.startswith("ConfigFileRefused: config file ") and "train.ini' not found" in error.message
    assert "# netviz: value=" in error.message


def test_a_config_over_1_mb_is_refused_at_the_read(engine, tmp_path):
    path = copy(tmp_path, "text_transformer")
    config = path.parent / "config.toml"
    config.write_text(config.read_text() + "# padding\n" * 100_000)  # a 1 MB config is data, not configuration
    assert config.stat().st_size > 1_000_000
    result = build(engine, path)
    assert result.models == []
    (error,) = result.errors
    assert (error.factory, error.kind, error.line) == ("model", "build",
                                                       line_of(path, 'with open("config.toml", "rb")'))
    assert error.message.startswith("ConfigFileRefused: config file 'config.toml' holds")
    assert "at most 1,000,000 bytes (1 MB)" in error.message


def test_a_config_outside_the_files_folder_and_the_workspace_is_refused_even_by_configparser(engine, tmp_path):
    path = copy(tmp_path / "project", "tabular_mlp")
    (path.parent / "train.ini").rename(tmp_path / "train.ini")  # beside the project, not in it
    path.write_text(path.read_text().replace('os.path.join(HERE, "train.ini")',
                                             'os.path.join(HERE, "..", "..", "train.ini")'))
    result = build(engine, path)
    assert result.models == []
    (error,) = result.errors
    assert (error.factory, error.kind, error.line) == ("model", "build", line_of(path, "config.read("))
    assert error.message.startswith("ConfigFileRefused: NetViz reads config files only inside the workspace")
    assert str(tmp_path / "train.ini") in error.message

    # With the folder above as a workspace root, the same read runs (the roots are part of the
    # build cache's key: the refused build is not reused).
    result = engine.build(str(path), path.read_text(), Settings(), roots=[str(tmp_path)])
    assert result.errors == [] and model(result, "model").total_params == MLP_PARAMS


def test_editing_the_config_rebuilds_the_model_and_the_config_is_a_dependency(engine, tmp_path):
    path = copy(tmp_path, "text_transformer")
    config = path.parent / "config.toml"
    assert model(build(engine, path), "model").outputs == [[None, 2]]
    assert str(config) in engine.dependencies(str(path), path.read_text(), [])
    config.write_text(config.read_text().replace("num_classes = 2", "num_classes = 5"))
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 1_000_000_000))
    # Same script text: the build cache keys on the config file's modification time, not only on the script.
    assert model(build(engine, path), "model").outputs == [[None, 5]]


def test_a_config_loader_function_runs_and_the_worker_checks_the_read_it_makes(engine, tmp_path):
    path = copy(tmp_path, "text_transformer")
    helper = ('def load_config(path):\n    with open(path, "rb") as f:\n        return tomllib.load(f)\n\n\n'
              'config = load_config("config.toml")\n')
    path.write_text(path.read_text().replace(
        'with open("config.toml", "rb") as f:\n    config = tomllib.load(f)\n', helper))
    assert model(build(engine, path), "model").total_params == TRANSFORMER_PARAMS

    config = path.parent / "config.toml"
    config.write_text(config.read_text() + "# padding\n" * 100_000)
    result = build(engine, path)
    (error,) = result.errors
    assert (error.factory, error.line) == ("model", line_of(path, 'with open(path, "rb")'))
    assert error.call_lines == [line_of(path, 'with open(path, "rb")'), line_of(path, 'config = load_config(')]
    assert error.message.startswith("ConfigFileRefused: config file 'config.toml' holds")
