"""Jupyter notebooks as Python: the code cells joined into one text, with a map back to cells.

A notebook is a script split into cells, so NetViz builds it as one: ``from_ipynb`` (a
``.ipynb`` file's JSON) and ``from_cells`` (the cells an editor holds) join the code cells,
in order, into ``Notebook.source``, and ``Notebook.where(line)`` says which cell and which
line in it a line of that text came from. What is not Python is blanked, line for line,
so lines never shift:

- IPython magics and shell lines (``%matplotlib inline``, ``!pip install x``,
  ``files = !ls``, ``display?``) become empty lines;
- a cell magic blanks its whole cell (``%%bash``, ``%%writefile``), or only its own line when
  the body is plain Python (``%%time``, ``%%capture``);
- a cell that does not parse is blanked too, and its ``syntax`` error is kept, with the
  cell: it costs only the models that need what the cell defines.

``map_result`` turns a ``FileResult`` built from the joined text into the contract's
notebook form: ``cell`` (the index in the notebook's ``cells`` array, markdown cells
counted) and ``line`` 1-based within that cell, for models, layers and errors.
Pure data and ``ast``: nothing runs here.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Optional

from netviz_lsp.graph import BuildError, BuildWarning, FileResult, Layer, ModelGraph

#: Cell magics whose body is Python run as it is (``%%time`` times it, ``%%capture`` hides its
#: output); any other (``%%bash``, ``%%writefile``, ``%%timeit``) blanks its cell.
PYTHON_CELL_MAGICS = frozenset({"time", "capture"})
_SHELL_ASSIGN = re.compile(r"^\s*[\w.\[\], ]+\s*=\s*[!%]")
_HELP = re.compile(r"^\s*[\w.]+\?\??\s*$|^\s*\?\??[\w.]+\s*$")


@dataclass
class Cell:
    """One cell of a notebook, as NetViz reads it."""

    index: int
    """Its index in the notebook's ``cells`` array (markdown cells counted)."""
    kind: str
    """``code`` or ``markdown`` (or ``raw``)."""
    text: str


@dataclass
class Notebook:
    """The code cells of a notebook joined into one Python text, with the way back."""

    source: str
    """Every code cell's text, in order, magics blanked, a newline between cells."""
    origins: list[tuple[int, int]] = field(default_factory=list)
    """For line ``n`` (1-based) of ``source``: ``origins[n - 1]`` = (cell index, 1-based line in it)."""
    starts: dict[int, int] = field(default_factory=dict)
    """Cell index -> the 1-based line of ``source`` where the cell starts."""
    errors: list[BuildError] = field(default_factory=list)
    """``syntax`` errors of cells that do not parse (their ``line`` already cell-local, ``cell`` set)."""

    def where(self, line: Optional[int]) -> tuple[Optional[int], Optional[int]]:
        """``(cell, line in cell)`` for a 1-based line of ``source``; ``(None, None)`` when unknown."""
        if line is None or not 1 <= line <= len(self.origins):
            return None, None
        return self.origins[line - 1]

    def line_of(self, cell: int, line: int) -> Optional[int]:
        """The 1-based line of ``source`` for 1-based ``line`` in code cell ``cell``."""
        start = self.starts.get(cell)
        if start is None:
            return None
        at = start + line - 1
        return at if at <= len(self.origins) and self.origins[at - 1] == (cell, line) else None


def from_ipynb(text: str) -> tuple[Optional[list[Cell]], Optional[BuildError]]:
    """The cells of a ``.ipynb`` file's JSON, or a ``syntax`` error saying why it is not one."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        return None, BuildError("syntax", f"the notebook is not valid JSON: {error}", line=1)
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return None, BuildError("syntax", "the notebook has no `cells` list", line=1)
    found = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        found.append(Cell(index, str(cell.get("cell_type", "code")), str(source)))
    return found, None


def join(cells: Iterable[Cell]) -> Notebook:
    """The code cells as one text, with each line's origin; cells that do not parse are blanked."""
    lines: list[str] = []
    origins: list[tuple[int, int]] = []
    starts: dict[int, int] = {}
    errors: list[BuildError] = []
    for cell in cells:
        if cell.kind != "code":
            continue
        own = _python_lines(cell.text)
        problem = _syntax_error(own, cell.index)
        if problem is not None:
            errors.append(problem)
            own = [""] * len(own)
        starts[cell.index] = len(lines) + 1
        for number, text in enumerate(own, 1):
            lines.append(text)
            origins.append((cell.index, number))
    return Notebook("\n".join(lines) + ("\n" if lines else ""), origins, starts, errors)


