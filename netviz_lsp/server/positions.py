"""Line mapping between the text a build was made from and the text the editor has now.

Hover, inlay hints, code lens and diagnostics answer from the last good build, but the
user keeps typing: after unsaved edits (``textDocument/didChange``, incremental or full)
line 20 of the built text may be line 23 now, or gone. ``LineMap`` diffs the two line
lists with ``difflib`` and maps only lines that are unchanged; a line inside a changed
region maps to nothing, so a feature says nothing rather than describe the wrong layer.

All line numbers here are 0-based, as in LSP.
"""

from __future__ import annotations

import bisect
import difflib
import re
from typing import Optional, Sequence

_NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines as Python's tokenizer and LSP count them (``\\n``, ``\\r\\n`` or ``\\r``), no endings."""
    return _NEWLINE.split(text)


def utf16_width(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, LSP's default position encoding."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class LineMap:
    """Maps 0-based lines of an ``old`` text to a ``new`` one and back, through unchanged lines only."""

    def __init__(self, old: Sequence[str], new: Sequence[str]):
        old, new = list(old), list(new)
        self.identity = old == new
        pairs = [(i, i) for i in range(len(old))] if self.identity else matching_lines(old, new)
        self._blocks = _blocks(pairs)
        self._old_starts = [a for a, _, _ in self._blocks]
        self._new_starts = [b for _, b, _ in self._blocks]

    def to_new(self, old_line: int) -> Optional[int]:
        """Where ``old_line`` is now, or None when it was changed or deleted."""
        return self._lookup(old_line, self._old_starts, forward=True)

    def to_old(self, new_line: int) -> Optional[int]:
        """Which old line ``new_line`` was, or None when it is new or changed."""
        return self._lookup(new_line, self._new_starts, forward=False)

    def _lookup(self, line: int, starts: list[int], forward: bool) -> Optional[int]:
        if line < 0:
            return None
        index = bisect.bisect_right(starts, line) - 1
        if index < 0:
            return None
        a, b, size = self._blocks[index]
        offset = line - (a if forward else b)
        if offset >= size:
            return None
        return (b if forward else a) + offset


SMALL_DIFF = 250_000
"""Above this many line pairs a changed region is split at unique lines before ``difflib``."""


def matching_lines(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Pairs ``(old line, new line)`` of unchanged lines, ascending in both.

    Common prefix and suffix first (an edit is usually in one place), ``difflib`` for a small
    changed region, and for a large one (a reformat) anchors on lines that occur once in
    both texts, patience-diff style, so the cost stays near-linear: every keystroke after a
    reformat re-maps without stalling the event loop.
    """
    pairs: list[tuple[int, int]] = []
    _match(old, new, 0, len(old), 0, len(new), pairs)
    return pairs


def _match(old: list[str], new: list[str], a0: int, a1: int, b0: int, b1: int,
           out: list[tuple[int, int]]) -> None:
    while a0 < a1 and b0 < b1 and old[a0] == new[b0]:
        out.append((a0, b0))
        a0, b0 = a0 + 1, b0 + 1
    tail = []
    while a0 < a1 and b0 < b1 and old[a1 - 1] == new[b1 - 1]:
        a1, b1 = a1 - 1, b1 - 1
        tail.append((a1, b1))
    if a0 < a1 and b0 < b1:
        if (a1 - a0) * (b1 - b0) <= SMALL_DIFF:
            matcher = difflib.SequenceMatcher(None, old[a0:a1], new[b0:b1], autojunk=False)
            for a, b, size in matcher.get_matching_blocks():
                out.extend((a0 + a + i, b0 + b + i) for i in range(size))
        else:  # split at unique common lines; a region without any maps to nothing
            start_a, start_b = a0, b0
            for a, b in _unique_anchors(old, new, a0, a1, b0, b1):
                _match(old, new, start_a, a, start_b, b, out)
                out.append((a, b))
                start_a, start_b = a + 1, b + 1
            if (start_a, start_b) != (a0, b0):
                _match(old, new, start_a, a1, start_b, b1, out)
    out.extend(reversed(tail))


def _unique_anchors(old: list[str], new: list[str], a0: int, a1: int, b0: int, b1: int) -> list[tuple[int, int]]:
    """Lines occurring exactly once in both ranges, longest run in the same order (patience diff)."""
    where: dict[str, list[int]] = {}
    for i in range(a0, a1):
        where.setdefault(old[i], [0, i, -1])[0] += 1
    for j in range(b0, b1):
        entry = where.get(new[j])
        if entry is not None:
            entry[2] = j if entry[2] == -1 else -2
    candidates = sorted((i, j) for count, i, j in where.values() if count == 1 and j >= 0)
    # Longest increasing subsequence of the new-side indexes.
    tails: list[int] = []
    links: list[int] = [-1] * len(candidates)
    ends: list[int] = []
    for k, (_, j) in enumerate(candidates):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            ends.append(k)
        else:
            tails[pos], ends[pos] = j, k
        links[k] = ends[pos - 1] if pos else -1
    chain, k = [], ends[-1] if ends else -1
    while k != -1:
        chain.append(candidates[k])
        k = links[k]
    return chain[::-1]


def _blocks(pairs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    blocks: list[list[int]] = []
    for a, b in pairs:
        if blocks and blocks[-1][0] + blocks[-1][2] == a and blocks[-1][1] + blocks[-1][2] == b:
            blocks[-1][2] += 1
        else:
            blocks.append([a, b, 1])
    return [(a, b, size) for a, b, size in blocks]


def map_line_1based(line_map: LineMap, line: Optional[int]) -> Optional[int]:
    """A 1-based line of the built text (the graph contract's) as a 0-based line of the current text."""
    if line is None or line < 1:
        return None
    return line_map.to_new(line - 1)
