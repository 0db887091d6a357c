"""How a diagram looks: layer categories, their colours, fonts and spacing.

The SVG carries ``class="layer layer-<category>"`` on every node, so the editor's
webview re-themes it with CSS; the colours here are what PNG and PDF exports (and an
SVG opened on its own) show: soft fills with a darker border of the same hue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

#: Every category a layer can fall into; the SVG class is ``layer-<category>``.
CATEGORIES = (
    "input", "conv", "dense", "pool", "norm", "activation", "dropout", "merge",
    "reshape", "recurrent", "attention", "embedding", "model", "other",
)

# Exact class names first: substring rules below would misfile some of them
# (``Activation`` vs ``ActivityRegularization``, ``Dot`` the merge vs nothing).
_EXACT = {
    "InputLayer": "input",
    "Dense": "dense", "EinsumDense": "dense",
    "Embedding": "embedding",
    "Activation": "activation", "ReLU": "activation", "LeakyReLU": "activation",
    "PReLU": "activation", "ELU": "activation", "Softmax": "activation",
    "ThresholdedReLU": "activation",
    "Add": "merge", "Subtract": "merge", "Multiply": "merge", "Average": "merge",
    "Maximum": "merge", "Minimum": "merge", "Concatenate": "merge", "Dot": "merge",
    "Flatten": "reshape", "Reshape": "reshape", "Permute": "reshape",
    "RepeatVector": "reshape",
    "GaussianNoise": "dropout", "ActivityRegularization": "dropout",
    "Functional": "model", "Sequential": "model", "Model": "model",
}

# Checked in order: recurrent before conv (ConvLSTM2D), attention before the rest.
_SUBSTRINGS = (
    ("LSTM", "recurrent"), ("GRU", "recurrent"), ("RNN", "recurrent"),
    ("Bidirectional", "recurrent"),
    ("Attention", "attention"),
    ("Conv", "conv"),
    ("Pool", "pool"),
    ("Normalization", "norm"),
    ("Dropout", "dropout"),
    ("ZeroPadding", "reshape"), ("Cropping", "reshape"), ("UpSampling", "reshape"),
)


def layer_category(class_name: str, is_model: bool = False) -> str:
    """The theming category of a layer class, one of ``CATEGORIES``."""
    if is_model:
        return "model"
    if class_name in _EXACT:
        return _EXACT[class_name]
    for fragment, category in _SUBSTRINGS:
        if fragment in class_name:
            return category
    return "other"


@dataclass(frozen=True)
class Colors:
    """A category's colours: node fill, border, and the accent for its class name."""

    fill: str
    border: str
    accent: str


PALETTE = {
    "input": Colors("#e0f4f6", "#5aaab8", "#23707e"),
    "conv": Colors("#e4eefc", "#6f9ad6", "#2d5a9e"),
    "dense": Colors("#eee8fb", "#9a82d6", "#5b3fa6"),
    "pool": Colors("#e3f4ea", "#66b08a", "#2e7351"),
    "norm": Colors("#fdf3da", "#d6ae4c", "#8a6410"),
    "activation": Colors("#fce8ea", "#d88590", "#a33a4a"),
    "dropout": Colors("#eff1f4", "#a5aebb", "#5b6575"),
    "merge": Colors("#fdecdf", "#e09a64", "#a4551a"),
    "reshape": Colors("#f0f3e1", "#a9b463", "#67711f"),
    "recurrent": Colors("#f7e8f5", "#c47cb8", "#8a3a7d"),
    "attention": Colors("#fbe6ef", "#d27aa2", "#9c2f62"),
    "embedding": Colors("#e7ecfb", "#7a8fd6", "#3a4fa0"),
    "model": Colors("#eef0f3", "#6b7686", "#363f4c"),
    "other": Colors("#f4f4f5", "#a1a1aa", "#52525b"),
}

FONT = "Helvetica"
"""Text font; fontconfig maps it to a metric-compatible sans (Liberation Sans on Debian)."""
MONO_FONT = "Courier"
"""Shapes are set in a monospace so their digits line up."""
FONT_SIZE = 10
SMALL_FONT_SIZE = 9
TITLE_FONT_SIZE = 13
CLUSTER_FONT_SIZE = 11

TEXT = "#1f2328"
MUTED = "#59636e"
EDGE = "#8b95a3"
BACKGROUND = "white"
CLUSTER_FILL = "#f6f8fa"
CLUSTER_BORDER = "#8b95a3"

SPLINES = "spline"
"""Curved edges, which read better than ``polyline``'s corners at the same speed: on a
1,000-layer chain with skips dot 2.43 took 0.67 s (spline) vs 1.03 s (polyline), and on
993 layers of NASNet-like cells 0.37 s vs 0.48 s (SVG, median of 5, busy 2-core machine).
Never ``ortho``: Debian's dot 2.42/2.43 aborts with it (EfficientNetB0, and the cells graph
in tests/test_render.py: ``maze.c: chkSgraph: Assertion failed``)."""
NODESEP = "0.3"
RANKSEP = "0.32"

MAX_NAME_CHARS = 40
"""Longer names are cut with an ellipsis in the node; the tooltip keeps them whole."""


def colors(category: Optional[str]) -> Colors:
    """The colours for ``category``; unknown ones look like ``other``."""
    return PALETTE.get(category or "other", PALETTE["other"])

FAILED = Colors("#fde7e9", "#d1242f", "#b31d28")
"""The layer whose call raised (``Layer.failed``) and the note that gives the error, in an
error's partial graph: the editor's error red, as exports show it (the panel re-themes the
``layer-failed`` and ``failure-note`` classes with ``--vscode-errorForeground``)."""
CHANGES = {
    "added": Colors("#dafbe1", "#1a7f37", "#116329"),
    "changed": Colors("#fff8c5", "#bf8700", "#7d4e00"),
}
"""Layers a ``netviz diff`` marks (``RenderOptions.changed_layers``): new in green, changed in
amber, with the SVG classes ``layer-added`` and ``layer-changed``."""
FAILURE_NOTE_CHARS = 56
"""The error message beside the failed layer is wrapped at this many characters a line..."""
FAILURE_NOTE_LINES = 6
"""...and cut, with an ellipsis, after this many lines (the banner and tooltip keep it whole)."""
