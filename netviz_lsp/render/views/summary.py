"""The ``summary`` view: ``model.summary()`` as a Markdown or HTML table, with MACs per layer.

Rows are the top-level layers in graph order (with ``expand_nested``, a nested model's
layers follow it, marked "└"), each with its output shape, parameters and
multiply-accumulates (``macs.py``); functional models add "Connected to", as Keras
does. Under the table: total, trainable and non-trainable parameters with their size,
total MACs, and memory (weights, and activations per sample: ``memory.py``). All user text is escaped for the format.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Optional

from netviz_lsp.graph import Layer, ModelGraph, format_shape
from netviz_lsp.memory import model_memory
from netviz_lsp.render.escape import visible_text
from netviz_lsp.render.views.macs import compact_macs, count_macs, format_macs
from netviz_lsp.settings import RenderOptions


@dataclass
class Row:
    """One table row, as plain text; escaping happens per format."""

    layer: Layer
    depth: int
    shape: str
    params: int
    macs: Optional[int]
    connected: list[str]


@dataclass
class Summary:
    """The table and its footer for one model."""

    factory: str
    model_name: str
    class_name: str
    rows: list[Row]
    show_connections: bool
    footer: list[tuple[str, str]]
    """(label, value) lines: ``("Total params", "63,021,004 (240.40 MB)")`` and so on."""


def summarize(graph: ModelGraph, options: Optional[RenderOptions] = None) -> Summary:
    """The summary of ``graph``: rows (nested layers too when ``expand_nested``) and totals."""
    options = options or RenderOptions()
    macs = count_macs(graph)
    by_id = {layer.id: layer for layer in graph.layers}
    sources: dict[str, list[str]] = {}
    for src, dst in graph.edges:
        if src in by_id:
            sources.setdefault(dst, []).append(by_id[src].name)
    children: dict[Optional[str], list[Layer]] = {}
    for layer in graph.layers:
        parent = layer.parent if layer.parent in by_id and layer.parent != layer.id else None
        children.setdefault(parent, []).append(layer)
    rows: list[Row] = []
    seen: set[str] = set()

    def add(parent: Optional[str], depth: int) -> None:
        for layer in children.get(parent, []):
            if layer.id in seen:
                continue
            seen.add(layer.id)
            rows.append(Row(layer, depth, format_shape(layer.output_shape), layer.params,
                            macs.per_layer.get(layer.id), sources.get(layer.id, [])))
            if options.expand_nested and layer.is_model:
                add(layer.id, depth + 1)

    add(None, 0)
    per_param = graph.weights_bytes / graph.total_params if graph.total_params and graph.weights_bytes else 4.0
    counted = f"{compact_macs(macs.total)}"
    if macs.not_counted:
        counted += f"; {len(macs.not_counted)} elementwise or unknown layers not counted"
    footer = [
        ("Total params", f"{graph.total_params:,} ({_size(graph.total_params * per_param)})"),
        ("Trainable params", f"{graph.trainable_params:,} ({_size(graph.trainable_params * per_param)})"),
        ("Non-trainable params", f"{graph.non_trainable_params:,} ({_size(graph.non_trainable_params * per_param)})"),
        ("Total MACs", f"{macs.total:,} ({counted})"),
    ]
    memory = graph.memory or model_memory(graph)
    footer.append(("Memory", f"{_size(memory.param_bytes)} of weights, "
                             f"{_size(memory.activation_bytes_per_sample)} of activations per sample"))
    return Summary(graph.factory, graph.name or graph.factory, graph.class_name, rows,
                   graph.class_name != "Sequential", footer)


def _size(nbytes: float) -> str:
    """Keras' readable size: 240.40 MB (binary units, two decimals)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if nbytes >= scale:
            return f"{nbytes / scale:.2f} {unit}"
    return f"{nbytes:.2f} B"


def render_summary(graph: ModelGraph, fmt: str, options: Optional[RenderOptions] = None) -> bytes:
    """The summary as ``md`` (GitHub-flavoured Markdown) or ``html`` (a standalone page)."""
    summary = summarize(graph, options)
    if fmt == "md":
        return to_markdown(summary).encode("utf-8")
    if fmt == "html":
        return to_html_page(summary).encode("utf-8")
    raise ValueError(f"the summary view makes md or html, not {fmt!r}")


# --- Markdown --------------------------------------------------------------------------------


def _md_text(text: str) -> str:
    """Plain cell text: Markdown and HTML specials escaped."""
    text = visible_text(text)
    for ch in "\\`*_[]<>#|":
        text = text.replace(ch, "\\" + ch)
    return text.replace("&", "&amp;")


