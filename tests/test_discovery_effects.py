"""The effects table: one test per row, then the statement kinds that never run.

Pure ``ast``: nothing here imports Keras or runs the snippets."""

from __future__ import annotations

import ast

import pytest

from netviz_lsp.discovery import discover
from netviz_lsp.discovery.effects import CALLS, REASONS, STATEMENTS, call_reason


@pytest.mark.parametrize("row", CALLS, ids=lambda row: f"{row.reason}:{row.pattern}")
def test_each_row_skips_its_example_and_is_the_row_that_matches(row):
    imports, statement = row.example
    source = f"{imports}\n{statement}\n" if imports else f"{statement}\n"
    found = discover(source, "script.py")
    last = len(ast.parse(source).body) - 1
    assert found.skipped == {last: row.reason}
    calls = [n for n in ast.walk(ast.parse(source).body[last]) if isinstance(n, ast.Call)]
    from netviz_lsp.discovery.facts import facts as module_facts
    from netviz_lsp.discovery.parse import parse
    aliases = module_facts(parse(source, "script.py")).aliases
    assert (row.reason, row.pattern) in [call_reason(c, aliases) for c in calls]


def test_every_reason_has_a_message_and_the_table_has_no_duplicate_rows():
    assert {row.reason for row in CALLS} | set(STATEMENTS) <= set(REASONS)
    assert len({(row.match, row.pattern) for row in CALLS}) == len(CALLS)


def test_aliases_resolve_before_matching_and_lookalikes_do_not_match():
    source = (
        "import numpy as numeric\n"
        "from matplotlib import pyplot\n"
        "import keras\n"
        "data = numeric.load('x.npy')\n"       # 3: numpy under another alias
        "pyplot.figure()\n"                   # 4: matplotlib under another alias
        "dense = keras.layers.Dense(3)\n"     # 5: runs
        "shape = (28, 28)\n"                  # 6: runs
        "summary_text = 'summary'\n"          # 7: a string, not a call
        "loader = keras.utils.PyDataset\n"    # 8: not a call
    )
    assert discover(source).skipped == {3: "reads files", 4: "plots"}


@pytest.mark.parametrize("statement, reason", [
    ("for epoch in range(3):\n    x = epoch\n", "loop"),
    ("while False:\n    x = 1\n", "loop"),
    ("with open('a') as handle:\n    x = handle.read()\n", "with block"),
    ("with strategy.scope():\n    model.fit([], [])\n", "trains"),
    ("with strategy.scope(), open('a') as handle:\n    x = 1\n", "with block"),
    # (a guard with no ``else`` runs as its statements: test_script_bodies.py)
    ("if __name__ == '__main__':\n    x = 1\nelse:\n    x = 2\n", "main guard"),
    ("if '__main__' == __name__:\n    x = 1\nelse:\n    x = 2\n", "main guard"),
    # ``if``/``try`` blocks run only when everything in them may.
    ("if True:\n    x = open('a').read()\n", "reads files"),
    # (a ``try`` with a handler that may run runs as that handler: test_colab.py)
    ("try:\n    x = requests.get(URL)\nexcept Exception:\n    x = requests.get(MIRROR)\n", "downloads"),
    ("if True:\n    for i in range(2):\n        x = i\n", "loop"),
])
def test_statement_kinds_that_never_run(statement, reason):
    found = discover("import requests\n" + statement)
    assert found.skipped == {1: reason}


def test_blocks_that_may_run_and_bodies_of_functions_are_not_skipped():
    source = (
        "try:\n    import tensorflow_addons as tfa\nexcept ImportError:\n    tfa = None\n"
        "if True:\n    WIDTH = 8\n"
        "with strategy.scope():\n    DEPTH = 2\n"
        "with tf.device('/CPU:0'):\n    HEADS = 4\n"
        "def train(model):\n    model.fit([], [])\n    return open('x').read()\n"
        "class Trainer:\n    def go(self):\n        self.model.fit()\n"
    )
    assert discover(source).skipped == {}


