"""``textDocument/codeAction``: quick fixes offered with the diagnostics they fix.

A model that needs a value NetViz never computes (``num_classes = len(np.unique(y))``,
read from a file) gets an ``arguments`` diagnostic at the model's line. Its quick fix
puts ``# netviz: value=`` at the end of the line that binds the value, where the user
types the stand-in (``# netviz: value=7``); the next build uses it. The lines come from
the last build's discovery (``Discovery.stand_ins``), mapped through unsaved edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from lsprotocol import types

from netviz_lsp.server.diagnostics import SOURCE
from netviz_lsp.server.positions import LineMap, map_line_1based

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer

STAND_IN = "  # netviz: value="


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
        fixed = [d for d in diagnostics if d.source == SOURCE and d.code == "arguments"
                 and d.range.start.line == fix.target_line]
        end = types.Position(line=fix.line, character=width(lines[fix.line]))
        edit = types.TextEdit(range=types.Range(start=end, end=end), new_text=STAND_IN)
        actions.append(types.CodeAction(
            title=f"Stand in for `{fix.name}` with `# netviz: value=…` (line {fix.line + 1})",
            kind=types.CodeActionKind.QuickFix, diagnostics=fixed or None, is_preferred=len(fixed) > 0,
            edit=types.WorkspaceEdit(changes={uri: [edit]})))
    return actions


def register(server: "NetVizServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    @server.guarded
    def code_action(ls: "NetVizServer", params: types.CodeActionParams) -> Optional[list[types.CodeAction]]:
        """Quick fixes for the models that need a stand-in value."""
        document = ls.documents.get(params.text_document.uri)
        if document is None or document.discovered is None:
            return None
        discovery, snapshot = document.discovered
        stand_ins = discovery.stand_ins
        if not stand_ins:
            return None
        lines = document.lines
        fixes = stand_in_fixes(stand_ins, {t.name: t.line for t in discovery.factories},
                               document.line_map(snapshot), lines)
        width = lambda text: ls.width(document.uri, text)  # noqa: E731
        return actions_for(fixes, document.uri, lines, params.range.start.line, params.range.end.line,
                           params.context.diagnostics, width) or None
