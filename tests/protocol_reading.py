"""Reading the contract's two texts: docs/protocol.md's tables and protocol.ts's declarations.

Both write types in one notation (TypeScript's, plus ``integer``), parsed here into tuples,
so ``tests/test_protocol_doc.py`` compares them with each other and with Python's annotations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

WEBVIEW_MARKER = "// --- extension <-> webview"
"""protocol.ts's wire types come before this line; the webview's own messages after it."""

# --- a type notation shared by the doc and TypeScript ------------------------------------

PRIMITIVES = {"string", "integer", "number", "boolean", "null", "object"}
_TOKEN = re.compile(r'\s*(?:("[^"]*")|([A-Za-z_][\w.]*)|([|\[\](){};:,?]))')


def parse_type(text: str) -> tuple:
    """``"a" | B[] | [string, string] | { x?: number }`` -> nested tuples (see ``union_of``)."""
    tokens = []
    position, text = 0, text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read the type {text!r} at {text[position:]!r}")
        tokens.append(next(g for g in match.groups() if g is not None))
        position = match.end()
    parser = _TypeParser(tokens)
    result = parser.union()
    if parser.i != len(tokens):
        raise ValueError(f"cannot read the type {text!r}: {tokens[parser.i:]} left over")
    return result


def union_of(members: list[tuple]) -> tuple:
    flat: set[tuple] = set()
    for m in members:
        flat |= m[1] if m[0] == "union" else {m}
    return next(iter(flat)) if len(flat) == 1 else ("union", frozenset(flat))


class _TypeParser:
    """Types as tuples: ("prim", name), ("named", name), ("lit", text), ("array", t),
    ("tuple", (t, ...)), ("obj", ((field, t), ...)), ("union", frozenset)."""

    def __init__(self, tokens: list[str]):
        self.tokens, self.i = tokens, 0

    def peek(self, offset: int = 0) -> Optional[str]:
        return self.tokens[self.i + offset] if self.i + offset < len(self.tokens) else None

    def take(self, expected: Optional[str] = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'a token'} in {' '.join(self.tokens)}")
        self.i += 1
        return token

    def union(self) -> tuple:
        members = [self.postfix()]
        while self.peek() == "|":
            self.take()
            members.append(self.postfix())
        return union_of(members)

    def postfix(self) -> tuple:
        result = self.primary()
        while self.peek() == "[" and self.peek(1) == "]":
            self.i += 2
            result = ("array", result)
        return result

    def primary(self) -> tuple:
        token = self.take()
        if token.startswith('"'):
            return ("lit", token[1:-1])
        if token == "(":
            inner = self.union()
            self.take(")")
            return inner
        if token == "[":
            items = [self.union()]
            while self.peek() == ",":
                self.take()
                items.append(self.union())
            self.take("]")
            return ("tuple", tuple(items))
        if token == "{":
            fields = []
            while self.peek() != "}":
                name = self.take()
                if self.peek() == "?":
                    self.take()
                self.take(":")
                fields.append((name, self.union()))
                if self.peek() in (";", ","):
                    self.take()
            self.take("}")
            return ("obj", tuple(fields))
        return ("prim", token) if token in PRIMITIVES else ("named", token)


def show(t: tuple) -> str:
    kind, value = t
    if kind in ("prim", "named"):
        return value
    if kind == "lit":
        return f'"{value}"'
    if kind == "array":
        inner = show(value)
        return f"({inner})[]" if value[0] == "union" else f"{inner}[]"
    if kind == "tuple":
        return "[" + ", ".join(show(v) for v in value) + "]"
    if kind == "obj":
        return "{ " + "; ".join(f"{n}: {show(v)}" for n, v in value) + " }"
    return " | ".join(sorted(show(m) for m in value))


def members(t: tuple) -> list[tuple]:
    return list(t[1]) if t[0] == "union" else [t]


# --- the doc -------------------------------------------------------------------------------

@dataclass
class Section:
    kind: str
    """``Type``, ``Notification``, ``Command``, or the heading's whole text."""
    name: str
    rows: Optional[list[dict[str, str]]] = None
    """The first table under the heading, cells without their backticks; None when it has none."""
    text: str = ""
    """The prose under the heading."""


