"""Stage 1: parse the file once (``ast`` and ``symtable``), or say why it does not compile."""

from __future__ import annotations

import ast
import re
import symtable
import warnings
from dataclasses import dataclass
from typing import Union

from netviz_lsp.discovery.astutil import LiftedTable
from netviz_lsp.discovery.script import Script, script_body
from netviz_lsp.graph import BuildError


@dataclass
class Parsed:
    """One file, parsed. Every later stage reads this and nothing else of the source."""

    source: str
    path: str
    tree: ast.Module
    lines: list[str]
    """The source's lines, split as Python splits them (``\\r\\n``, ``\\r``, ``\\n``)."""
    tables: dict[tuple[str, int], symtable.SymbolTable]
    """Symbol tables of the top-level functions and classes, by ``(name, line)``; those defined in
    a lifted function's body (``script``) as ``LiftedTable``: their free names are globals here."""
    script: Script = None  # type: ignore[assignment]
    """The statements as the script runs them: the main guard's body and the functions the
    script runs lifted in place (``script.script_body``)."""

    def __post_init__(self) -> None:
        if self.script is None:
            self.script = script_body(self.tree)

    @property
    def body(self) -> list[ast.stmt]:
        """The statements as the script runs them: every statement index is an index into this."""
        return self.script.body

    @property
    def scopes(self) -> list[str]:
        return self.script.scopes

    def segment(self, node: ast.AST) -> str:
        """The exact source of ``node`` (ast offsets count UTF-8 bytes)."""
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self.lines[first].encode()[node.col_offset:node.end_col_offset].decode()
        head = self.lines[first].encode()[node.col_offset:].decode()
        tail = self.lines[last].encode()[:node.end_col_offset].decode()
        return "\n".join([head, *self.lines[first + 1:last], tail])


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")

#: How many IPython lines ``without_shell_lines`` blanks at most (each costs a parse).
MAX_SHELL_LINES = 200


def without_shell_lines(source: str, path: str = "<file>") -> str:
    """``source`` with the IPython lines it trips over blanked, line for line.

    A script downloaded from Colab or Jupyter (File > Download .py) keeps its shell and magic
    lines as they were (``!pip install -q wandb``, ``%tensorflow_version 2.x``), which no Python
    parses. Each line the parser stops at whose text starts with ``!`` or ``%`` becomes empty,
    so lines never shift; the first other syntax error stops it there, to be reported.
    A file that parses is returned unchanged (a ``!=`` or ``%`` inside code never trips it).
    """
    lines, blanked = None, set()
    for _ in range(MAX_SHELL_LINES):
        text = source if lines is None else "".join(lines)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(text, path)
            return text
        except SyntaxError as error:
            if lines is None:
                lines = _LINE.findall(source)  # as Python counts lines: \r\n, \r, \n
            number = (error.lineno or 0) - 1
            if number in blanked:  # the shell line was a block's body (`def f():` then `!ls`)
                return source
            if not (0 <= number < len(lines)) or not lines[number].lstrip().startswith(("!", "%")):
                return text  # a real syntax error: reported at its own line, past the shell lines
            blanked.add(number)
            ending = lines[number][len(lines[number].rstrip("\r\n")):]
            lines[number] = ending
        except (ValueError, RecursionError, MemoryError):
            return source
    return source


def script_module(source: str, path: str) -> ast.Module:
    """The module of statements as the script runs them (``script_body`` of ``parse_module``):
    what statement indexes index. Raises as ``ast.parse``."""
    return ast.Module(body=script_body(parse_module(source, path)).body, type_ignores=[])


def parse_module(source: str, path: str) -> ast.Module:
    """``ast.parse(source)``, with the IPython lines of a downloaded notebook blanked when it
    trips over them (``without_shell_lines``): the tree ``parse`` read. Raises as ``ast.parse``."""
    try:
        return ast.parse(source, path)
    except SyntaxError:
        blanked = without_shell_lines(source, path)
        if blanked == source:
            raise
        return ast.parse(blanked, path)


def parse(source: str, path: str) -> Union[Parsed, BuildError]:
    """The parsed file, or the ``syntax`` error that stops it from compiling. IPython shell and
    magic lines of a downloaded notebook are blank lines here (``without_shell_lines``)."""
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" is the worker's to report
            warnings.simplefilter("ignore")
            tree = ast.parse(source, path)
            # symtable finds some of what ast accepts but compile rejects (``nonlocal`` at module
            # level); compiling the tree finds the rest (``return *x``, ``x: int = *y``).
            table = symtable.symtable(source, path, "exec")
            compile(tree, path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError as error:
        blanked = without_shell_lines(source, path)
        if blanked != source:
            return parse(blanked, path)
        column = error.offset - 1 if error.offset else None
        return BuildError("syntax", error.msg or "invalid syntax", line=error.lineno, column=column)
    except ValueError as error:  # null bytes, lone surrogates (UnicodeEncodeError)
        return BuildError("syntax", f"the file cannot be parsed: {error}", line=1)
    except (RecursionError, MemoryError):
        return too_deep()
    tables = {(t.get_name(), t.get_lineno()): t for t in table.get_children()}
    script = script_body(tree)
    for name, fn in script.lifted.items():
        own = tables.get((name, fn.lineno))
        for child in own.get_children() if own is not None else ():
            if child.get_type() in ("function", "class"):
                tables[(child.get_name(), child.get_lineno())] = LiftedTable(child)
    return Parsed(source, path, tree, re.split(r"\r\n|\r|\n", source), tables, script)


def too_deep() -> BuildError:
    return BuildError("syntax", "the file is nested too deeply to be analysed", line=1)
