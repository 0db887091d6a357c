"""The ``netviz`` command: build every model a file builds, headless, and write their diagrams.

    netviz render FILE... [--factory NAME ...] [--view graph|keras|layered|neuron|summary]
                       [--format svg|png|pdf|dot|json|md|html|tensorboard, or a list: svg,png]
    netviz diff FILE --against REV [--factory NAME ...] [--format text|json|svg|png|html] [-o OUT]
                       [--output DIR] [--timeout S] [--rankdir TB|LR|BT|RL] [--expand-nested]
                       [display options: --hide-shapes --show-dtype ... --dpi N]

``--format json`` prints the graph contract, and nothing else, on stdout; user
output and our summary go to stderr. Other formats write one file per model (a
factory's, or a module-level variable's) and print their paths: ``<file stem>.<model>.<format>``
for the default graph view, ``<file stem>.<model>.<view>.<format>`` for the others.
``--format html`` with the graph view writes one self-contained page per model: the panel's
viewer offline, with zoom, search, details and groups (``render/html_export.py``).
``--format tensorboard`` builds with real weights and writes each model's graph into a
TensorBoard log dir (``--output``), one run per model, and prints the event files.
A model whose build failed is drawn up to the error (its error's partial graph, the failing
layer in the error style, the message beside it: as the panel draws it) to the file it would
have had, in the graph view's formats and html, with a note on stderr.
The stderr summary line of a model says how and on which Keras backend it was built.
Warnings Keras or TensorFlow raised during the build (``FileResult.warnings``) are printed on
stderr like errors, once each, as ``file:line: warning: <category>: <message>``
(``NB.ipynb:cell 3:2: warning: ...`` in notebooks); Python's own echo of them from the worker
(``file:line: UserWarning: ...`` and the source line, at the joined script's line in a notebook)
is left out (``WarningEchoes``).
Exit status: 0 when every model built and rendered, 1 when any reported an error
(the good ones are still written, the failed ones drawn up to the error), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import threading
from typing import Callable, Iterable, Optional

from netviz_lsp.graph import BuildWarning, FileResult, ModelGraph, format_count
from netviz_lsp.render.collapse import COLLAPSE_OVER
from netviz_lsp.render.views import VIEWS
from netviz_lsp.settings import RANKDIRS, Settings

#: ``--groups``: how the graph view draws a model's groups (blocks, repeats, nested models).
GROUP_MODES = ("auto", "open", "closed")

FORMATS = ("svg", "png", "pdf", "dot", "json", "md", "html", "tensorboard")


def main(argv: Optional[list[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "diff":
        return diff_command(parser, args)
    if args.command != "render":
        parser.print_help(sys.stderr)
        return 2
    missing = [f for f in args.files if not os.path.isfile(f)]
    if missing:
        parser.error(f"no such file: {missing[0]}")
    _check_view(parser, args)
    if args.format == "json" and len(args.files) > 1:
        parser.error("--format json takes one file")
    return render_command(args)


def _check_view(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Resolve the default format of ``--view`` and reject formats the view does not make."""
    from netviz_lsp.render.views import VIEW_FORMATS

    if args.format is None:
        args.format = VIEW_FORMATS[args.view][0]
    args.formats = list(dict.fromkeys(f.strip() for f in args.format.split(",") if f.strip()))
    unknown = [f for f in args.formats if f not in FORMATS]
    if unknown or not args.formats:
        parser.error(f"--format takes {', '.join(FORMATS)}, not {args.format!r}")
    if {"json", "tensorboard"} & set(args.formats):
        if len(args.formats) > 1:
            parser.error(f"--format {args.format}: json and tensorboard go alone")
        if args.view != "graph":
            parser.error(f"--format {args.format} writes the model itself; it takes no --view")
        return
    for fmt in args.formats:
        if fmt not in VIEW_FORMATS[args.view] and not (fmt == "html" and args.view == "graph"):
            parser.error(f"the {args.view} view makes {', '.join(VIEW_FORMATS[args.view])} (and the graph view "
                         f"html, a self-contained page), not {fmt}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netviz", description="Keras architecture diagrams of every model a file builds.")
    sub = parser.add_subparsers(dest="command")
    render = sub.add_parser("render", help="build the models a file builds and render their diagrams")
    render.add_argument("files", nargs="+", metavar="FILE",
                        help="a Python file that builds Keras models (several share one worker)")
    render.add_argument("--factory", action="append", metavar="NAME",
                        help="only this model: a factory's or a variable's name (repeatable)")
    render.add_argument("--view", choices=VIEWS, default="graph",
                        help="graph (default), keras (as plot_model), layered (as visualkeras), "
                             "neuron (as ANN Visualizer) or summary (a table with MACs)")
    render.add_argument("--format", default=None, metavar="|".join(FORMATS),
                        help="default: svg, or md for --view summary; several diagram formats from one build "
                             "as a comma-separated list (svg,png); tensorboard writes a TensorBoard log dir")
    render.add_argument("--output", default=".", metavar="DIR", help="folder for the diagrams (default: .)")
    render.add_argument("--timeout", type=float, default=60.0, metavar="S", help="build timeout per factory")
    render.add_argument("--no-shape-only", action="store_true", help="allocate real weights while building")
    render.add_argument("--settings", metavar="JSON", help="a NetViz settings object (JSON text or a file)")
    shown = render.add_argument_group("what a diagram shows (plot_model's options; they override --settings)")
    shown.add_argument("--rankdir", choices=RANKDIRS, default=None, help="direction of the graph and keras views")
    shown.add_argument("--expand-nested", action="store_true", help="draw nested models as clusters")
    shown.add_argument("--hide-shapes", action="store_true", help="no shapes (show_shapes=False)")
    shown.add_argument("--show-dtype", action="store_true", help="show each layer's dtype")
    shown.add_argument("--hide-layer-names", action="store_true", help="show classes only")
    shown.add_argument("--hide-activations", action="store_true", help="no activation functions")
    shown.add_argument("--show-trainable", action="store_true", help="mark trainable and frozen layers")
    shown.add_argument("--hide-params", action="store_true", help="no parameter counts")
    shown.add_argument("--dpi", type=int, default=None, metavar="N", help="PNG resolution (default 96)")
    shown.add_argument("--groups", choices=GROUP_MODES, default="auto",
                       help="graph view: auto (default: a model over %d layers drawn as its top-level blocks and "
                            "stages, a smaller one whole), open (every layer, whatever the size) or closed (the "
                            "top-level groups only)" % COLLAPSE_OVER)
    views = render.add_argument_group("layered, neuron and repeated blocks")
    repeats = views.add_mutually_exclusive_group()
    repeats.add_argument("--collapse-repeats", dest="repeats", action="store_const", const=True,
                         help="draw a run of identical blocks once, as 'block × k' (default: layered, neuron)")
    repeats.add_argument("--expand-repeats", dest="repeats", action="store_const", const=False,
                         help="draw every copy of a repeated block")
    views.add_argument("--type-ignore", action="append", default=[], metavar="CLASS",
                       help="layered view: hide layers of this class (repeatable, or comma-separated)")
    views.add_argument("--spacing", type=float, default=None, metavar="PT", help="layered view: gap between boxes")
    views.add_argument("--max-units", type=int, default=None, metavar="N",
                       help="neuron view: circles per layer at most (default 10)")
    views.add_argument("--no-legend", action="store_true", help="layered and neuron views: no legend")
    diff = sub.add_parser("diff", help="what changed in each model since a git revision")
    diff.add_argument("file", metavar="FILE", help="a Python file or notebook in a git work tree")
    diff.add_argument("--against", required=True, metavar="REV", help="the git revision to compare with, e.g. HEAD")
    diff.add_argument("--factory", action="append", metavar="NAME", help="only this model (repeatable)")
    diff.add_argument("--format", default="text", choices=DIFF_FORMATS,
                      help="text (a table, default), json, or the working copy's diagram with added and changed "
                           "layers highlighted: svg, png or html")
    diff.add_argument("-o", "--output", default=None, metavar="OUT",
                      help="text/json: a file instead of stdout; svg/png/html: a folder (default .), or a file "
                           "when one model is drawn")
    diff.add_argument("--timeout", type=float, default=60.0, metavar="S", help="build timeout per factory")
    diff.add_argument("--settings", metavar="JSON", help="a NetViz settings object (JSON text or a file)")
    return parser


