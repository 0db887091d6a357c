"""``textDocument/codeAction``: quick fixes offered with the diagnostics they fix.

Each is a ``WorkspaceEdit`` that touches only what it fixes, so the user's formatting stays.

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
- Keras 3 warns "Do not pass an `input_shape`/`input_dim` argument to a layer" (a Warning
  diagnostic at the layer's line). When that layer is the first of a ``Sequential([...])``
  list, the fix puts an ``Input(shape=...)`` entry before it; when it is the first
  ``model.add(...)``, a ``model.add(Input(shape=...))`` line before it. Either way the
  argument and its comma go, and ``Input`` is said as the module says Keras (``keras.Input``,
  ``tf.keras.Input``, or ``Input`` when imported). Found with ``ast`` in the current text.
- Keras 3 removed Keras 2's layer and utility submodules (``keras.layers.core``,
  ``keras.utils.np_utils``; the table is ``netviz_lsp/keras2.py``). The error at such an import
  says where the names went, and its fix rewrites the module on the import line
  (``from keras.layers.core import Dense`` -> ``from keras.layers import Dense``, the user's
  ``tensorflow.keras`` spelling kept; an ``import M as m`` too, not a bare ``import M``,
  whose uses spell the old path).
- A factory that needs arguments (an ``arguments`` diagnostic at its ``def``) gets a
  ``# netviz: args=(...)`` comment above it (above its decorators, where discovery reads it)
  with its required parameters' names to replace: snippet placeholders for a client that
  applies snippet edits (LSP 3.18 ``snippetEditSupport``), the plain names otherwise.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from lsprotocol import types

from netviz_lsp.discovery.parse import parse_module
from netviz_lsp.keras2 import moved_module
from netviz_lsp.server import notebooks
from netviz_lsp.server.diagnostics import SOURCE
from netviz_lsp.server.positions import LineMap, map_line_1based

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer
    from netviz_lsp.server.documents import Document

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


# -- Keras 2's input_shape= / input_dim= on a Sequential's first layer -------------------------

@dataclass
class Edit:
    """A text edit in 0-based lines and character (code point) columns of the parsed text."""

    line: int
    start: int
    end_line: int
    end: int
    text: str


@dataclass
class Fix:
    """A quick fix found in the text: the line of the diagnostic it fixes, and its edits."""

    line: int
    title: str
    edits: list[Edit]
    snippet: bool = False
    """``edits`` hold snippet text (``${1:units}``)."""


INPUT_KEYWORDS = ("input_shape", "input_dim")
_KERAS_MODULES = ("keras", "tensorflow.keras", "tf.keras", "tensorflow.python.keras")


def parse(text: str) -> Optional[ast.Module]:
    try:
        return parse_module(text, "<file>")  # as discovery reads it (a Colab export's !pip lines blanked)
    except (SyntaxError, ValueError):
        return None


def input_callable(tree: ast.Module) -> str:
    """How this module says ``keras.Input``: ``Input`` when imported, else through its alias for
    Keras (``keras.Input``, ``K.Input``, ``tf.keras.Input``), else its ``layers`` module's."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names.setdefault(alias.asname, alias.name)
                else:
                    head = alias.name.split(".")[0]
                    names.setdefault(head, head)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names.setdefault(alias.asname or alias.name, f"{node.module}.{alias.name}")
    keras_like = [f"{m}{suffix}" for m in _KERAS_MODULES for suffix in ("", ".layers")]
    for name, full in names.items():
        if full in (f"{m}.Input" for m in keras_like):
            return name
    for name, full in names.items():
        if full in _KERAS_MODULES:
            return f"{name}.Input"
    for name, full in names.items():
        if full == "tensorflow":
            return f"{name}.keras.Input"
    for name, full in names.items():
        if full in keras_like:
            return f"{name}.Input"
    return "keras.Input"


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


