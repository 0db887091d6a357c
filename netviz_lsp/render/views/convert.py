"""SVG -> PNG or PDF for the views NetViz draws itself, offline.

Graphviz cannot rasterise an SVG it did not lay out (Debian's build has no rsvg
plugin), so a converter does it: ``rsvg-convert`` (Debian's ``librsvg2-bin``) when it
is on PATH, else the ``cairosvg`` Python package when it is importable. Neither
present, or either failing, is a ``RenderError`` that says what to install.
"""

from __future__ import annotations

import shutil
import subprocess

from netviz_lsp.render.layout import RenderError

CONVERTED_FORMATS = ("png", "pdf")
INSTALL_HINT = "install Debian's librsvg2-bin (`apt install librsvg2-bin`) or `pip install cairosvg`"


def convert_svg(svg: bytes, fmt: str, dpi: int = 96, timeout: float = 30.0) -> bytes:
    """``svg`` (sized in points) as PNG at ``dpi`` or as PDF. Raises ``RenderError``."""
    if fmt not in CONVERTED_FORMATS:
        raise ValueError(f"cannot convert SVG to {fmt!r}; expected one of {', '.join(CONVERTED_FORMATS)}")
    program = shutil.which("rsvg-convert")
    if program is not None:
        return _rsvg(program, svg, fmt, dpi, timeout)
    try:
        import cairosvg
    except ImportError:
        raise RenderError(f"no SVG converter for {fmt.upper()} output: {INSTALL_HINT}") from None
    try:
        if fmt == "png":
            return cairosvg.svg2png(bytestring=svg, dpi=dpi)
        return cairosvg.svg2pdf(bytestring=svg)
    except Exception as error:  # cairosvg raises assorted types for bad input
        raise RenderError(f"cairosvg could not convert the diagram: {error}") from None


def _rsvg(program: str, svg: bytes, fmt: str, dpi: int, timeout: float) -> bytes:
    command = [program, "-f", fmt]
    if fmt == "png":
        command += ["--dpi-x", str(int(dpi)), "--dpi-y", str(int(dpi))]
    try:
        done = subprocess.run(command, input=svg, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RenderError(f"rsvg-convert took longer than {timeout:g} s") from None
    except OSError as error:
        raise RenderError(f"could not run rsvg-convert: {error.strerror or error}") from None
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"rsvg-convert failed: {reason[-1] if reason else f'status {done.returncode}'}")
    return done.stdout