DIFF_FORMATS = ("text", "json", "svg", "png", "html")


def diff_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``netviz diff``: build FILE at REV and as it is now, and report or draw the changes (``diff.py``)."""
    from netviz_lsp import diff as differ
    from netviz_lsp.engine import Engine

    if not os.path.isfile(args.file):
        parser.error(f"no such file: {args.file}")
    viewer = None
    if args.format == "html":
        from netviz_lsp.render.html_export import ViewerMissing, load_viewer

        try:
            viewer = load_viewer()
        except ViewerMissing as error:
            print(f"netviz: {error}", file=sys.stderr)
            return 1
    try:
        old_copy = differ.revision_copy(args.file, args.against)
    except differ.DiffError as error:
        print(f"netviz: {error}", file=sys.stderr)
        return 2
    settings, views = _settings(argparse.Namespace(
        settings=args.settings, rankdir=None, expand_nested=False, hide_shapes=False, show_dtype=False,
        hide_layer_names=False, hide_activations=False, show_trainable=False, hide_params=False, dpi=None,
        timeout=args.timeout, no_shape_only=False, repeats=None, type_ignore=[], spacing=None, max_units=None,
        no_legend=False))
    engine = Engine(memory_mb=settings.build.effective_memory_limit_mb())
    try:
        before = _build_file(engine, old_copy, settings, args.factory)
        after = _build_file(engine, args.file, settings, args.factory)
        before.file = args.file
        result = differ.FileDiff(args.file, args.against, differ.compare_results(before, after),
                                 differ.error_rows(before, "before") + differ.error_rows(after, "after"))
        for line in differ.errors_text(result.errors, args.file, args.against):
            print(line, file=sys.stderr)
        if args.format in ("text", "json"):
            text = differ.format_table(result) if args.format == "text" else json.dumps(result.to_json(), indent=1) + "\n"
            if args.output:
                with open(args.output, "w", encoding="utf-8") as handle:
                    handle.write(text)
                print(args.output)
            else:
                sys.stdout.write(text)
        else:
            sys.stderr.write(differ.format_table(result))
            for path in _draw_diff(engine, args, result, settings, views, viewer):
                print(path)
    finally:
        try:
            os.remove(old_copy)
        except OSError:
            pass
        engine.close()
    return 1 if result.errors else 0


def _read_program(file: str):
    """``(source, notebook, read_error)``: the file's text as Python decodes it, or a notebook's
    joined code cells (``notebook`` then the joined notebook, to map results back to cells)."""
    from netviz_lsp.source import read_source

    source, read_error = read_source(file)
    notebook = None
    if read_error is None and file.endswith(".ipynb"):
        from netviz_lsp import notebook as nb

        cells, read_error = nb.from_ipynb(source)
        if cells is not None:
            notebook = nb.join(cells)
            source = notebook.source
    return source, notebook, read_error


def _build_file(engine, file: str, settings: Settings, factories) -> FileResult:
    """``file`` built (a notebook through its joined cells, mapped back to cells)."""
    source, notebook, read_error = _read_program(file)
    if read_error is not None:
        return FileResult(file=file, errors=[read_error])
    result = engine.build(file, source, settings, only=factories)
    if notebook is not None:
        from netviz_lsp.notebook import map_result

        result = map_result(result, notebook)
    return result


def _draw_diff(engine, args: argparse.Namespace, result, settings: Settings, views, viewer) -> list[str]:
    """The working copy's diagrams with added and changed layers highlighted; the paths written."""
    from netviz_lsp import diff as differ

    drawn = [d for d in result.models if d.after is not None]
    single = args.output and len(drawn) == 1 and args.output.endswith("." + args.format)
    folder = os.path.dirname(args.output) if single else (args.output or ".")
    if folder:
        os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.file))[0]
    written = []
    for diff in drawn:
        marked = differ.marked_layers(diff)
        options = dataclasses.replace(settings.render, changed_layers=marked)
        if len(diff.after.layers) > COLLAPSE_OVER:  # open the groups that hold a change, the rest collapsed
            ids = {layer_id for layer_id, _ in marked}
            options = dataclasses.replace(options, expand_groups=tuple(sorted(
                g.id for g in diff.after.groups if ids & set(g.layers))))
        if args.format == "html":
            pages, errors = _html_pages(engine, args.file, FileResult(args.file, [diff.after]),
                                        dataclasses.replace(settings, render=options), views, viewer,
                                        {diff.factory: diff.changes})
            for error in errors:
                print(f"{args.file}:{error.line}: {error.kind} error in {error.factory}: {error.message}", file=sys.stderr)
            if diff.factory not in pages:
                continue
            data = pages[diff.factory]
        else:
            data = engine.export(diff.after, args.format, options, "graph", views)
        path = args.output if single else os.path.join(folder, f"{stem}.{diff.factory}.diff.{args.format}")
        with open(path, "wb") as handle:
            handle.write(data)
        written.append(path)
    return written