def test_a_dataset_loader_with_a_stand_in_runs_and_one_without_is_skipped():
    source = (
        "import keras\n"
        "(x, y), _ = keras.datasets.mnist.load_data()\n"      # stood in: runs
        "(a, b), _ = keras.datasets.mnist.load_data()[0]\n"   # not a plain assignment of the call
        "keras.datasets.cifar10.load_data()\n"                # nothing assigned
        "(t, u), _ = keras.datasets.svhn.load_data()\n"       # not a known dataset
    )
    found = discover(source)
    assert found.replacements == {1: "(x, y), _ = __netviz_dataset__('mnist')"}
    assert found.skipped == {2: "downloads", 3: "downloads", 4: "downloads"}


# -- config files: the one file read that runs ------------------------------------------------

from netviz_lsp.discovery.effects import CONFIG, ConfigPaths, config_call  # noqa: E402


@pytest.mark.parametrize("row", CONFIG, ids=lambda row: f"config:{row.pattern}")
def test_each_config_row_runs_its_example_and_the_same_read_of_a_data_file_never_runs(row):
    imports, statement = row.example
    source = f"{imports}\n{statement}\n"
    tree = ast.parse(source)
    last = len(tree.body) - 1
    assert discover(source, "script.py").skipped == {}
    from netviz_lsp.discovery.facts import facts as module_facts
    from netviz_lsp.discovery.parse import parse
    aliases = module_facts(parse(source, "script.py")).aliases
    calls = [n for n in ast.walk(tree.body[last]) if isinstance(n, ast.Call)]
    assert [c for c in calls if config_call(c, aliases, ConfigPaths())], "no call of the row parses config"
    suffix = next(s for s in (".json", ".yaml", ".yml", ".toml", ".ini", ".cfg") if s + '"' in statement)
    data = source.replace(suffix + '"', '.csv"')
    assert discover(data, "script.py").skipped == {last: "reads files"}


@pytest.mark.parametrize("statement", [
    # A `with` block that only parses the config file it opens.
    'with open("configs/base.json") as f:\n    config = json.load(f)\n',
    'with open("train.toml", "rb") as handle:\n    config = tomllib.load(handle)\n',
    'with open("config.yaml", encoding="utf-8") as f:\n    config = yaml.safe_load(f.read())["model"]\n',
    'with Path("config.yml").open() as f:\n    config: dict = yaml.load(f, Loader=yaml.FullLoader)\n',
    'with open("a.json") as f, open("b.json") as g:\n    a = json.load(f)\n    b = json.load(g)\n',
    'with open("train.ini") as f:\n    parser.read_file(f)\n',
    # Paths built from constants, the file's folder, and argparse defaults.
    'config = json.load(open(CONFIG_PATH))\n',
    'config = json.load(open(os.path.join(CONFIG_DIR, "model.json")))\n',
    'config = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.json")))\n',
    'config = json.loads((ROOT / "configs" / "model.json").read_text(encoding="utf-8"))\n',
    'config = json.loads((Path(__file__).resolve().parent / "config.json").read_text())\n',
    'config = json.load(open(args.config))\n',
    'config = yaml.safe_load(open(options.model_config))\n',
    'config = yaml.safe_load(open(Path("conf") / "model.yaml"))\n',
    'parser.read(["defaults.ini", "train.ini"])\n',
    # A config read inside an if/try block.
    ('try:\n    with open("config.json") as f:\n        config = json.load(f)\n'
     'except FileNotFoundError:\n    config = {}\n'),
])
def test_config_reads_that_run(statement):
    source = (
        "import argparse, configparser, json, os, tomllib, yaml\n"
        "from pathlib import Path\n"
        'CONFIG_PATH = "configs/base.json"\n'
        'CONFIG_DIR = os.path.join(os.path.dirname(__file__), "configs")\n'
        "ROOT = Path(__file__).parent\n"
        "parser = configparser.ConfigParser()\n"
        "cli = argparse.ArgumentParser(description='train')\n"
        "cli.add_argument('--config', type=str, default='configs/base.json', help='the run config')\n"
        "cli.add_argument('--epochs', type=int, default=10)\n"
        "args = cli.parse_args()\n"
        "def get_options():\n"
        "    p = argparse.ArgumentParser()\n"
        "    p.add_argument('-m', '--model-config', default=os.path.join('configs', 'model.yaml'))\n"
        "    return p.parse_args()\n"
        "options = get_options()\n"
    )
    found = discover(source + statement)
    assert found.skipped == {}


