"""Command-line entry points that run a function with what the command line gives: typer and fire.

``typer.run(main)``, a ``typer.Typer()`` app's one ``@app.command()`` run by ``app()``, and
``fire.Fire(main)`` call the function with no arguments when the script runs bare, so its body
is lifted like ``app.run(main)``'s (``discovery/script.py``), each parameter taking what the CLI
library would give it: the plain default, typer's ``typer.Option(64)`` / ``typer.Argument(...)``
default (``...``: required, ``None``), or ``Annotated[int, typer.Option()] = 64``'s. Neither typer
nor fire is imported (neither is installed here). The fixtures are whole training scripts,
copied to a temporary folder and built through ``Engine.build``; nothing they read, train or
save happens.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from real_builds import copy_and_build, drawn, line_of, model, untouched

from netviz_lsp.discovery import discover, slice_module

SCRIPTS = Path(__file__).resolve().parent / "fixtures" / "scripts"


# -- typer and fire scripts, built ------------------------------------------------------------------

def test_a_typer_app_command_draws_with_its_options_defaults(engine, tmp_path):
    """``python typer_train.py`` runs ``app()``: typer calls ``train`` with each option's default
    (old-style ``typer.Option(128, ...)``/``typer.Option(default=32)`` and new-style ``Annotated``),
    the required ``data_dir`` as ``None``; the image folder is never read and nothing trains."""
    result, path = copy_and_build(engine, SCRIPTS / "typer_train.py", tmp_path)
    assert result.errors == []
    # Conv 3x3, no bias: 3*9*32, 32*9*64, 64*9*128; BatchNorm 4 per channel; Dense 128*5+5.
    convs = 3 * 9 * 32 + 32 * 9 * 64 + 64 * 9 * 128
    norms = 4 * (32 + 64 + 128)
    assert drawn(result) == {"train.model": ("Functional", convs + norms + 128 * 5 + 5),
                             "train.augmentation": ("Sequential", 0)}
    classifier = model(result, "train.model")
    assert classifier.inputs == [[None, 128, 128, 3]]
    assert classifier.layers[1].class_name == "Sequential"  # --augment defaults to True
    assert classifier.line == line_of(path, "model = keras.Model(")
    untouched(tmp_path, "typer_train.py")

    (tmp_path / "edited").mkdir()
    edited, _ = copy_and_build(engine, SCRIPTS / "typer_train.py", tmp_path / "edited", lambda text: text
                               .replace('typer.Option(True, "--augment/--no-augment")',
                                        'typer.Option(False, "--augment/--no-augment")')
                               .replace("typer.Option(default=32,", "typer.Option(default=16,")
                               .replace("typer.Option(help=\"Number of classes (sub-folders).\")] = 5",
                                        "typer.Option(help=\"Number of classes (sub-folders).\")] = 10"))
    convs = 3 * 9 * 16 + 16 * 9 * 32 + 32 * 9 * 64
    norms = 4 * (16 + 32 + 64)
    assert drawn(edited)["train.model"] == ("Functional", convs + norms + 64 * 10 + 10)
    assert "Sequential" not in [layer.class_name for layer in model(edited, "train.model").layers]


def test_a_fire_script_draws_with_its_functions_defaults(engine, tmp_path):
    """``fire.Fire(main)`` with no arguments calls ``main()``: latent 32, hidden 256. MNIST's
    download never runs, nor training nor the save."""
    result, path = copy_and_build(engine, SCRIPTS / "fire_train.py", tmp_path)
    assert result.errors == []
    # 784->256->32->256->784 Dense layers with biases.
    total = (784 * 256 + 256) + (256 * 32 + 32) + (32 * 256 + 256) + (256 * 784 + 784)
    assert [graph.total_params for graph in result.models] == [total]
    (denoiser,) = result.models
    assert [layer.name for layer in denoiser.layers if layer.name in ("latent", "clean")] == ["latent", "clean"]
    assert [layer.output_shape for layer in denoiser.layers if layer.name == "latent"] == [[None, 32]]
    untouched(tmp_path, "fire_train.py")


# -- discovery: what is and is not lifted --------------------------------------------------------

BODY = "    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])\n" \
       "    model.fit(x, y)\n"


def lifted(source: str) -> dict:
    """Each target's name -> the ``units = ...`` its slice assigns (``None``: none)."""
    found = discover(source)
    out = {}
    for target in found.factories:
        module = slice_module(source, target.slice, "m.py", found.replacements)
        units = [s.value for s in module.body if getattr(s, "targets", None)
                 and getattr(s.targets[0], "id", None) == "units"]
        out[target.name] = __import__("ast").unparse(units[0]) if units else None
    return out