def render_command(args: argparse.Namespace) -> int:
    from netviz_lsp.engine import Engine

    settings, views = _settings(args)
    viewer = None
    if args.view == "graph" and "html" in args.formats:
        from netviz_lsp.render.html_export import ViewerMissing, load_viewer

        try:
            viewer = load_viewer()
        except ViewerMissing as error:
            print(f"netviz: {error}", file=sys.stderr)
            return 1
    args.viewer = viewer
    echoes = WarningEchoes(sys.stderr.write)
    engine = Engine(memory_mb=settings.build.effective_memory_limit_mb(), on_output=echoes)
    failed = False
    try:
        for file in args.files:
            failed |= _render_file(engine, file, args, settings, views, echoes)
    finally:
        engine.close()
        echoes.close()
    return 1 if failed else 0


_ECHO = re.compile(r"^.*?:\d+: (?P<category>\w*Warning): (?P<first>.*)$")
"""The first line of Python's ``formatwarning``: ``file:line: Category: message``."""


class WarningEchoes:
    """The worker's output on its way to our stderr, without Python's echo of the warnings the CLI
    reports itself (the worker shows each captured warning once with ``showwarning``, which a
    notebook gets at the joined script's line with a line of its JSON as the source).

    An output line shaped like a warning's echo holds it, and every line after it (so the order
    is kept), until ``settle`` names the build's warnings: an echo of one of them is dropped with
    the indented source line Python prints under it; anything else is written as it came. Echoes
    of warnings reported before are dropped when they arrive. Called from the pool's output
    thread and the main thread."""

    def __init__(self, write: Callable[[str], object]):
        self._write = write
        self._known: set[tuple[str, str]] = set()
        self._held: list[str] = []
        self._source_due = False
        """A dropped echo was the last line so far: its source line (indented) may follow."""
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:
            source_due, self._source_due = self._source_due, False
            if source_due and text.startswith("  "):
                return
            if not self._held and _ECHO.match(text.rstrip("\n")) is None:
                self._write(text)
                return
            self._held.append(text)
            if len(self._held) == 1 and self._echo(self._held) is not None:
                self._release()  # a warning already reported: drop it at once

    def settle(self, warnings: Iterable[BuildWarning]) -> None:
        """The build is done; these are its warnings: drop their echoes, write the rest held."""
        with self._lock:
            self._known.update((w.category, w.message) for w in warnings)
            self._release()

    def close(self) -> None:
        """No build follows: write whatever is still held."""
        self.settle(())
        with self._lock:
            for line in self._held:
                self._write(line)
            self._held = []

    def _release(self) -> None:
        """Write the held lines, less the echoes of known warnings; keep an unfinished echo held."""
        lines, self._held = self._held, []
        index = 0
        while index < len(lines):
            echo = self._echo(lines[index:])
            if echo is None:
                self._write(lines[index])
                index += 1
            elif echo[0] == 0:  # the echo of a known warning whose message has not all arrived
                self._held = lines[index:]
                return
            else:
                index += echo[0]
                self._source_due = index == len(lines) and not echo[1]

    def _echo(self, lines: list[str]) -> Optional[tuple[int, bool]]:
        """How many of ``lines`` the echo of a known warning at their start takes (its message's
        lines, and the source line under it when there: the second item), 0 when it may be one
        but its lines are still coming; None when it is none."""
        match = _ECHO.match(lines[0].rstrip("\n"))
        if match is None:
            return None
        for category, message in self._known:
            if category != match["category"]:
                continue
            expected = message.split("\n")
            if expected[0] != match["first"]:
                continue
            got = [line.rstrip("\n") for line in lines[1:len(expected)]]
            if got != expected[1:len(got) + 1]:
                continue
            if len(got) < len(expected) - 1:
                return 0, False
            after = len(expected)
            if after < len(lines) and lines[after].startswith("  "):
                return after + 1, True
            return after, False
        return None


