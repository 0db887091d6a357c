"""``netviz diff FILE --against REV``: what changed in each model since a git revision.

The file as it was at ``REV`` (``git show REV:./FILE``) is written into a hidden temporary
file next to the working copy, so its imports of workspace modules resolve as the working
copy's do, and both are built by one engine. Targets are matched by name; layers by id, as
the server's ``changes`` are (``server/changes.py``: added, removed, changed = class,
output shape, params or configuration, params_delta).

Output: a table per model (``text``), the comparison as JSON (``json``), or the working copy's
diagram with its added and changed layers highlighted (``svg``, ``png``, ``html``), for a
pull-request review.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any, Optional

from netviz_lsp.graph import FileResult, Layer, ModelGraph, format_shape
from netviz_lsp.server.changes import compare, what_differs


class DiffError(Exception):
    """The revision cannot be read (not a git work tree, unknown revision, file not in it)."""


@dataclass
class ModelDiff:
    """One target compared: ``status`` is ``changed``, ``same``, ``added`` (new in the working copy) or ``removed``."""

    factory: str
    status: str
    before: Optional[ModelGraph] = None
    after: Optional[ModelGraph] = None
    changes: Optional[dict[str, Any]] = None

    def to_json(self) -> dict[str, Any]:
        return {
            "factory": self.factory, "status": self.status, "changes": self.changes,
            "total_params": {"before": self.before.total_params if self.before else None,
                             "after": self.after.total_params if self.after else None},
        }


@dataclass
class FileDiff:
    file: str
    against: str
    models: list[ModelDiff] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    """Build errors of either side, each with ``"side": "before" | "after"``."""

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "against": self.against, "models": [m.to_json() for m in self.models],
                "errors": self.errors}


def git_show(path: str, rev: str) -> bytes:
    """The bytes of ``path`` at ``rev`` in its git work tree; ``DiffError`` says why there are none."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    name = os.path.basename(path)
    try:
        done = subprocess.run(["git", "-C", folder, "show", f"{rev}:./{name}"], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise DiffError("git is not installed") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(f"cannot read {path} at {rev}: {reason[-1] if reason else 'git show failed'}")
    return done.stdout


def revision_copy(path: str, rev: str) -> str:
    """A hidden temporary copy of ``path`` as it was at ``rev``, in the same folder; the caller removes it."""
    data = git_show(path, rev)
    folder = os.path.dirname(os.path.abspath(path))
    stem, ext = os.path.splitext(os.path.basename(path))
    handle, temp = tempfile.mkstemp(prefix=f".{stem}.netviz-diff-", suffix=ext, dir=folder)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    return temp


def compare_results(before: FileResult, after: FileResult) -> list[ModelDiff]:
    """Each target of either side, in the working copy's order, then the targets that are gone."""
    old = {m.factory: m for m in before.models}
    new = {m.factory: m for m in after.models}
    diffs = []
    for graph in after.models:
        previous = old.get(graph.factory)
        if previous is None:
            diffs.append(ModelDiff(graph.factory, "added", None, graph))
            continue
        changes = compare(previous, graph)
        same = not (changes["added"] or changes["removed"] or changes["changed"] or changes["params_delta"])
        diffs.append(ModelDiff(graph.factory, "same" if same else "changed", previous, graph, changes))
    diffs.extend(ModelDiff(g.factory, "removed", g, None) for g in before.models if g.factory not in new)
    return diffs


def marked_layers(diff: ModelDiff) -> tuple[tuple[str, str], ...]:
    """``RenderOptions.changed_layers`` for the working copy's diagram."""
    if diff.changes is None:
        return tuple((layer.id, "added") for layer in diff.after.layers) if diff.after else ()
    return tuple([(i, "added") for i in diff.changes["added"]] + [(i, "changed") for i in diff.changes["changed"]])


def format_table(result: FileDiff) -> str:
    """The text report: per model a title line, then one row per added, changed or removed layer."""
    lines = [f"{result.file} against {result.against}"]
    for diff in result.models:
        if diff.status == "added":
            lines.append(f"{diff.factory}: new since {result.against} ({diff.after.total_params:,} params)")
            continue
        if diff.status == "removed":
            lines.append(f"{diff.factory}: gone since {result.against} (had {diff.before.total_params:,} params)")
            continue
        before, after = diff.before.total_params, diff.after.total_params
        if diff.status == "same":
            lines.append(f"{diff.factory}: no changes ({after:,} params)")
            continue
        lines.append(f"{diff.factory}: {before:,} -> {after:,} params ({after - before:+,})")
        old = {layer.id: layer for layer in diff.before.layers}
        new = {layer.id: layer for layer in diff.after.layers}
        rows = [("added", new[i], None) for i in diff.changes["added"]]
        rows += [("changed", new[i], old[i]) for i in diff.changes["changed"]]
        rows += [("removed", old[i], None) for i in diff.changes["removed"]]
        rows.sort(key=lambda row: _order(row, diff))
        table = [(change, layer.id, layer.class_name, *_facts(change, layer, was)) for change, layer, was in rows]
        widths = [max(len(row[c]) for row in table) for c in range(4)]
        for row in table:
            cells = [row[c].ljust(widths[c]) for c in range(4)] + [row[4]]
            lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _order(row, diff: ModelDiff) -> tuple[int, int]:
    change, layer, _ = row
    if change == "removed":
        return 1, [l.id for l in diff.before.layers].index(layer.id)
    return 0, [l.id for l in diff.after.layers].index(layer.id)


def _facts(change: str, layer: Layer, was: Optional[Layer]) -> tuple[str, str]:
    """(output shape, the rest) for one row: for a changed layer, what differs as ``before -> after``."""
    if change != "changed" or was is None:
        return format_shape(layer.output_shape), f"{layer.params:,} params"
    differs = what_differs(was, layer)
    shape = (f"{format_shape(was.output_shape)} -> {format_shape(layer.output_shape)}"
             if "output_shape" in differs else format_shape(layer.output_shape))
    rest = []
    if "params" in differs:
        rest.append(f"{was.params:,} -> {layer.params:,} params ({layer.params - was.params:+,})")
    for name in ("class_name", "activation", "dtype", "trainable", "trainable_params"):
        if name in differs and not (name == "trainable_params" and "params" in differs):
            rest.append(f"{name}: {getattr(was, name)} -> {getattr(layer, name)}")
    return shape, "; ".join(rest)


def error_rows(result: FileResult, side: str) -> list[dict[str, Any]]:
    return [{**e.to_dict(), "side": side, "graph": None} for e in result.errors]


def errors_text(errors: list[dict[str, Any]], file: str, against: str) -> list[str]:
    lines = []
    for e in errors:
        where = f"{file}{'@' + against if e['side'] == 'before' else ''}:{e['line']}" if e.get("line") else file
        who = f" in {e['factory']}" if e.get("factory") else ""
        lines.append(f"{where}: {e['kind']} error{who}: {e['message']}")
    return lines