@dataclass
class Doc:
    sections: list[Section] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<docs/protocol.md: {len(self.sections)} sections>"

    def all(self, kind: str) -> dict[str, Section]:
        return {s.name: s for s in self.sections if s.kind == kind}

    def one(self, heading: str) -> Section:
        found = [s for s in self.sections if s.kind == heading and s.rows is not None]
        assert len(found) == 1, f"docs/protocol.md: expected one table under the heading {heading!r}"
        return found[0]

    def types(self) -> dict[str, dict[str, tuple]]:
        """Doc type -> field -> parsed type."""
        return {name: {row["Field"]: parse_type(row["Type"]) for row in s.rows or []}
                for name, s in self.all("Type").items()}


_HEADING = re.compile(r"^#{2,4}\s+(.*?)\s*$")
_NAMED_HEADING = re.compile(r"^(Type|Notification|Command)\s+`([^`]+)`$")


def _cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|")) if line.strip() != "|" else []
    return [c.strip().replace("\\|", "|") for c in cells]


def code_text(cell: str) -> str:
    """A cell that is one code span, without its backticks."""
    return cell[1:-1] if re.fullmatch(r"`[^`]+`", cell) else cell


def read_doc(text: str) -> Doc:
    doc = Doc()
    current: Optional[Section] = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        if heading:
            named = _NAMED_HEADING.match(heading.group(1))
            current = Section(*named.groups()) if named else Section(heading.group(1), heading.group(1))
            doc.sections.append(current)
        elif line.startswith("|") and current is not None:
            table = []
            while i < len(lines) and lines[i].startswith("|"):
                table.append(lines[i])
                i += 1
            if current.rows is None:
                header = _cells(table[0])
                assert len(table) >= 2 and set(table[1]) <= set("|-: "), f"docs/protocol.md: malformed table {table[0]}"
                current.rows = []
                for row in table[2:]:
                    cells = _cells(row)
                    assert len(cells) == len(header), f"docs/protocol.md: row {row!r} has {len(cells)} cells, not {len(header)}"
                    current.rows.append({h: code_text(c) for h, c in zip(header, cells)})
            continue
        elif current is not None:
            current.text += line + "\n"
        i += 1
    return doc


def result_type(section: Section) -> tuple:
    match = re.search(r"Result: `([^`]+)`", section.text)
    assert match, f"docs/protocol.md: command {section.name} says no `Result: `type``"
    return parse_type(match.group(1))


def params_type(section: Section) -> str:
    match = re.search(r"Params: `(\w+)`", section.text)
    assert match, f"docs/protocol.md: notification {section.name} says no `Params: `Type``"
    return match.group(1)


# --- the TypeScript side -------------------------------------------------------------------

@dataclass
class TypeScript:
    interfaces: dict[str, dict[str, tuple]]
    aliases: dict[str, tuple]
    constants: dict[str, str]
    server_commands: dict[str, str]

    def __repr__(self) -> str:
        return f"<protocol.ts: {len(self.interfaces)} wire interfaces>"


