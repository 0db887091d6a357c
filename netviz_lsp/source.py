"""Reading a user's Python file as text, the way Python itself would decode it.

Honours a PEP 263 coding cookie and a UTF-8 BOM. Undecodable bytes become a
``syntax`` error at the line they are on, never an exception.
"""

from __future__ import annotations

import io
import tokenize
from typing import Optional

from netviz_lsp.graph import BuildError


def decode_source(data: bytes) -> tuple[str, Optional[BuildError]]:
    """Text of ``data`` and None, or ``""`` and an error saying where decoding failed."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        return "", BuildError("syntax", str(error), 1, None)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return "", BuildError("syntax", f"the file is not valid {encoding}: byte 0x{data[error.start]:02x} "
                              f"cannot be decoded", line, None)
    return text.lstrip("\ufeff"), None


def read_source(path: str) -> tuple[str, Optional[BuildError]]:
    """Read and decode ``path``; an unreadable file is an error value too."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return "", BuildError("syntax", f"cannot read the file: {error.strerror or error}", None, None)
    return decode_source(data)