@pytest.mark.parametrize("head, tail, expected", [
    # typer.run: old-style options, positional default or default=.
    ("def main(units: int = typer.Option(64, help='width')):\n", "typer.run(main)", {"main.model": "64"}),
    ("def main(units: int = typer.Option(default=12, min=1)):\n", "typer.run(main)", {"main.model": "12"}),
    ("def main(units: int = 7, data: str = typer.Argument(...)):\n", "typer.run(main)", {"main.model": "7"}),
    # New style: Annotated with the plain default.
    ("def main(units: Annotated[int, typer.Option(help='width')] = 24):\n", "typer.run(main)", {"main.model": "24"}),
    # A typer app's one command run by app(), with or without a command name.
    ("app = typer.Typer()\n@app.command()\ndef main(units: int = typer.Option(5)):\n", "app()", {"main.model": "5"}),
    ("app = typer.Typer(add_completion=False)\n@app.command('fit')\ndef main(units: int = 9):\n", "app()",
     {"main.model": "9"}),
    # fire.Fire(main): the function's own defaults.
    ("def main(units=16, epochs=3):\n", "fire.Fire(main)", {"main.model": "16"}),
    ("def main(units=16):\n", "from fire import Fire\n    Fire(main)", {"main.model": "16"}),
])
def test_typer_and_fire_entry_points_lift_with_their_defaults(head, tail, expected):
    source = ("from typing import Annotated\nimport fire\nimport typer\nimport keras\n\n" + head + BODY +
              "\n\nif __name__ == '__main__':\n    " + tail + "\n")
    assert lifted(source) == expected


@pytest.mark.parametrize("head, tail", [
    # A required typer option (``...``) is passed as None: the model cannot use it, but it is lifted.
    ("def main(units: int = typer.Option(...)):\n", "typer.run(main)"),
    # Two commands: app() needs a subcommand, so neither runs.
    ("app = typer.Typer()\n@app.command()\ndef main(units: int = 4):\n" + BODY + "\n@app.command()\ndef other():\n"
     "    pass\n", "app()"),
    # A decorator other than the app's command.
    ("app = typer.Typer()\n@app.callback()\ndef main(units: int = 4):\n", "app()"),
    ("app = typer.Typer()\n@app.command()\n@functools.lru_cache\ndef main(units: int = 4):\n", "app()"),
    # A default_factory runs code: not lifted.
    ("def main(units: int = typer.Option(default_factory=lambda: 4)):\n", "typer.run(main)"),
    # fire with a required parameter stops with an error; Fire() with no component shows help.
    ("def main(units, epochs=3):\n", "fire.Fire(main)"),
    ("def main(units=16):\n", "fire.Fire()"),
    ("def main(units=16):\n", "fire.Fire({'train': main})"),
])
def test_what_typer_and_fire_do_not_lift(head, tail):
    source = ("import functools\nimport fire\nimport typer\nimport keras\n\n" + head +
              ("" if head.endswith(BODY + "\n@app.command()\ndef other():\n    pass\n") else BODY) +
              "\n\nif __name__ == '__main__':\n    " + tail + "\n")
    names = lifted(source)
    if "typer.Option(...)" in head:
        assert names == {"main.model": "None"}
    else:
        assert "main.model" not in names, names