def _md_code(text: str) -> str:
    """``text`` as a code span in a table cell: literal, pipes escaped (GFM splits cells first)."""
    text = visible_text(text).replace("|", "\\|")
    if not text:
        return "` `"
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def to_markdown(summary: Summary) -> str:
    head = ["Layer (type)", "Output shape", "Param #", "MACs"]
    align = [":--", ":--", "--:", "--:"]
    if summary.show_connections:
        head.append("Connected to")
        align.append(":--")
    title = f"{_md_code(summary.factory)} ({_md_text(summary.class_name)})"
    if summary.model_name != summary.factory:
        title = f"{_md_code(summary.factory)}: model {_md_code(summary.model_name)} ({_md_text(summary.class_name)})"
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    for row in summary.rows:
        marker = "\u2514 " * min(row.depth, 1) if row.depth else ""
        cells = [f"{'  ' * max(0, row.depth - 1)}{marker}{_md_code(row.layer.name)} ({_md_text(row.layer.class_name)})",
                 _md_text(row.shape), f"{row.params:,}", format_macs(row.macs)]
        if summary.show_connections:
            cells.append(", ".join(_md_code(name) for name in row.connected) or "\u2014")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(f"- **{label}:** {_md_text(value)}" for label, value in summary.footer)
    lines.append("")
    lines.append("MACs: multiply-accumulates for one sample; \u2014 marks layers whose MACs are not counted "
                 "(activations, normalization, merges).")
    return "\n".join(lines) + "\n"


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; margin: 24px; }
table.netviz-summary { border-collapse: collapse; font-size: 13px; }
.netviz-summary caption { text-align: left; font-weight: 600; font-size: 15px; padding-bottom: 8px; }
.netviz-summary th, .netviz-summary td { padding: 4px 12px; border-bottom: 1px solid #d0d7de; text-align: left; }
.netviz-summary th { background: #f6f8fa; }
.netviz-summary td.num, .netviz-summary th.num { text-align: right; font-variant-numeric: tabular-nums; }
.netviz-summary code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.netviz-summary .muted, p.muted { color: #59636e; }
p.note { font-size: 12px; }
dl.netviz-totals { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; font-size: 13px; }
dl.netviz-totals dt { font-weight: 600; }
dl.netviz-totals dd { margin: 0; }
""".strip()


def _h(text: str) -> str:
    return html.escape(visible_text(text), quote=True)


def to_html_table(summary: Summary) -> str:
    """The table and totals as an HTML fragment (for a panel); each row carries ``data-layer-id``."""
    head = ['<th>Layer (type)</th>', '<th>Output shape</th>', '<th class="num">Param #</th>',
            '<th class="num">MACs</th>']
    if summary.show_connections:
        head.append("<th>Connected to</th>")
    out = [f'<table class="netviz-summary"><caption>{_h(_plain_title(summary))}</caption>',
           f"<thead><tr>{''.join(head)}</tr></thead><tbody>"]
    for row in summary.rows:
        # Indented with text, not a style attribute: a page with a strict CSP (the editor's
        # preview panel) refuses inline styles.
        marker = "\u00a0" * 3 * row.depth + "\u2514 " if row.depth else ""
        cells = [f"<td>{marker}<code>{_h(row.layer.name)}</code> "
                 f'<span class="muted">({_h(row.layer.class_name)})</span></td>',
                 f"<td><code>{_h(row.shape)}</code></td>", f'<td class="num">{row.params:,}</td>',
                 f'<td class="num">{_h(format_macs(row.macs))}</td>']
        if summary.show_connections:
            names = ", ".join(f"<code>{_h(n)}</code>" for n in row.connected) or "\u2014"
            cells.append(f"<td>{names}</td>")
        out.append(f'<tr class="layer" data-layer-id="{_h(row.layer.id)}">{"".join(cells)}</tr>')
    out.append("</tbody></table>")
    out.append('<dl class="netviz-totals">')
    out.extend(f"<dt>{_h(label)}</dt><dd>{_h(value)}</dd>" for label, value in summary.footer)
    out.append("</dl>")
    return "\n".join(out) + "\n"


def _plain_title(summary: Summary) -> str:
    if summary.model_name != summary.factory:
        return f'{summary.factory}: model "{summary.model_name}" ({summary.class_name})'
    return f"{summary.factory} ({summary.class_name})"


def to_html_page(summary: Summary) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_h(_plain_title(summary))}</title><style>\n{_CSS}\n</style></head><body>\n"
        f"{to_html_table(summary)}"
        '<p class="muted note">MACs: multiply-accumulates for one sample; '
        "\u2014 marks layers whose MACs are not counted (activations, normalization, merges).</p>\n"
        "</body></html>\n"
    )
