"""``textDocument/codeAction``: quick fixes offered with the diagnostics they fix.

Two kinds:

- Keras 3 renamed the optimizers' ``lr`` to ``learning_rate``; code written for Keras 2
  (``Adam(lr=0.001)``, the article's own) fails with "Argument(s) not recognized:
  {'lr': ...}". The fix offered with that diagnostic renames the argument on the
  optimizer call at (or just below) the diagnostic's line.
- A model that needs a value NetViz never computes (``num_classes = len(np.unique(y))``,
read from a file) gets an ``arguments`` diagnostic at the model's line. Its quick fix
puts ``# netviz: value=`` at the end of the line that binds the value, where the user
types the stand-in (``# netviz: value=7``); the next build uses it. The lines come from
the last build's discovery (``Discovery.stand_ins``), mapped through unsaved edits. In a
notebook cell the fixes are found in the notebook's joined text; a fix whose model or value
line is in the cell is offered there, and its edit goes to the cell that binds the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from lsprotocol import types

from netviz_lsp.server import notebooks
from netviz_lsp.server.diagnostics import SOURCE
from netviz_lsp.server.positions import LineMap, map_line_1based

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer

STAND_IN = "  # netviz: value="
#: Keras optimizers that took ``lr`` in Keras 2 and take only ``learning_rate`` in Keras 3.
OPTIMIZERS = ("Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl")
_OPTIMIZER_CALL = re.compile(r"\b(?:%s)\s*\(" % "|".join(OPTIMIZERS))
_LR = re.compile(r"\blr(?=\s*=[^=])")
_CALL_SPAN = 5
"""Lines after the optimizer's name in which its ``lr=`` may stand (a call split over lines)."""


def renamed_lr_actions(uri: str, lines: Sequence[str], diagnostics: Sequence[types.Diagnostic]) -> list[types.CodeAction]:
    """``lr=`` -> ``learning_rate=`` for each "Argument(s) not recognized: {'lr': ...}" diagnostic
    whose line calls a Keras optimizer."""
    actions = []
    for diagnostic in diagnostics:
        if diagnostic.source != SOURCE or "not recognized" not in diagnostic.message or "'lr'" not in diagnostic.message:
            continue
        first = diagnostic.range.start.line
        if first >= len(lines) or not _OPTIMIZER_CALL.search(lines[first]):
            continue
        start = _OPTIMIZER_CALL.search(lines[first]).end()
        for number in range(first, min(first + _CALL_SPAN, len(lines))):
            found = _LR.search(lines[number], start if number == first else 0)
            if found:
                span = types.Range(start=types.Position(number, found.start()), end=types.Position(number, found.end()))
                actions.append(types.CodeAction(
                    title="Rename `lr` to `learning_rate` (Keras 3)", kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic], is_preferred=True,
                    edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=span, new_text="learning_rate")]})))
                break
    return actions


@dataclass
class StandInFix:
    """One quick fix: append the stand-in comment to a line."""

    target: str
    """The model that needs the value."""
    name: str
    """The value's name."""
    line: int
    """0-based line (current text) that binds it."""
    target_line: int
    """0-based line (current text) of the model, where its diagnostic is."""


def stand_in_fixes(stand_ins: dict[str, list[tuple[str, int]]], target_lines: dict[str, int],
                   line_map: LineMap, lines: Sequence[str]) -> list[StandInFix]:
    """The fixes still valid in the current text: lines unchanged and not yet holding a stand-in."""
    fixes = []
    for target, needs in stand_ins.items():
        at = map_line_1based(line_map, target_lines.get(target, 0)) if target in target_lines else None
        for name, line in needs:
            current = map_line_1based(line_map, line)
            if current is None or current >= len(lines) or "netviz: value=" in lines[current]:
                continue
            fixes.append(StandInFix(target, name, current, at if at is not None else current))
    return fixes


def actions_for(fixes: Iterable[StandInFix], uri: str, lines: Sequence[str], first: int, last: int,
                diagnostics: Sequence[types.Diagnostic], width) -> list[types.CodeAction]:
    """Code actions for the fixes whose model or value line lies in ``first..last`` (0-based)."""
    actions = []
    for fix in fixes:
        if not (first <= fix.target_line <= last or first <= fix.line <= last):
            continue
        fixed = _fixed(diagnostics, fix.target_line)
        actions.append(_action(fix.name, uri, fix.line, width(lines[fix.line]), fixed, f"line {fix.line + 1}"))
    return actions


def notebook_actions(fixes: Iterable[StandInFix], view: "notebooks.NotebookView", cell: str, first: int, last: int,
                     diagnostics: Sequence[types.Diagnostic], width) -> list[types.CodeAction]:
    """``actions_for`` in a notebook cell: fixes at joined lines whose model or value line is in
    ``cell``'s lines ``first..last``; the edit goes to the cell that binds the value."""
    index = view.index_of(cell)
    actions = []
    for fix in fixes:
        target, value = view.to_cell(fix.target_line), view.to_cell(fix.line)
        if value is None:
            continue
        target_here = target is not None and view.index_of(target[0]) == index
        if not ((target_here and first <= target[1] <= last)
                or (view.index_of(value[0]) == index and first <= value[1] <= last)):
            continue
        fixed = _fixed(diagnostics, target[1]) if target_here and target is not None else []
        where = f"cell {view.index_of(value[0]) + 1}, line {value[1] + 1}"  # cells counted from 1
        actions.append(_action(fix.name, value[0], value[1], width(view.display[fix.line]), fixed, where))
    return actions


def _fixed(diagnostics: Sequence[types.Diagnostic], line: int) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.source == SOURCE and d.code == "arguments" and d.range.start.line == line]


def _action(name: str, uri: str, line: int, end_character: int, fixed: list[types.Diagnostic],
            where: str) -> types.CodeAction:
    end = types.Position(line=line, character=end_character)
    edit = types.TextEdit(range=types.Range(start=end, end=end), new_text=STAND_IN)
    return types.CodeAction(
        title=f"Stand in for `{name}` with `# netviz: value=…` ({where})",
        kind=types.CodeActionKind.QuickFix, diagnostics=fixed or None, is_preferred=len(fixed) > 0,
        edit=types.WorkspaceEdit(changes={uri: [edit]}))


def register(server: "NetVizServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    @server.guarded
    def code_action(ls: "NetVizServer", params: types.CodeActionParams) -> Optional[list[types.CodeAction]]:
        """Quick fixes: Keras 2's ``lr=`` renamed, and stand-ins for models that need a value."""
        here = ls.workspace.get_text_document(params.text_document.uri)
        renamed = renamed_lr_actions(params.text_document.uri, here.lines, params.context.diagnostics)
        document, cell = notebooks.locate(ls, params.text_document.uri)
        if document is None or document.discovered is None:
            return renamed or None
        discovery, snapshot = document.discovered
        stand_ins = discovery.stand_ins
        if not stand_ins:
            return renamed or None
        lines = document.display_lines
        fixes = stand_in_fixes(stand_ins, {t.name: t.line for t in discovery.factories},
                               document.line_map(snapshot), lines)
        width = lambda text: ls.width(document.uri, text)  # noqa: E731
        if cell is not None and document.notebook is not None:
            return renamed + notebook_actions(fixes, document.notebook, cell, params.range.start.line,
                                              params.range.end.line, params.context.diagnostics, width) or None
        return renamed + actions_for(fixes, document.uri, lines, params.range.start.line, params.range.end.line,
                                     params.context.diagnostics, width) or None
