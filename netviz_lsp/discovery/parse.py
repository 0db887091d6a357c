"""Stage 1: parse the file once (``ast`` and ``symtable``), or say why it does not compile."""

from __future__ import annotations

import ast
import re
import symtable
import warnings
from dataclasses import dataclass
from typing import Union

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
    """Symbol tables of the top-level functions and classes, by ``(name, line)``."""

    @property
    def body(self) -> list[ast.stmt]:
        return self.tree.body

    def segment(self, node: ast.AST) -> str:
        """The exact source of ``node`` (ast offsets count UTF-8 bytes)."""
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self.lines[first].encode()[node.col_offset:node.end_col_offset].decode()
        head = self.lines[first].encode()[node.col_offset:].decode()
        tail = self.lines[last].encode()[:node.end_col_offset].decode()
        return "\n".join([head, *self.lines[first + 1:last], tail])


def parse(source: str, path: str) -> Union[Parsed, BuildError]:
    """The parsed file, or the ``syntax`` error that stops it from compiling."""
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" is the worker's to report
            warnings.simplefilter("ignore")
            tree = ast.parse(source, path)
            # symtable finds some of what ast accepts but compile rejects (``nonlocal`` at module
            # level); compiling the tree finds the rest (``return *x``, ``x: int = *y``).
            table = symtable.symtable(source, path, "exec")
            compile(tree, path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError as error:
        column = error.offset - 1 if error.offset else None
        return BuildError("syntax", error.msg or "invalid syntax", line=error.lineno, column=column)
    except ValueError as error:  # null bytes, lone surrogates (UnicodeEncodeError)
        return BuildError("syntax", f"the file cannot be parsed: {error}", line=1)
    except (RecursionError, MemoryError):
        return too_deep()
    tables = {(t.get_name(), t.get_lineno()): t for t in table.get_children()}
    return Parsed(source, path, tree, re.split(r"\r\n|\r|\n", source), tables)


def too_deep() -> BuildError:
    return BuildError("syntax", "the file is nested too deeply to be analysed", line=1)
