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
    ("if __name__ == '__main__':\n    x = 1\n", "main guard"),
    ("if '__main__' == __name__:\n    x = 1\n", "main guard"),
    # ``if``/``try`` blocks run only when everything in them may.
    ("if True:\n    x = open('a').read()\n", "reads files"),
    ("try:\n    x = requests.get(URL)\nexcept Exception:\n    x = None\n", "downloads"),
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