# -- Weights & Biases: wandb.config is the config given to wandb.init ---------------------------------

def test_a_wandb_colab_script_draws_from_its_run_config(engine, tmp_path):
    """``wandb.init(config={...})`` never runs (it logs in); ``config = wandb.config``,
    ``wandb.config.update({...})`` and ``wandb.config.X`` read the dict the script gave it, as
    attributes and items. wandb is not installed here and nothing trains, logs or saves."""
    result, path = copy_and_build(engine, SCRIPTS / "wandb_mlp.py", tmp_path)
    assert result.errors == []
    # Flatten 784 -> Dense 256 -> Dense 128 -> Dense num_classes=10 (from config.update).
    assert drawn(result) == {"model": ("Sequential", (784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10))}
    mlp = model(result, "model")
    assert [layer.output_shape for layer in mlp.layers if layer.class_name == "Dense"] == \
        [[None, 256], [None, 128], [None, 10]]
    assert mlp.layers[-1].line == line_of(path, "layers.Dense(wandb.config.num_classes")
    untouched(tmp_path, "wandb_mlp.py")

    (tmp_path / "wide").mkdir()
    wide, _ = copy_and_build(engine, SCRIPTS / "wandb_mlp.py", tmp_path / "wide", lambda text: text
                             .replace('"hidden_units": 256', '"hidden_units": 64')
                             .replace('{"num_classes": 10}', '{"num_classes": 3}'))
    assert drawn(wide) == {"model": ("Sequential", (784 * 64 + 64) + (64 * 32 + 32) + (32 * 3 + 3))}


def test_a_wandb_config_from_argparse_draws_and_none_asks_for_a_value(engine, tmp_path):
    """``wandb.init(config=vars(args))`` / ``config=args``: the options' defaults. With no config
    the line reading ``run.config`` needs a ``# netviz: value=`` stand-in."""
    source = textwrap.dedent('''\
        import argparse

        import wandb
        from tensorflow import keras
        from tensorflow.keras import layers


        def main():
            parser = argparse.ArgumentParser(description="Tabular regressor")
            parser.add_argument("--units", type=int, default=48)
            parser.add_argument("--dropout", type=float, default=0.1)
            args = parser.parse_args()
            run = wandb.init(project="tabular", config=vars(args))
            config = run.config
            model = keras.Sequential([keras.Input((20,)), layers.Dense(config.units),
                                      layers.Dropout(config["dropout"]), layers.Dense(1)])
            model.fit(x, y)
            run.finish()


        if __name__ == "__main__":
            main()
        ''')
    (tmp_path / "train.py").write_text(source)
    for given, folder in (("config=vars(args)", "vars"), ("config=args", "args"), ("config=vars(args)", "none")):
        (tmp_path / folder).mkdir()
        text = source.replace("config=vars(args)", given) if folder != "none" else \
            source.replace(", config=vars(args)", "")
        fixture = tmp_path / "train.py"
        fixture.write_text(text)
        result, path = copy_and_build(engine, fixture, tmp_path / folder)
        if folder == "none":
            (error,) = result.errors
            assert error.line == line_of(path, "model = keras.Sequential")
            assert f"comes from a download at line {line_of(path, 'config = run.config')}" in error.message
            assert "# netviz: value=" in error.message
        else:
            assert result.errors == []
            assert drawn(result) == {"main.model": ("Sequential", (20 * 48 + 48) + (48 + 1))}


def stood_in(source: str) -> dict:
    """Each target -> ``None`` when it can be built, else its error message."""
    found = discover(textwrap.dedent(source))
    return {t.name: t.blocked.message if t.blocked else None for t in found.factories}


WANDB = '''
import wandb
import keras
CONFIG = {"units": 8}
INIT
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(READ)])
'''


