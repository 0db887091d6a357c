"""Shared helpers of the tests that build fixture files end to end with real Keras.

``copy_and_build`` copies a fixture into the test's temporary folder (optionally edited) and
builds it through ``Engine.build`` as the CLI would: a notebook is joined and its result mapped
to cells. The rest read the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from netviz_lsp import notebook
from netviz_lsp.engine import Engine
from netviz_lsp.graph import FileResult, ModelGraph
from netviz_lsp.settings import Settings


def build_file(engine: Engine, path: Path) -> FileResult:
    """``path`` built as the CLI builds it (a notebook through its joined cells)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return engine.build(str(path), text, Settings())
    cells, problem = notebook.from_ipynb(text)
    assert problem is None
    joined = notebook.join(cells)
    return notebook.map_result(engine.build(str(path), joined.source, Settings()), joined)


def copy_and_build(engine: Engine, source: Path, tmp_path: Path,
                   edit: Optional[Callable[[str], str]] = None) -> tuple[FileResult, Path]:
    """The fixture ``source`` copied to ``tmp_path`` (through ``edit``), built."""
    path = tmp_path / source.name
    text = source.read_text(encoding="utf-8")
    path.write_text(edit(text) if edit else text, encoding="utf-8")
    return build_file(engine, path), path


def drawn(result: FileResult) -> dict[str, tuple[str, int]]:
    """Each model drawn: its class and total params."""
    return {m.factory: (m.class_name, m.total_params) for m in result.models}


def model(result: FileResult, name: str) -> ModelGraph:
    found = result.model(name)
    assert found is not None, f"{name} did not draw: {result.errors}"
    return found


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of ``path`` holding ``needle`` first."""
    return next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text)


def untouched(folder: Path, name: str) -> None:
    """Nothing the program downloads, reads, trains, tunes, plots or saves happened: ``folder``
    holds only the program."""
    assert sorted(p.name for p in folder.iterdir()) == [name]