def _closing(text: str, start: int, stop: str) -> int:
    """Index of the first ``stop`` at bracket depth 0 from ``start``."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            if depth == 0 and ch == stop:
                return i
            depth -= 1
        elif ch == stop and depth == 0:
            return i
    raise ValueError(f"protocol.ts: no closing {stop!r} after {text[start:start + 40]!r}")


def read_typescript(source: str) -> TypeScript:
    assert WEBVIEW_MARKER in source, f"protocol.ts: the line {WEBVIEW_MARKER!r} that ends the wire types is gone"
    wire = source.split(WEBVIEW_MARKER)[0]
    wire = re.sub(r"/\*.*?\*/", "", wire, flags=re.S)
    wire = re.sub(r"//[^\n]*", "", wire)
    interfaces = {}
    for match in re.finditer(r"export interface (\w+)\s*\{", wire):
        end = _closing(wire, match.end(), "}")
        fields = {}
        body, position = wire[match.end():end], 0
        while body[position:].strip():
            stop = _closing(body + ";", position, ";")
            entry = body[position:stop].strip()
            position = stop + 1
            if not entry:
                continue
            named = re.match(r"(\w+)\??\s*:\s*(.+)$", entry, re.S)
            assert named, f"protocol.ts: cannot read the field {entry!r} of {match.group(1)}"
            fields[named.group(1)] = parse_type(named.group(2))
        interfaces[match.group(1)] = fields
    aliases = {}
    for match in re.finditer(r"export type (\w+)\s*=", wire):
        aliases[match.group(1)] = parse_type(wire[match.end():_closing(wire, match.end(), ";")])
    constants = dict(re.findall(r'export const (\w+)\s*=\s*"([^"]*)"', wire))
    block = re.search(r"export const ServerCommand\s*=\s*\{(.*?)\}", wire, re.S)
    assert block, "protocol.ts: no `export const ServerCommand = {...}`"
    server_commands = dict(re.findall(r'(\w+)\s*:\s*"([^"]*)"', block.group(1)))
    return TypeScript(interfaces, aliases, constants, server_commands)


def ts_norm(t: tuple, aliases: dict[str, tuple]) -> tuple:
    """TypeScript has no integers, and names its literal unions: resolve them (but ``Shape``)."""
    kind, value = t
    if t == ("prim", "integer"):
        return ("prim", "number")
    if kind == "named" and value in aliases and value != "Shape":
        return ts_norm(aliases[value], aliases)
    if kind == "array":
        return ("array", ts_norm(value, aliases))
    if kind == "tuple":
        return ("tuple", tuple(ts_norm(v, aliases) for v in value))
    if kind == "obj":
        return ("obj", tuple((n, ts_norm(v, aliases)) for n, v in value))
    if kind == "union":
        return union_of([ts_norm(m, aliases) for m in value])
    return t


def compare_ts_fields(where: str, documented: dict[str, tuple], actual: dict[str, tuple],
                      doc_types: dict[str, dict[str, tuple]], aliases: dict[str, tuple]) -> list[str]:
    problems = [f"TypeScript: {where} has `{name}`, which docs/protocol.md lacks" for name in actual if name not in documented]
    problems += [f"TypeScript: {where} lacks `{name}`, which docs/protocol.md has" for name in documented if name not in actual]
    for name in documented.keys() & actual.keys():
        problems += _compare_ts_type(f"{where}.{name}", documented[name], actual[name], doc_types, aliases)
    return problems


def _compare_ts_type(where: str, documented: tuple, actual: tuple, doc_types: dict, aliases: dict) -> list[str]:
    doc_t, ts_t = ts_norm(documented, aliases), ts_norm(actual, aliases)
    if doc_t == ts_t:
        return []
    if doc_t[0] == "named" and ts_t[0] == "obj" and doc_t[1] in doc_types:
        return compare_ts_fields(where, doc_types[doc_t[1]], dict(ts_t[1]), doc_types, aliases)
    if doc_t[0] == ts_t[0] == "array":
        return _compare_ts_type(where + "[]", doc_t[1], ts_t[1], doc_types, aliases)
    if doc_t[0] == ts_t[0] == "union" and len(doc_t[1]) == len(ts_t[1]):
        left = list(ts_t[1])
        for member in doc_t[1]:
            match = next((m for m in left if not _compare_ts_type(where, member, m, doc_types, aliases)), None)
            if match is None:
                break
            left.remove(match)
        else:
            return []
    return [f"TypeScript: {where} is {show(ts_t)}; docs/protocol.md says {show(documented)}"]