@pytest.mark.parametrize("statement, reason", [
    # Not a config file, or not a path NetViz can read by ast.
    ('config = json.load(open("data/train.csv"))\n', "reads files"),
    ('config = json.load(open(sys.argv[1]))\n', "reads files"),
    ('config = json.load(open(f"configs/{NAME}.json"))\n', "reads files"),
    ('config = json.load(open(CHANGED))\n', "reads files"),          # bound twice, once not a path
    ('config = json.load(open(args.data))\n', "reads files"),         # its default is a CSV
    ('config = json.load(open(args.missing))\n', "reads files"),      # no such option
    ('config = json.load(open(glob.glob("configs/*.json")[0]))\n', "reads files"),
    ('config = yaml.load(open("config.yaml"), Loader=yaml.UnsafeLoader)\n', "reads files"),
    ('config = yaml.load(open("config.yaml"))\n', "reads files"),
    ('config = json.load(open("config.json", "r+"))\n', "reads files"),
    ('config = np.load("config.json")\n', "reads files"),
    ('config = pd.read_json("config.json")\n', "reads files"),
    ('text = open("config.json").read()\n', "reads files"),           # read, not parsed
    ('parser.read("train.txt")\n', "reads files"),
    # A `with` block that does more than parse config.
    ('with open("config.json") as f:\n    config = json.load(f)\n    lines = f.readlines()\n', "with block"),
    ('with open("config.json") as f:\n    for line in f:\n        pass\n', "with block"),
    ('with open("config.json", "w") as f:\n    json.dump({}, f)\n', "with block"),
    ('with open("labels.txt") as f:\n    labels = json.load(f)\n', "with block"),
    ('with open("config.json") as f:\n    config = json.load(f)\n    data = np.load(config["path"])\n',
     "reads files"),
])
def test_reads_that_still_never_run(statement, reason):
    source = (
        "import argparse, glob, json, sys, yaml\n"
        "import numpy as np\n"
        "import pandas as pd\n"
        "import configparser\n"
        "parser = configparser.ConfigParser()\n"
        'NAME = "base"\n'
        'CHANGED = "config.json"\n'
        "CHANGED = sys.argv[1]\n"
        "cli = argparse.ArgumentParser()\n"
        "cli.add_argument('--data', default='data/train.csv')\n"
        "args = cli.parse_args()\n"
    )
    found = discover(source + statement)
    assert found.skipped == {len(ast.parse(source).body): reason}


def test_a_stand_in_inside_a_config_with_block_replaces_the_block():
    source = (
        "import json\n"
        'with open("configs/base.json") as f:\n'
        '    config = json.load(f)  # netviz: value={"units": 64}\n'
    )
    found = discover(source)
    assert found.replacements == {1: 'config = {"units": 64}'} and found.skipped == {}


def test_config_files_are_the_paths_the_config_reads_name():
    from netviz_lsp.discovery.facts import config_files
    from netviz_lsp.discovery.parse import parse

    source = (
        "import argparse, configparser, json, os\n"
        "from pathlib import Path\n"
        "ROOT = Path(__file__).parent\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--config', default='configs/base.json')\n"
        "args = parser.parse_args()\n"
        "with open(args.config) as f:\n    config = json.load(f)\n"
        "model_config = json.loads((ROOT / 'configs' / 'model.json').read_text())\n"
        "ini = configparser.ConfigParser()\n"
        "ini.read(os.path.join(os.path.dirname(__file__), 'train.ini'))\n"
        "data = json.load(open('data.csv'))\n"               # never runs: not a config file
        "if __name__ == '__main__':\n    extra = json.load(open('extra.json'))\n"  # runs as the script's
    )
    assert config_files(parse(source, "/work/project/train.py")) == [
        "configs/base.json", "/work/project/configs/model.json", "/work/project/train.ini", "extra.json"]


def test_a_top_level_call_of_a_config_loader_function_runs_with_a_config_path_only():
    source = (
        "import json, yaml\n"
        "def load_config(path):\n    with open(path) as f:\n        return yaml.safe_load(f)\n"
        "def load_labels(path):\n    return open(path).read().splitlines()\n"
        'config = load_config("configs/base.yaml")\n'     # 3: runs
        'other = load_config("data/train.csv")\n'         # 4: a data file
        'labels = load_labels("labels.json")\n'           # 5: reads more than config
    )
    assert discover(source).skipped == {4: "reads files", 5: "reads files"}