class _Text:
    """The parsed text's lines, with ast's UTF-8 byte columns turned into character columns."""

    def __init__(self, text: str, lines: Sequence[str]):
        self.text, self.lines = text, lines

    def char(self, lineno: int, byte_col: int) -> int:
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def start(self, node: ast.AST) -> tuple[int, int]:
        return node.lineno - 1, self.char(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> tuple[int, int]:
        return node.end_lineno - 1, self.char(node.end_lineno, node.end_col_offset)

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ""


def _without(call: ast.Call, keyword: ast.keyword, text: _Text) -> Edit:
    """The edit removing ``keyword`` and its comma from ``call``'s arguments."""
    ordered = sorted([*call.args, *call.keywords], key=lambda n: (n.lineno, n.col_offset))
    at = ordered.index(keyword)
    if at > 0:  # from the end of the argument before it: ", input_shape=(28, 28)"
        first, last = text.end(ordered[at - 1]), text.end(keyword)
    elif at + 1 < len(ordered):  # the first of several: "input_shape=(28, 28), "
        first, last = text.start(keyword), text.start(ordered[at + 1])
    else:  # the only one: everything between the parentheses goes (a trailing comma, a line break)
        func_line, func_end = text.end(call.func)
        opening = text.lines[func_line].find("(", func_end)
        closing = text.end(call)
        if opening < 0:
            first, last = text.start(keyword), text.end(keyword)
        else:
            first, last = (func_line, opening + 1), (closing[0], closing[1] - 1)
    return Edit(first[0], first[1], last[0], last[1], "")


def input_fixes(text: str, lines: Sequence[str], warned: Iterable[int],
                tree: Optional[ast.Module] = None) -> list[Fix]:
    """For each 0-based line Keras warned about ``input_shape``/``input_dim`` on, when the layer
    there is the first of a ``Sequential([...])`` list or the first ``model.add(...)``: an
    ``Input(shape=...)`` entry (or ``model.add(Input(shape=...))``) before it, in the code's own
    style and alias, and the argument removed."""
    warned = set(warned)
    tree = tree or parse(text)
    if tree is None or not warned:
        return []
    source, parents, alias = _Text(text, lines), _parents(tree), input_callable(tree)
    fixes = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.lineno - 1 not in warned:
            continue
        keyword = next((k for k in node.keywords if k.arg in INPUT_KEYWORDS), None)
        if keyword is None:
            continue
        value = source.segment(keyword.value)
        shape = value if keyword.arg == "input_shape" else f"({value},)"
        entry = f"{alias}(shape={shape})"
        line, column = source.start(node)
        indent = lines[line][:column]
        parent = parents.get(node)
        if isinstance(parent, (ast.List, ast.Tuple)) and parent.elts and parent.elts[0] is node \
                and _is_sequential_layers(parent, parents):
            new = f"{entry},\n{indent}" if not indent.strip() else f"{entry}, "
            title = f"Put `{entry}` first in the Sequential's layers, without `{keyword.arg}=` (Keras 3)"
        elif isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) \
                and parent.func.attr == "add" and parent.args and parent.args[0] is node \
                and _first_add(parent, parents):
            statement = parents[parent]
            line, column = source.start(statement)
            indent = lines[line][:column]
            receiver = source.segment(parent.func.value)
            added = f"{receiver}.add({entry})"
            new = f"{added}\n{indent}" if not indent.strip() else f"{added}; "
            title = f"Add `{added}` before this layer, without `{keyword.arg}=` (Keras 3)"
        else:
            continue
        fixes.append(Fix(node.lineno - 1, title, [Edit(line, column, line, column, new),
                                                  _without(node, keyword, source)]))
    return fixes


def _is_sequential_layers(sequence: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """``sequence`` is the layers list of a ``Sequential(...)`` call (positional or ``layers=``)."""
    call = parents.get(sequence)
    if isinstance(call, ast.keyword):
        call = parents.get(call)
    if not isinstance(call, ast.Call) or _name(call.func) != "Sequential":
        return False
    return (bool(call.args) and call.args[0] is sequence) or \
        any(k.arg == "layers" and k.value is sequence for k in call.keywords)


def _first_add(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> bool:
    """``call`` (``model.add(...)``) is a statement of its own, and no ``.add`` on the same
    receiver comes before it in its block."""
    statement = parents.get(call)
    block = parents.get(statement)
    if not isinstance(statement, ast.Expr) or block is None:
        return False
    receiver = ast.dump(call.func.value)
    for field_name in ("body", "orelse", "finalbody"):
        body = getattr(block, field_name, None)
        if isinstance(body, list) and statement in body:
            for earlier in body[:body.index(statement)]:
                for node in ast.walk(earlier):
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                            and node.func.attr == "add" and ast.dump(node.func.value) == receiver:
                        return False
            return True
    return False


# -- a target that needs arguments -------------------------------------------------------------

def args_fixes(text: str, lines: Sequence[str], needing: Iterable[int], snippet: bool,
               tree: Optional[ast.Module] = None, missing: Optional[dict[int, set[str]]] = None) -> list[Fix]:
    """For each 0-based ``def`` line whose function needs arguments: a ``# netviz: args=(...)``
    comment above it (above its decorators, at its indentation), where discovery reads it, with the
    required parameters' names to replace (as snippet placeholders when ``snippet``).

    ``missing`` (by line) names the parameters the diagnostic says lack a value: a required one
    NetViz fills itself (a KerasTuner hypermodel's hyperparameters) is left out, and the others are
    then given as keywords, which discovery adds to what it fills."""
    needing = set(needing)
    missing = missing or {}
    tree = tree or parse(text)
    if tree is None or not needing:
        return []
    fixes = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.lineno - 1 not in needing:
            continue
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        required = [a.arg for a in positional[:len(positional) - len(args.defaults)]]
        keywords = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
        named = missing.get(node.lineno - 1)
        if named and not set(required) <= named:  # some filled by NetViz: the rest by name
            required, keywords = [], [name for name in required + keywords if name in named]
        if not required and not keywords:
            continue
        plain, inside = _args_text(required, keywords, False), _args_text(required, keywords, snippet)
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())] if first < len(lines) else ""
        fixes.append(Fix(node.lineno - 1, f"Add `# netviz: args=({plain})` above `{node.name}()` to build it",
                         [Edit(first, 0, first, 0, f"{indent}# netviz: args=({inside})\n")], snippet))
    return fixes


