"""The ``netviz`` command: build a file's factories headless and write their diagrams.

    netviz render FILE... [--factory NAME ...] [--format svg|png|pdf|dot|json]
                       [--output DIR] [--timeout S] [--rankdir TB|LR|BT|RL] [--expand-nested]

``--format json`` prints the graph contract, and nothing else, on stdout; user
output and our summary go to stderr. Other formats write one file per factory and
print their paths. Exit status: 0 when every factory built and rendered, 1 when
any reported an error (the good ones are still written), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Optional

from netviz_lsp.graph import BuildError, FileResult, ModelGraph, format_count
from netviz_lsp.settings import RANKDIRS, Settings

FORMATS = ("svg", "png", "pdf", "dot", "json")


def main(argv: Optional[list[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "render":
        parser.print_help(sys.stderr)
        return 2
    missing = [f for f in args.files if not os.path.isfile(f)]
    if missing:
        parser.error(f"no such file: {missing[0]}")
    if args.format == "json" and len(args.files) > 1:
        parser.error("--format json takes one file")
    return render_command(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netviz", description="Keras architecture diagrams from model factories.")
    sub = parser.add_subparsers(dest="command")
    render = sub.add_parser("render", help="build a file's model factories and render their diagrams")
    render.add_argument("files", nargs="+", metavar="FILE",
                        help="a Python file that defines Keras model factories (several share one worker)")
    render.add_argument("--factory", action="append", metavar="NAME", help="only this factory (repeatable)")
    render.add_argument("--format", choices=FORMATS, default="svg")
    render.add_argument("--output", default=".", metavar="DIR", help="folder for the diagrams (default: .)")
    render.add_argument("--timeout", type=float, default=60.0, metavar="S", help="build timeout per factory")
    render.add_argument("--rankdir", choices=RANKDIRS, default="TB")
    render.add_argument("--expand-nested", action="store_true", help="draw nested models as clusters")
    render.add_argument("--no-shape-only", action="store_true", help="allocate real weights while building")
    render.add_argument("--settings", metavar="JSON", help="a NetViz settings object (JSON text or a file)")
    return parser


def render_command(args: argparse.Namespace) -> int:
    from netviz_lsp.worker.pool import BuildPool

    settings = _settings(args)
    pool = BuildPool(memory_mb=settings.build.effective_memory_limit_mb())
    failed = False
    try:
        for file in args.files:
            failed |= _render_file(pool, file, args, settings)
    finally:
        pool.close()
    return 1 if failed else 0


def _render_file(pool, file: str, args: argparse.Namespace, settings: Settings) -> bool:
    """Build and write (or print) one file's diagrams; True if anything failed."""
    from netviz_lsp.engine import build_file
    from netviz_lsp.source import read_source

    source, read_error = read_source(file)
    if read_error is not None:
        result = FileResult(file=file, errors=[read_error])
    else:
        result = build_file(pool, file, source, settings, only=args.factory)
    if not result.models and not result.errors:
        print(f"netviz: no model factories found in {file}", file=sys.stderr)
    if args.format == "json":
        _report(result, {})
        json.dump(result.to_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        paths = _write_diagrams(result, args.format, args.output, settings)
        _report(result, paths)
        for path in paths.values():
            print(path)
    return bool(result.errors)


def _settings(args: argparse.Namespace) -> Settings:
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
    render = dataclasses.replace(settings.render, rankdir=args.rankdir,
                                 expand_nested=args.expand_nested or settings.render.expand_nested)
    build = dataclasses.replace(settings.build, timeout_seconds=args.timeout,
                                shape_only=settings.build.shape_only and not args.no_shape_only)
    return dataclasses.replace(settings, render=render, build=build)


def _write_diagrams(result: FileResult, fmt: str, folder: str, settings: Settings) -> dict[str, str]:
    """Write one diagram per model; a Graphviz failure becomes a ``render`` error of that factory."""
    from netviz_lsp.render import RenderError, render

    os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(os.path.basename(result.file))[0]
    paths: dict[str, str] = {}
    for model in result.models:
        try:
            data = render(model, fmt, settings.render)
        except RenderError as error:
            result.errors.append(BuildError("render", str(error), model.line, model.factory))
            continue
        path = os.path.join(folder, f"{stem}.{model.factory}.{fmt}")
        with open(path, "wb") as handle:
            handle.write(data)
        paths[model.factory] = path
    return paths


def _report(result: FileResult, paths: dict[str, str]) -> None:
    """One line per model and per error on stderr, compiler style."""
    for model in result.models:
        print(_summary_line(model, paths.get(model.factory)), file=sys.stderr)
    for error in result.errors:
        where = f"{result.file}:{error.line}" if error.line else result.file
        who = f" in {error.factory}" if error.factory else ""
        print(f"{where}: {error.kind} error{who}: {error.message}", file=sys.stderr)


def _summary_line(model: ModelGraph, path: Optional[str]) -> str:
    how = "shape-only" if model.build.shape_only else "real weights"
    line = (f"{model.factory}: {model.class_name}, {len(model.layers)} layers, "
            f"{model.total_params:,} params ({format_count(model.total_params)}), "
            f"built {how} in {model.build.ms:.0f} ms")
    return line + (f" -> {path}" if path else "")


if __name__ == "__main__":
    sys.exit(main())