def _render_file(engine, file: str, args: argparse.Namespace, settings: Settings, views,
                 echoes: Optional[WarningEchoes] = None) -> bool:
    """Build and write (or print) one file's diagrams; True if anything failed."""
    source, notebook, read_error = _read_program(file)
    stem = os.path.splitext(os.path.basename(file))[0]
    if read_error is not None:
        result = FileResult(file=file, errors=[read_error])
    elif args.format == "tensorboard":
        result = engine.tensorboard(file, source, settings, args.output, f"{stem}.", only=args.factory)
        paths = {m.factory: _event_file(os.path.join(os.path.abspath(args.output), f"{stem}.{m.factory}"))
                 for m in result.models}
        if echoes is not None:
            echoes.settle(result.warnings)
        _report(result, {k: v for k, v in paths.items() if v})
        for path in paths.values():
            if path:
                print(path)
        return bool(result.errors)
    else:
        result = engine.build(file, source, settings, only=args.factory)
        settings = _with_groups(settings, args.groups, result.models)
    if notebook is not None:
        from netviz_lsp.notebook import map_result

        result = map_result(result, notebook)
    if echoes is not None:
        echoes.settle(result.warnings)
    if not result.models and not result.errors:
        print(f"netviz: no Keras models found in {file}", file=sys.stderr)
    if args.format == "json":
        _report(result, {})
        json.dump(result.to_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return bool(result.errors)
    os.makedirs(args.output, exist_ok=True)
    suffix = "" if args.view == "graph" else f".{args.view}"
    written: dict[str, str] = {}
    for fmt in args.formats:
        if fmt == "html" and args.view == "graph":
            drawn, errors = _html_pages(engine, file, result, settings, views, args.viewer)
        else:
            drawn, errors = engine.draw(result.models, fmt, settings.render, args.view, views)
        result.errors.extend(e for e in errors if e.factory not in {f.factory for f in result.errors})
        for target, data in drawn.items():
            path = os.path.join(args.output, f"{stem}.{target}{suffix}.{fmt}")
            with open(path, "wb") as handle:
                handle.write(data)
            written[target] = path
            print(path)
    partials = _write_partials(result, args, settings, stem, suffix) if args.view == "graph" else {}
    _report(result, written, partials)
    return bool(result.errors)


def _with_groups(settings: Settings, mode: str, models: list[ModelGraph]) -> Settings:
    """``--groups``: ``auto`` leaves the default (``render/collapse.py``); ``open`` expands every
    group of every model drawn, ``closed`` none."""
    if mode == "auto":
        return settings
    expanded = tuple(sorted({group.id for model in models for group in model.groups})) if mode == "open" else ()
    return dataclasses.replace(settings, render=dataclasses.replace(settings.render, expand_groups=expanded))


def _write_partials(result: FileResult, args: argparse.Namespace, settings: Settings, stem: str,
                    suffix: str) -> dict[str, list[str]]:
    """Each failed target's partial graph (its error's ``graph``), drawn up to the error as the panel
    draws it (``engine.draw_partials``), in each diagram format to the file its model would have
    had (html: the panel's viewer showing it, ``render/html_export.py``); the paths by target.
    The graph view only: the other views draw no failure."""
    from netviz_lsp.engine import draw_partials

    paths: dict[str, list[str]] = {}
    for fmt in args.formats:
        drawn, failed = draw_partials(result.errors, "svg" if fmt == "html" else fmt, settings.render)
        if fmt == "html":  # the panel's viewer offline, showing the partial graph as the panel does
            from netviz_lsp.render.html_export import export_partial_html

            errors = {e.factory: e for e in reversed(result.errors) if e.factory in drawn and e.graph is not None}
            drawn = {target: export_partial_html(errors[target], result.file, svg, viewer=args.viewer)
                     for target, svg in drawn.items()}
        for target, data in drawn.items():
            path = os.path.join(args.output, f"{stem}.{target}{suffix}.{fmt}")
            with open(path, "wb") as handle:
                handle.write(data)
            paths.setdefault(target, []).append(path)
            print(path)
        for target, reason in failed.items():
            print(f"netviz: the partial graph of {target} could not be drawn as {fmt}: {reason}", file=sys.stderr)
    return paths


def _html_pages(engine, file: str, result: FileResult, settings: Settings, views, viewer,
                changes: Optional[dict] = None):
    """Each model as one self-contained HTML page (``render/html_export.py``), or a ``render`` error."""
    from netviz_lsp.graph import BuildError
    from netviz_lsp.render.html_export import export_html

    def draw(graph: ModelGraph, options) -> bytes:
        return engine.export(graph, "svg", options, "graph", views)

    pages: dict[str, bytes] = {}
    errors: list[BuildError] = []
    for model in result.models:
        try:
            pages[model.factory] = export_html(model, file, draw, settings.render, viewer=viewer,
                                               changes=(changes or {}).get(model.factory))
        except Exception as error:  # RenderError: the page is lost, not the build
            errors.append(BuildError("render", f"the HTML page could not be written: {error}", model.line,
                                     model.factory))
    return pages, errors


def _settings(args: argparse.Namespace):
    """The settings (``--settings``, then the flags over them) and the views' options."""
    data: dict = {}
    if args.settings:
        text = args.settings
        if os.path.isfile(text):
            with open(text, encoding="utf-8") as handle:
                text = handle.read()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SystemExit(f"netviz: --settings is not valid JSON: {error}") from None
    settings = Settings.from_json(data)
    shown = settings.render
    changes = {
        "rankdir": args.rankdir or shown.rankdir,
        "expand_nested": args.expand_nested or shown.expand_nested,
        "show_shapes": shown.show_shapes and not args.hide_shapes,
        "show_dtype": shown.show_dtype or args.show_dtype,
        "show_layer_names": shown.show_layer_names and not args.hide_layer_names,
        "show_layer_activations": shown.show_layer_activations and not args.hide_activations,
        "show_trainable": shown.show_trainable or args.show_trainable,
        "show_params": shown.show_params and not args.hide_params,
        "dpi": args.dpi if args.dpi and args.dpi > 0 else shown.dpi,
    }
    render = dataclasses.replace(shown, **changes)
    build = dataclasses.replace(settings.build, timeout_seconds=args.timeout,
                                shape_only=settings.build.shape_only and not args.no_shape_only)
    views = settings.views
    ignore = tuple(name.strip() for item in args.type_ignore for name in item.split(",") if name.strip())
    views = dataclasses.replace(
        views,
        collapse_repeats=args.repeats if args.repeats is not None else views.collapse_repeats,
        type_ignore=tuple(dict.fromkeys(views.type_ignore + ignore)),
        spacing=args.spacing if args.spacing is not None and args.spacing >= 0 else views.spacing,
        max_units=args.max_units if args.max_units and args.max_units >= 2 else views.max_units,
        legend=views.legend and not args.no_legend,
    )
    return dataclasses.replace(settings, render=render, build=build, views=views), views


def _event_file(run_dir: str) -> Optional[str]:
    """The newest TensorBoard event file in ``run_dir``."""
    try:
        names = [n for n in os.listdir(run_dir) if n.startswith("events.out.tfevents.")]
    except OSError:
        return None
    if not names:
        return None
    return max((os.path.join(run_dir, n) for n in names), key=os.path.getmtime)


def _report(result: FileResult, paths: dict[str, str], partials: Optional[dict[str, list[str]]] = None) -> None:
    """One line per model, per warning and per error on stderr, compiler style (``file:cell N:line``
    in notebooks, cells counted from 1 as editors show them; the JSON's ``cell`` is the 0-based
    index). A warning raised at the same place by several targets is printed once. An error
    whose partial graph was drawn (``partials``: the files by target) is followed by a note saying where."""
    for model in result.models:
        print(_summary_line(model, paths.get(model.factory)), file=sys.stderr)
    warned: set[tuple] = set()
    for warning in result.warnings:
        key = (warning.cell, warning.line, warning.category, warning.message)
        if key not in warned:
            warned.add(key)
            print(f"{_where(result.file, warning.cell, warning.line)}: warning: {warning.category}: {warning.message}",
                  file=sys.stderr)
    noted: set[str] = set()
    for error in result.errors:
        where = _where(result.file, error.cell, error.line)
        who = f" in {error.factory}" if error.factory else ""
        print(f"{where}: {error.kind} error{who}: {error.message}", file=sys.stderr)
        drawn = (partials or {}).get(error.factory or "")
        if drawn and error.factory not in noted:
            noted.add(error.factory)
            print(f"{where}: note: {error.factory} drawn up to the error: {', '.join(drawn)}", file=sys.stderr)


def _where(file: str, cell: Optional[int], line: Optional[int]) -> str:
    """``file:line``, ``file:cell N:line`` (cells counted from 1, as editors do), or ``file``."""
    if not line:
        return file
    return f"{file}:cell {cell + 1}:{line}" if cell is not None else f"{file}:{line}"


def _summary_line(model: ModelGraph, path: Optional[str]) -> str:
    how = "shape-only" if model.build.shape_only else "real weights"
    on = f" on {model.build.backend}" if model.build.backend else ""
    line = (f"{model.factory}: {model.class_name}, {len(model.layers)} layers, "
            f"{model.total_params:,} params ({format_count(model.total_params)}), "
            f"built {how}{on} in {model.build.ms:.0f} ms")
    return line + (f" -> {path}" if path else "")


if __name__ == "__main__":
    sys.exit(main())