def _args_text(required: list[str], keywords: list[str], snippet: bool) -> str:
    """``units, filters`` (or ``${1:units}, ${2:filters}``); one positional gets its tuple comma."""
    holes = iter(range(1, len(required) + len(keywords) + 1))

    def hole(name: str) -> str:
        return f"${{{next(holes)}:{name}}}" if snippet else name
    parts = [hole(name) for name in required] + [f"{name}={hole(name)}" for name in keywords]
    return ", ".join(parts) + ("," if len(parts) == 1 and required else "")


# -- fixes found in the text, as code actions ----------------------------------------------------

def is_input_warning(diagnostic: types.Diagnostic) -> bool:
    return diagnostic.source == SOURCE and diagnostic.severity == types.DiagnosticSeverity.Warning and \
        any(f"`{word}`" in diagnostic.message for word in INPUT_KEYWORDS)


def is_moved_module(diagnostic: types.Diagnostic) -> bool:
    return diagnostic.source == SOURCE and "Keras 2 code: Keras 3 has no `" in diagnostic.message \
        and ("; import from `" in diagnostic.message or "layers.experimental" in diagnostic.message)


def moved_module_fixes(lines: Sequence[str], failing: Iterable[int], tree: Optional[ast.Module]) -> list[Fix]:
    """``from keras.layers.core import X`` -> ``from keras.layers import X`` on each failing line
    (0-based) that imports a module Keras 3 removed (``keras2.MOVED_MODULES``)."""
    wanted = set(failing)
    fixes: list[Fix] = []
    if tree is None or not wanted:
        return fixes
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno - 1 not in wanted:
            continue
        if isinstance(node, ast.ImportFrom):
            names = [node.module] if node.level == 0 and node.module else []
        else:  # a bare `import keras.layers.core` is used by its full path: moving it alone breaks the uses
            names = [alias.name for alias in node.names if alias.asname]
        line = node.lineno - 1
        text = lines[line] if line < len(lines) else ""
        for name in names:
            new = moved_module(name)
            at = re.search(r"(?<![\w.])%s(?![\w.])" % re.escape(name), text)
            if new is None or at is None:
                continue
            fixes.append(Fix(line, f"Import from `{new}` (Keras 3)",
                             [Edit(line, at.start(), line, at.end(), new)]))
    return fixes


_MISSING = re.compile(r"needs arguments for: ([\w, ]+)\.")
"""The parameters an ``arguments`` diagnostic names (``discovery/arguments.py``'s message)."""


def is_needs_arguments(diagnostic: types.Diagnostic) -> bool:
    return diagnostic.source == SOURCE and diagnostic.code == "arguments" and "needs arguments" in diagnostic.message


