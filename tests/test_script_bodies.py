"""Script bodies: models built under ``if __name__ == "__main__":`` or in the ``main()`` it runs.

The guard's statements and the body of a function the script runs (``main()``, ``train()``,
``sys.exit(main())``, ``app.run(main)``) are discovered and sliced as top-level statements, in the
order the script runs them (``discovery/script.py``). The fixtures in ``tests/fixtures/scripts/``
are whole training scripts, copied to a temporary folder and built through ``Engine.build``;
totals are plain Keras 3's for the same layers, and nothing the scripts read, train, plot or save
happens (the folder holds only the script afterwards).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from real_builds import copy_and_build, drawn, line_of, model, untouched

from netviz_lsp.discovery import discover, slice_module
from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult
from netviz_lsp.settings import Settings

SCRIPTS = Path(__file__).resolve().parent / "fixtures" / "scripts"


def build(engine: Engine, tmp_path: Path, name: str, edit=None) -> tuple[FileResult, Path]:
    return copy_and_build(engine, SCRIPTS / name, tmp_path, edit)


def targets(source: str) -> dict:
    found = discover(textwrap.dedent(source))
    return {t.name: (t.kind, t.line, t.blocked.message if t.blocked else None) for t in found.factories}


# -- discovery -------------------------------------------------------------------------------------

def test_the_functions_a_script_runs_are_its_statements_and_name_their_models():
    source = '''
    import sys
    import keras

    def main(units=8):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])
        model.fit([], [])

    def train():
        net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])

    train()
    if __name__ == "__main__":
        sys.exit(main())
    '''
    assert targets(source) == {"train.net": ("variable", 10, None), "main.model": ("variable", 6, None)}
    found = discover(textwrap.dedent(source))
    main = next(t for t in found.factories if t.name == "main.model")
    # ``units = 8`` at the parameter, then the body; sys.exit and fit never run.
    module = slice_module(textwrap.dedent(source), main.slice, "m.py", found.replacements)
    assert [type(s).__name__ for s in module.body] == ["Import", "Assign", "Assign"]
    assert module.body[1].lineno == 5 and module.body[1].targets[0].id == "units"


def test_a_function_main_runs_is_lifted_inside_main_with_the_arguments_main_passes():
    source = "import keras\n\ndef train(units):\n    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])\n" \
             "    model.fit([], [])\n\ndef main():\n    units = 8\n    train(units)\n\nif __name__ == '__main__':\n    main()\n"
    found = discover(source)
    (target,) = found.factories
    assert (target.name, target.line, target.blocked) == ("main.train.model", 4, None)
    # import keras, units = 8 (main's), the model: ``units`` passes through as the same name.
    assert [found_line for found_line in (slice_module(source, target.slice, "m.py").body[i].lineno
                                          for i in range(3))] == [1, 8, 4]


def test_what_is_not_lifted_keeps_todays_meaning():
    source = '''
    import keras

    def build(units=8):
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])

    @hydra.main(config_path="conf", config_name="config")
    def cli():
        model = keras.Sequential([keras.Input((4,))])

    def twice():
        other = keras.Sequential([keras.Input((4,))])

    build(4)
    twice()
    twice()
    cli()
    '''
    # A factory called as a statement stays a factory (with that call's arguments); a decorated
    # function (but a click command) or one run twice is not lifted: each is a factory, as before.
    assert targets(source) == {"build": ("factory", 4, None), "cli": ("factory", 8, None),
                               "twice": ("factory", 11, None)}
    assert next(t for t in discover(textwrap.dedent(source)).factories).args == "4"


def test_a_model_rebound_twice_in_main_is_two_targets_each_read_before_the_next():
    source = '''
    import keras

    def main():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile("adam", "mse")
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])

    main()
    '''
    found = discover(textwrap.dedent(source))
    first, second = found.factories
    assert (first.name, second.name) == ("main.model", "main.model@7")
    assert first.after < second.start and first.end_line == 6


def test_a_return_inside_main_blocks_only_what_it_binds():
    source = '''
    import keras

    def main(dry_run=False):
        if dry_run:
            width = 4
            return
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        other = keras.Sequential([keras.Input((width,))])

    main()
    '''
    got = targets(source)
    assert got["main.model"] == ("variable", 8, None)
    assert got["main.other"][2] == (
        "`width` is set at line 5, in a block that may `return` from the function the script runs; "
        "NetViz does not run it.")


def test_module_factories_do_not_see_main_locals_nor_the_guard():
    source = '''
    import keras
    from data import read_rows
    WIDTH = 4

    def build():
        return keras.Sequential([keras.Input((WIDTH,)), keras.layers.Dense(2)])

    def main():
        WIDTH = read_rows("x.csv")
        model = build()
        model.fit([], [])

    if __name__ == "__main__":
        WIDTH = 5
        main()
    '''
    got = targets(source)
    assert got == {"build": ("factory", 6, None)}
    found = discover(textwrap.dedent(source))
    lines = [found.factories[0].slice]
    assert lines == [[0, 2, 3]]  # import keras, WIDTH = 4, def build


def test_names_stay_unique_between_the_module_the_guard_and_main():
    source = '''
    import keras
    from absl import app

    model = keras.Sequential([keras.Input((4,))])

    def main(argv):
        model = keras.Sequential([keras.Input((5,))])

    if __name__ == "__main__":
        model = keras.Sequential([keras.Input((6,))])
        app.run(main)
    '''
    # app.run(main) passes argv; each model is read before the next rebinds the name.
    found = discover(textwrap.dedent(source))
    assert [(t.name, t.line, t.blocked) for t in found.factories] == [
        ("model", 5, None), ("main.model", 8, None), ("model@11", 11, None)]
    assert all(t.after == t.start for t in found.factories)


def test_raise_system_exit_a_try_around_main_and_tf_app_run_run_main():
    define = "import keras\nimport tensorflow as tf\ndef main(_):\n    net = keras.Sequential([keras.Input((4,))])\n"
    for run in ["raise SystemExit(main(None))\n", "try:\n    main(0)\nexcept KeyboardInterrupt:\n    pass\n",
                "tf.compat.v1.app.run()\n", "tf.app.run(main)\n"]:
        assert targets(define + run) == {"main.net": ("variable", 4, None)}, run
    kept = define + "try:\n    main(0)\nfinally:\n    print('done')\n"
    assert targets(kept) == {"main": ("factory", 3, None)}  # as before: the function is the target


# -- real builds -----------------------------------------------------------------------------------

def test_a_cifar_cnn_under_the_main_guard_draws_with_the_datasets_shapes(engine, tmp_path):
    result, path = build(engine, tmp_path, "cifar10_cnn.py")
    assert result.errors == []
    # Plain Keras 3: 896 + 9,248 + 18,496 + 36,928 + 1,180,160 + 5,130.
    assert drawn(result) == {"model": ("Sequential", 1_250_858)}
    cnn = model(result, "model")
    assert cnn.inputs == [[None, 32, 32, 3]] and cnn.layers[-1].output_shape == [None, 10]
    assert cnn.layers[0].line == line_of(path, 'layers.Conv2D(32, 3, padding="same"')
    untouched(tmp_path, "cifar10_cnn.py")


def test_an_argparse_main_needs_its_csv_then_draws_with_the_defaults(engine, tmp_path):
    result, path = build(engine, tmp_path, "tabular_mlp.py")
    read, classes = line_of(path, "x, y = load(args.data)"), line_of(path, "num_classes = int(y.max()) + 1")
    message = (f"`x` comes from a file read at line {read}; NetViz does not run it. Add `# netviz: value=...` on "
               f"that line to stand in for it. Also: `num_classes` (line {classes}) needs `y`, which comes from a "
               f"file read at line {read}; NetViz does not run that. Add `# netviz: value=...` on line {classes} "
               "to stand in for it.")
    assert [(e.kind, e.factory, e.line, e.message) for e in result.errors] == [
        ("arguments", "main.model", line_of(path, "model = keras.Sequential(["), message)]
    assert discover(path.read_text(), str(path)).stand_ins == {"main.model": [("num_classes", classes), ("x", read)]}

    def stand_in(source: str) -> str:
        return source.replace("x, y = load(args.data)",
                              'x, y = load(args.data)  # netviz: value=np.zeros((200, 12), "float32"), np.arange(200) % 3')
    result, path = build(engine, tmp_path, "tabular_mlp.py", stand_in)
    assert result.errors == []
    # --hidden 128 (its default): 12*128+128 + 128*64+64 + 64*3+3 = 1,664 + 8,256 + 195.
    assert drawn(result) == {"main.model": ("Sequential", 10_115)}
    mlp = model(result, "main.model")
    assert [layer.line for layer in mlp.layers] == [
        line_of(path, 'layers.Dense(args.hidden, activation="relu")'), line_of(path, "layers.Dropout(args.dropout)"),
        line_of(path, 'layers.Dense(args.hidden // 2'), line_of(path, 'layers.Dense(num_classes')]
    untouched(tmp_path, "tabular_mlp.py")  # no CSV read, no checkpoints folder, no model.keras


def test_a_raising_layer_line_in_main_is_an_error_there_owned_by_its_target(engine, tmp_path):
    def typo(source: str) -> str:
        source = source.replace("x, y = load(args.data)",
                                'x, y = load(args.data)  # netviz: value=np.zeros((200, 12)), np.arange(200) % 3')
        return source.replace('layers.Dense(args.hidden // 2, activation="relu")',
                              'layers.Dense(args.hidden // 2, activation="relux")')
    result, path = build(engine, tmp_path, "tabular_mlp.py", typo)
    assert [(e.kind, e.factory, e.line) for e in result.errors] == [
        ("build", "main.model", line_of(path, 'activation="relux"'))]
    assert "relux" in result.errors[0].message
    untouched(tmp_path, "tabular_mlp.py")


def test_a_tf_keras_train_function_calls_its_factory_with_the_arguments_it_passes(engine, tmp_path):
    result, path = build(engine, tmp_path, "tf_keras_train.py")
    assert result.errors == []
    # build_model(20000, 64, 32, dropout=0.2): 1,280,000 + 24,832 + 24,832 + 65.
    assert drawn(result) == {"build_model": ("Functional", 1_329_729)}
    found = discover(path.read_text(), str(path))
    assert (found.factories[0].args, found.factories[0].args_origin) == (
        'MAX_FEATURES, CONFIG["embed_dim"], CONFIG["lstm_units"], dropout=CONFIG["dropout"]', "call")
    untouched(tmp_path, "tf_keras_train.py")


def test_a_gan_main_run_by_sys_exit_draws_its_generator_and_discriminator(engine, tmp_path):
    result, path = build(engine, tmp_path, "dcgan_main.py")
    assert result.errors == []
    # Plain Keras 3: generator 2,330,944; discriminator 1,664 + 204,928 + 6,273.
    assert drawn(result) == {"make_generator_model": ("Sequential", 2_330_944),
                             "main.discriminator": ("Sequential", 212_865)}
    critic = model(result, "main.discriminator")
    assert critic.inputs == [[None, 28, 28, 1]]
    assert critic.layers[0].line == line_of(path, "layers.Conv2D(64, (5, 5)")
    untouched(tmp_path, "dcgan_main.py")  # no training loop, no checkpoint


def test_a_factory_called_in_the_guard_with_data_gets_its_arguments_there_and_required_options_are_none(
        engine, tmp_path):
    # The guard parses a required positional ``csv`` (None here: the worker passes no arguments)
    # and calls the factory with sizes computed from the CSV: stand-ins for those draw it.
    source = Path(__file__).resolve().parent / "fixtures" / "server" / "train_classifier.py"

    def stand_in(text: str) -> str:
        return (text.replace('label = data[options.label].astype("int64")',
                             'label = data[options.label].astype("int64")  # netviz: value=np.arange(50) % 4')
                .replace("if name != options.label], axis=1)",
                         "if name != options.label], axis=1)  # netviz: value=np.zeros((50, 7))"))
    result, path = copy_and_build(engine, source, tmp_path, stand_in)
    assert result.errors == []
    # build_classifier(7, 4, width=64): 7*64+64 + 64*32+32 + 32*4+4 = 512 + 2,080 + 132.
    assert drawn(result) == {"model": ("Functional", 2_724)}
    assert model(result, "model").layers[1].line == line_of(path, 'x = layers.Dense(width, activation="relu")(inputs)')
    untouched(tmp_path, "train_classifier.py")


def test_a_guard_passing_its_args_to_run_reads_the_config_its_default_names(engine, tmp_path):
    # run(args) binds nothing new (the name already holds the parsed options): the config read of
    # the argparse default runs, and the factory is called with the config's values.
    (tmp_path / "config.json").write_text('{"units": 32, "classes": 5}')
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent('''\
        import argparse
        import json

        import keras
        from keras import layers


        def build_model(units, classes):
            return keras.Sequential([keras.Input((10,)), layers.Dense(units, activation="relu"), layers.Dense(classes)])


        def run(args):
            with open(args.config) as f:
                config = json.load(f)
            model = build_model(config["units"], classes=config["classes"])
            model.fit(x_train, y_train, epochs=10)


        if __name__ == "__main__":
            parser = argparse.ArgumentParser()
            parser.add_argument("--config", default="config.json")
            args = parser.parse_args()
            run(args)
        '''))
    result = engine.build(str(path), path.read_text(), Settings())
    assert result.errors == []
    assert drawn(result) == {"build_model": ("Sequential", 10 * 32 + 32 + 32 * 5 + 5)}


def test_a_factory_that_reads_its_data_and_trains_is_built_from_a_stand_in_never_reading_it(engine, tmp_path):
    # Never called by the file: built as the script would run it, with its read and fit skipped.
    path = tmp_path / "regression.py"
    source = textwrap.dedent('''\
        import numpy as np
        import keras
        from keras import layers


        def build_model(hidden=8):
            """A regressor sized by the CSV's columns."""
            data = np.loadtxt("train.csv", delimiter=",")
            n = data.shape[1] - 1
            model = keras.Sequential([keras.Input((n,)), layers.Dense(hidden), layers.Dense(1)])
            model.compile("adam", "mse")
            model.fit(data[:, :-1], data[:, -1], epochs=1)
            return model
        ''')
    found = discover(source, str(path))
    (target,) = found.factories
    assert target.name == "build_model" and target.blocked.line == 10
    assert found.stand_ins == {"build_model": [("n", 9)]}
    path.write_text(source.replace('delimiter=",")', 'delimiter=",")  # netviz: value=np.zeros((100, 6))'))
    result = engine.build(str(path), path.read_text(), Settings())
    assert result.errors == []
    assert drawn(result) == {"build_model": ("Sequential", 5 * 8 + 8 + 9)}
    assert model(result, "build_model").layers[0].line == 10
    untouched(tmp_path, "regression.py")  # train.csv was never opened: it does not exist


def test_a_module_factory_is_built_with_the_module_value_of_a_name_main_shadows(engine, tmp_path):
    path = tmp_path / "shadow.py"
    path.write_text(textwrap.dedent('''\
        import keras

        WIDTH = 4


        def build(depth=1):
            return keras.Sequential([keras.Input((3,)), *[keras.layers.Dense(WIDTH) for _ in range(depth)]])


        def main():
            WIDTH = 5
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(WIDTH)])
            model.fit([], [])


        if __name__ == "__main__":
            main()
        '''))
    result = engine.build(str(path), path.read_text(), Settings())
    assert result.errors == []
    # build() reads the module's WIDTH = 4, as when Python runs it; main's model its own 5.
    assert drawn(result) == {"build": ("Sequential", 3 * 4 + 4), "main.model": ("Sequential", 3 * 5 + 5)}


# -- click commands ------------------------------------------------------------------------------

def test_a_click_command_draws_with_its_options_defaults(engine, tmp_path):
    """``python click_train.py`` with no arguments: click would pass each option's default, so the
    lifted command draws with them (the flag's default False: no Bidirectional); the CSV read,
    adapt, fit and save never run, and click itself is never imported."""
    result, path = build(engine, tmp_path, "click_train.py")
    assert result.errors == []
    # vocab 10000 x embed 64; LSTM(64) on 64: 4*(64*(64+64)+64); Dense 64+1
    assert drawn(result) == {"train.model": ("Functional", 640_000 + 33_024 + 65)}
    classifier = model(result, "train.model")
    assert classifier.inputs == [[None, 200]]
    assert [layer.class_name for layer in classifier.layers][1:] == ["Embedding", "LSTM", "Dropout", "Dense"]
    untouched(tmp_path, "click_train.py")

    (tmp_path / "flag").mkdir()
    flipped, _ = build(engine, tmp_path / "flag", "click_train.py", lambda text: text.replace(
        '"--bidirectional/--unidirectional", default=False', '"--bidirectional/--unidirectional", default=True')
        .replace('"--embed-dim", "-e", default=64', '"--embed-dim", "-e", "embed_dim", default=32'))
    # Embedding 10000 x 32; Bidirectional LSTM(64) on 32: 2 * 4*(64*(32+64)+64); Dense 128+1
    assert drawn(flipped) == {"train.model": ("Functional", 320_000 + 49_664 + 129)}


@pytest.mark.parametrize("decorators, lifted", [
    ('@click.command()\n@click.option("--units", default=8)\n', True),
    ('@click.command(name="fit")\n@click.option("--units", "-u", type=int, default=8)\n', True),
    ('@click.command()\n@click.pass_context\n@click.option("--units", default=8)\n', False),
    ('@click.group()\n@click.option("--units", default=8)\n', False),
    ('@hydra.main(config_path="conf")\n', False),
])
def test_which_decorated_functions_the_script_runs_are_lifted(decorators, lifted):
    source = ("import click\nimport hydra\nimport keras\n\n\n" + decorators +
              "def main(units=None, ctx=None):\n"
              "    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])\n\n\n"
              "if __name__ == '__main__':\n    main()\n")
    names = [f.name for f in discover(source).factories]
    assert ("main.model" in names) == lifted, names