@pytest.mark.parametrize("init, read, builds", [
    ('wandb.init(project="p", config={"units": 8})\nconfig = wandb.config', "config.units", True),
    ('wandb.init(project="p", config={"units": 8})\nconfig = wandb.config', 'config["units"]', True),
    ('wandb.init(project="p", config={"units": 8})', "wandb.config.units", True),
    ('run = wandb.init(project="p", config={"units": 8})\nconfig = run.config', "config.units", True),
    ('run = wandb.init(config=CONFIG)', "run.config.units", True),
    ('wandb.init(config={})\nwandb.config.update({"units": 8})', "wandb.config.units", True),
    # No config given, a config that is no literal nor a name, two runs, a `with` run: never stood in.
    ('wandb.init(project="p")\nconfig = wandb.config', "config.units", False),
    ('wandb.init(config=load_config())\nconfig = wandb.config', "config.units", False),
    ('wandb.init(config={"units": 8})\nwandb.init(config={"units": 4})', "wandb.config.units", False),
    ('with wandb.init(config={"units": 8}) as run:\n    config = run.config', "config.units", False),
])
def test_which_wandb_configs_stand_in(init, read, builds):
    source = WANDB.replace("INIT", init).replace("READ", read)
    (message,) = stood_in(source).values()
    assert (message is None) == builds, message
    found = discover(textwrap.dedent(source))
    rendered = "\n".join(found.replacements.values())
    assert "import wandb" not in rendered and "wandb." not in rendered.replace("__netviz_wandb_config__", "")


def test_the_wandb_stand_in_is_a_plain_dict_with_attributes():
    """What runs in the worker: the script's dict, readable as ``config.units`` and
    ``config["units"]``, updatable, a missing key an AttributeError; wandb never imported."""
    import sys

    source = WANDB.replace("INIT", 'wandb.init(config={"units": 8})\nwandb.config.update({"extra": 1})') \
        .replace("READ", "wandb.config.units")
    found = discover(source)
    (target,) = found.factories
    namespace: dict = {}
    # The slice but the model: import keras, the init's stand-in, the update.
    module = slice_module(source, target.slice[:-1], "m.py", found.replacements)
    exec(compile(module, "m.py", "exec"), namespace)
    config = namespace["__netviz_wandb_config__"]
    assert isinstance(config, dict) and config == {"units": 8, "extra": 1}
    assert config.units == config["units"] == 8 and config.get("lr", 0.1) == 0.1
    config.units = 16
    assert config["units"] == 16
    with pytest.raises(AttributeError):
        config.missing
    assert "wandb" not in sys.modules


def test_a_factory_reading_wandb_config_builds_from_the_run_config(engine, tmp_path):
    """A factory whose body reads ``wandb.config.X`` runs rewritten, on its own lines; without a
    config it still needs wandb, which its build says is missing."""
    source = textwrap.dedent('''\
        import wandb
        from tensorflow import keras
        from tensorflow.keras import layers

        wandb.init(project="sensor-regression", config={"units": 24, "dropout": 0.5})


        def build_model():
            return keras.Sequential([
                keras.Input((10,)),
                layers.Dense(wandb.config.units, activation="relu"),
                layers.Dropout(wandb.config["dropout"]),
                layers.Dense(1),
            ])


        model = build_model()
        model.fit(x_train, y_train, epochs=wandb.config.get("epochs", 5))
        ''')
    fixture = tmp_path / "source" / "regressor.py"
    fixture.parent.mkdir()
    fixture.write_text(source)
    (tmp_path / "built").mkdir()
    result, path = copy_and_build(engine, fixture, tmp_path / "built")
    assert result.errors == []
    assert drawn(result) == {"build_model": ("Sequential", (10 * 24 + 24) + (24 + 1))}
    dense = model(result, "build_model").layers[0]
    assert dense.line == line_of(path, "layers.Dense(wandb.config.units")

    fixture.write_text(source.replace(', config={"units": 24, "dropout": 0.5}', ""))
    (tmp_path / "bare").mkdir()
    bare, _ = copy_and_build(engine, fixture, tmp_path / "bare")
    assert bare.models == [] and "wandb" in bare.errors[0].message