def text_actions(document: "Document", cell: Optional[str], diagnostics: Sequence[types.Diagnostic],
                 width, snippets: bool) -> list[types.CodeAction]:
    """The input and arguments fixes for the request's diagnostics, found in the document's current
    text (a notebook's joined text: the edits go to the cells that hold their lines)."""
    view = document.notebook if cell is not None else None
    wanted: dict[int, types.Diagnostic] = {}
    for diagnostic in diagnostics:
        if is_input_warning(diagnostic) or is_needs_arguments(diagnostic) or is_moved_module(diagnostic):
            line: Optional[int] = diagnostic.range.start.line
            if view is not None and cell is not None:
                line = view.to_joined(cell, diagnostic.range.start.line)
            if line is not None:
                wanted.setdefault(line, diagnostic)
    if not wanted:
        return []
    text, lines = document.text, document.lines
    shown = document.display_lines
    tree = parse(text)
    warned = [line for line, d in wanted.items() if is_input_warning(d)]
    needing = [line for line, d in wanted.items() if is_needs_arguments(d)]
    missing = {line: set(found.group(1).replace(" ", "").split(",")) for line, d in wanted.items()
               if is_needs_arguments(d) and (found := _MISSING.search(d.message))}
    moved = [line for line, d in wanted.items() if is_moved_module(d)]
    fixes = input_fixes(text, lines, warned, tree) + args_fixes(text, lines, needing, snippets, tree, missing) + \
        moved_module_fixes(lines, moved, tree)
    actions = []
    for fix in fixes:
        placed = [_place(edit, document.uri, view, shown, width) for edit in fix.edits]
        if any(p is None for p in placed):
            continue
        if fix.snippet:
            edit = types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                edits=[types.SnippetTextEdit(range=span, snippet=types.StringValue(new))])
                for uri, span, new in placed])
        else:
            changes: dict[str, list[types.TextEdit]] = {}
            for uri, span, new in placed:
                changes.setdefault(uri, []).append(types.TextEdit(range=span, new_text=new))
            edit = types.WorkspaceEdit(changes=changes)
        actions.append(types.CodeAction(title=fix.title, kind=types.CodeActionKind.QuickFix,
                                        diagnostics=[wanted[fix.line]], is_preferred=True, edit=edit))
    return actions


def _place(edit: Edit, uri: str, view: Optional["notebooks.NotebookView"], shown: Sequence[str],
           width) -> Optional[tuple[str, types.Range, str]]:
    """``edit`` as (URI, LSP range in the client's units, text): a notebook's goes to its cell."""
    ends = []
    for line, column in ((edit.line, edit.start), (edit.end_line, edit.end)):
        text = shown[line] if line < len(shown) else ""
        where = (uri, line) if view is None else view.to_cell(line)
        if where is None:
            return None
        ends.append((where[0], types.Position(where[1], width(text[:column]))))
    if ends[0][0] != ends[1][0]:
        return None
    return ends[0][0], types.Range(start=ends[0][1], end=ends[1][1]), edit.text


def _snippets(ls: "NetVizServer") -> bool:
    """Whether the client applies snippet edits in a workspace edit (LSP 3.18)."""
    value = ls.client_capabilities
    for name in ("workspace", "workspace_edit"):
        value = getattr(value, name, None)
    return bool(value is not None and value.snippet_edit_support and value.document_changes)


def register(server: "NetVizServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    @server.guarded
    def code_action(ls: "NetVizServer", params: types.CodeActionParams) -> Optional[list[types.CodeAction]]:
        """Quick fixes: Keras 2's ``lr=`` renamed, ``input_shape=`` made an ``Input`` and removed
        modules' imports moved, the
        ``# netviz: args=`` comment of a factory that needs arguments, and stand-ins for models
        that need a value."""
        here = ls.workspace.get_text_document(params.text_document.uri)
        found = renamed_lr_actions(params.text_document.uri, here.lines, params.context.diagnostics)
        document, cell = notebooks.locate(ls, params.text_document.uri)
        if document is None:
            return found or None
        width = lambda text: ls.width(document.uri, text)  # noqa: E731
        found += text_actions(document, cell, params.context.diagnostics, width, _snippets(ls))
        if document.discovered is None:
            return found or None
        discovery, snapshot = document.discovered
        stand_ins = discovery.stand_ins
        if not stand_ins:
            return found or None
        lines = document.display_lines
        fixes = stand_in_fixes(stand_ins, {t.name: t.line for t in discovery.factories},
                               document.line_map(snapshot), lines)
        if cell is not None and document.notebook is not None:
            return found + notebook_actions(fixes, document.notebook, cell, params.range.start.line,
                                            params.range.end.line, params.context.diagnostics, width) or None
        return found + actions_for(fixes, document.uri, lines, params.range.start.line, params.range.end.line,
                                   params.context.diagnostics, width) or None