def _python_lines(text: str) -> list[str]:
    """The cell's lines with IPython syntax blanked (line count kept)."""
    lines = text.split("\n")
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()  # a final newline is no line of its own
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].lstrip()[2:].split(None, 1)[0] if lines[first].strip() != "%%" else ""
        if magic not in PYTHON_CELL_MAGICS:
            return [""] * len(lines)
        lines = [*lines[:first], "", *lines[first + 1:]]  # the body is Python: keep it
    kept = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or _SHELL_ASSIGN.match(line) or _HELP.match(line):
            kept.append("")
        else:
            kept.append(line)
    return kept


def _syntax_error(lines: list[str], cell: int) -> Optional[BuildError]:
    text = "\n".join(lines) + "\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<cell>", "exec", dont_inherit=True)  # also what ast accepts but compile rejects
    except SyntaxError as error:
        column = error.offset - 1 if error.offset else None
        return BuildError("syntax", error.msg or "invalid syntax", line=error.lineno, column=column, cell=cell)
    except (ValueError, RecursionError, MemoryError) as error:
        return BuildError("syntax", f"the cell cannot be parsed: {error}", line=1, cell=cell)
    return None


def map_result(result: FileResult, notebook: Notebook) -> FileResult:
    """``result`` (lines of ``notebook.source``) with cells and cell-local lines, plus the cells' own
    syntax errors. An error's call chain and partial graph, and the warnings, are mapped too."""
    models = [_map_model(model, notebook) for model in result.models]
    errors = [_map_error(error, notebook) for error in result.errors] + list(notebook.errors)
    errors.sort(key=lambda e: (e.cell if e.cell is not None else -1, e.line or 0, e.factory or ""))
    warned = [_map_warning(warning, notebook) for warning in result.warnings]
    warned.sort(key=lambda w: (w.cell if w.cell is not None else -1, w.line or 0, w.factory or ""))
    return FileResult(file=result.file, models=models, errors=errors, warnings=warned)


def _map_model(model: ModelGraph, notebook: Notebook) -> ModelGraph:
    cell, line = notebook.where(model.line)
    return dataclasses.replace(model, line=line or model.line, cell=cell,
                               layers=[_map_layer(layer, notebook) for layer in model.layers])


def _map_layer(layer: Layer, notebook: Notebook) -> Layer:
    cell, line = notebook.where(layer.line)
    chain = [notebook.where(n) for n in layer.call_lines]
    return dataclasses.replace(layer, cell=cell, line=line,
                               call_lines=[n for _, n in chain if n is not None],
                               call_cells=[c for c, _ in chain if c is not None])


def _map_error(error: BuildError, notebook: Notebook) -> BuildError:
    if error.cell is not None:
        return error
    cell, line = notebook.where(error.line)
    chain = [notebook.where(n) for n in error.call_lines]
    graph = _map_model(error.graph, notebook) if error.graph is not None else None
    message = _LINE.sub(lambda m: _cell_line(m, notebook), error.message) if error.kind == "arguments" else error.message
    return dataclasses.replace(error, message=message, cell=cell, line=line if cell is not None else error.line,
                               call_lines=[n for _, n in chain if n is not None],
                               call_cells=[c for c, _ in chain if c is not None], graph=graph)


_LINE = re.compile(r"\bline (\d+)\b")


def _cell_line(match: "re.Match[str]", notebook: Notebook) -> str:
    """``line 25`` of the joined text, in an ``arguments`` error's message (discovery writes
    them), as a person reads it in the notebook: ``cell 9, line 4`` (cells counted from 1)."""
    cell, line = notebook.where(int(match.group(1)))
    return match.group(0) if cell is None else f"cell {cell + 1}, line {line}"


def _map_warning(warning: BuildWarning, notebook: Notebook) -> BuildWarning:
    if warning.cell is not None:
        return warning
    cell, line = notebook.where(warning.line)
    return dataclasses.replace(warning, cell=cell, line=line if cell is not None else warning.line)
