"""docs/protocol.md is the contract: these tests fail when either side drifts from it.

As rust-analyzer keeps ``lsp-extensions.md`` honest, but by comparing fields, not a hash:
a hash fails on any edit of a comment, and says nothing about which field moved.

- Python: the wire keys of ``graph.py``'s ``to_dict()`` and ``payloads.py``'s ``to_json()``
  on real dataclasses built from plain data (no TensorFlow), with the types their
  annotations declare; the commands a real ``create_server()`` registers, the arguments
  their handlers read and the results they return; the keys ``settings.py`` reads, with
  their defaults (by parsing settings objects, so a key that is documented but never read
  fails too).
- TypeScript: the interfaces, types and constants of ``editor-client/src/core/protocol.ts``
  (read as text), and ``contributes.configuration`` of ``editor-client/package.json``.

Every message names the side, the type and the field. ``protocol_reading.py`` reads the two texts.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any, Optional

import pytest
from protocol_reading import (Doc, TypeScript, code_text, compare_ts_fields, members, params_type, parse_type,
                              read_doc, read_typescript, result_type, show, union_of)

from netviz_lsp import graph, settings as settings_module
from netviz_lsp.graph import BuildError, BuildInfo, FileResult, Layer, ModelGraph
from netviz_lsp.server import commands, payloads

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "protocol.md"
PROTOCOL_TS = ROOT / "editor-client" / "src" / "core" / "protocol.ts"
PACKAGE_JSON = ROOT / "editor-client" / "package.json"
SERVER_DIR = ROOT / "netviz_lsp" / "server"

# Doc types the TypeScript side reaches inline, or never reads, instead of declaring them.
TS_UNDECLARED = {
    "FileResult": "the client never receives a whole file result",
    "BuildInfo": "inline in ModelGraph.build",
    "ModelDiagram": "inline in DiagramParams.models",
    "RebuildResult": "the client ignores netviz.rebuild's answer",
    "BuildWarning": "only in FileResult; the server turns warnings into diagnostics",
}
# TypeScript wire interfaces that are not doc types.
TS_EXTRA = {"ViewRequest": "the panel's netviz.renderView arguments, checked against the command's table"}


@pytest.fixture(scope="module")
def doc() -> Doc:
    return read_doc(DOC.read_text(encoding="utf-8"))


# --- the Python side -----------------------------------------------------------------------

_PY_NAMES = {"int": ("prim", "integer"), "float": ("prim", "number"), "str": ("prim", "string"),
             "bool": ("prim", "boolean"), "None": ("prim", "null"), "Any": ("prim", "object"),
             "dict": ("prim", "object"), "list": ("array", ("prim", "object"))}


def python_type(annotation: str) -> tuple:
    """A dataclass field's annotation (a string: ``from __future__ import annotations``) as a type."""
    return _py(ast.parse(annotation, mode="eval").body)


def _py(node: ast.expr) -> tuple:
    if isinstance(node, ast.Constant) and node.value is None:
        return ("prim", "null")
    if isinstance(node, ast.Name):
        return _PY_NAMES.get(node.id, ("named", node.id))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return union_of([_py(node.left), _py(node.right)])
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        outer = node.value.id
        if outer == "Optional":
            return union_of([_py(args[0]), ("prim", "null")])
        if outer == "Union":
            return union_of([_py(a) for a in args])
        if outer == "list":
            return ("array", _py(args[0]))
        if outer == "tuple":
            return ("tuple", tuple(_py(a) for a in args))
        if outer == "dict":
            return ("prim", "object")
    raise ValueError(f"no JSON type for the annotation {ast.unparse(node)!r}")


def python_norm(t: tuple) -> tuple:
    """What Python's annotations can say: a literal is a ``str``, a graph type nested in a
    payload is a ``dict``, a pair is a ``list``."""
    kind, value = t
    if kind == "lit":
        return ("prim", "string")
    if kind == "named":
        return t if value == "Shape" else ("prim", "object")
    if kind == "tuple":
        return ("array", union_of([python_norm(v) for v in value]))
    if kind == "array":
        return ("array", python_norm(value))
    if kind == "union":
        return union_of([python_norm(m) for m in value])
    return t


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def python_fields(cls: type, wire: dict[str, Any]) -> dict[str, Optional[tuple]]:
    """Wire name -> the type of the dataclass field it comes from (None: no such field)."""
    declared = {f.name: f.type for f in dataclasses.fields(cls)}
    found = {}
    for key in wire:
        annotation = declared.get(key, declared.get(_snake(key)))
        found[key] = python_type(annotation) if isinstance(annotation, str) else None
    return found


def compare_python(where: str, documented: dict[str, tuple], actual: dict[str, Optional[tuple]]) -> list[str]:
    problems = [f"Python: {where} sends `{name}`, which docs/protocol.md lacks" for name in actual if name not in documented]
    problems += [f"Python: {where} lacks `{name}`, which docs/protocol.md has" for name in documented if name not in actual]
    for name in documented.keys() & actual.keys():
        got = actual[name]
        if got is None:
            problems.append(f"Python: {where}.{name} is on the wire but no dataclass field declares it")
        elif python_norm(got) != python_norm(documented[name]):
            problems.append(f"Python: {where}.{name} is {show(got)}; docs/protocol.md says {show(documented[name])}")
    return problems


def make(cls: type, **values: Any) -> Any:
    """``cls(**values)``, forgiving a renamed field: a value for a field that is gone is dropped
    and a required field nobody gave gets a plain value, so the wire keys show the rename."""
    given = {}
    for f in dataclasses.fields(cls):
        if f.name in values:
            given[f.name] = values[f.name]
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            given[f.name] = _plain_value(python_type(f.type))
    return cls(**given)


def _plain_value(t: tuple) -> Any:
    if ("prim", "null") in members(t):
        return None
    kind, value = members(t)[0]
    if kind == "named":
        cls = getattr(graph, value, None) or getattr(payloads, value, None)
        return make(cls) if dataclasses.is_dataclass(cls) else []
    return {"integer": 0, "number": 0.0, "string": "", "boolean": False}.get(value, [] if kind == "array" else {})


def sample_result() -> FileResult:
    """A file result with every kind of layer, built from plain data."""
    conv = make(Layer, id="conv2d", name="conv2d", class_name="Conv2D", line=14, call_lines=[14],
                output_shape=[None, 126, 126, 64], params=640, trainable=True, activation="relu",
                dtype="float32", trainable_params=640)
    encoder = make(Layer, id="encoder", name="encoder", class_name="Functional", line=15, call_lines=[15],
                   output_shape=[[None, 12], [None, 3]], params=1548, trainable=True, dtype="float32",
                   trainable_params=1548, is_model=True)
    dense = make(Layer, id="encoder/dense", name="dense", class_name="Dense", line=None, call_lines=[],
                 output_shape=None, params=1548, trainable=True, activation="linear", dtype="float32",
                 parent="encoder", trainable_params=1548)
    model = make(ModelGraph, factory="construct_model", line=12, class_name="Sequential", total_params=2188,
                 trainable_params=2188, non_trainable_params=0, inputs=[[None, 128, 128, 1]],
                 outputs=[[None, 12], [None, 3]], build=make(BuildInfo, ms=95.1, shape_only=True),
                 layers=[conv, encoder, dense], edges=[["conv2d", "encoder"]], name="sequential",
                 weights_bytes=8752)
    error = make(BuildError, kind="build", message="Argument(s) not recognized: {'lr': 0.001}", line=47,
                 factory="cconstruct_model")
    return make(FileResult, file="examples/seed_cnns.py", models=[model], errors=[error])


def graph_wire() -> dict[str, tuple[type, dict[str, Any]]]:
    """Doc type -> (its dataclass, one wire object of it)."""
    wire = json.loads(json.dumps(sample_result().to_dict()))  # also proves it is all JSON
    model = wire["models"][0]
    return {"FileResult": (FileResult, wire), "ModelGraph": (ModelGraph, model),
            "Layer": (Layer, model["layers"][0]), "BuildInfo": (BuildInfo, model["build"]),
            "BuildError": (BuildError, wire["errors"][0])}


def payload_wire() -> dict[str, tuple[type, dict[str, Any]]]:
    result = sample_result()
    diagram = make(payloads.DiagramParams, uri="file:///w/seed_cnns.py", version=3,
                   models=[make(payloads.ModelDiagram, factory="construct_model", svg="<svg/>",
                                graph=result.models[0].to_dict())],
                   errors=[result.errors[0].to_dict()], elapsed_ms=120.5).to_json()
    status = make(payloads.BuildStatusParams, uri="file:///w/seed_cnns.py", state="done",
                  message="1 model built in 95 ms").to_json()
    info = make(payloads.FactoryInfo, name="construct_model", line=12, args="()", args_origin="defaults",
                missing=[], built=True, total_params=2188).to_json()
    return {"DiagramParams": (payloads.DiagramParams, diagram),
            "ModelDiagram": (payloads.ModelDiagram, diagram["models"][0]),
            "BuildStatusParams": (payloads.BuildStatusParams, status),
            "FactoryInfo": (payloads.FactoryInfo, info)}


@pytest.fixture(scope="module")
def ts() -> TypeScript:
    return read_typescript(PROTOCOL_TS.read_text(encoding="utf-8"))


# --- the graph contract -------------------------------------------------------------------

def test_the_graph_contract_is_what_graph_py_sends(doc: Doc) -> None:
    types = doc.types()
    problems = []
    for name, (cls, wire) in graph_wire().items():
        assert name in types, f"docs/protocol.md: no `### Type `{name}`` table"
        problems += compare_python(f"graph.py {name}", types[name], python_fields(cls, wire))
    assert not problems, "\n".join(problems)


def test_planned_fields_are_not_in_the_code_yet(doc: Doc) -> None:
    """A planned field that lands must move into its type's table."""
    wire = {**graph_wire(), **payload_wire()}
    problems = []
    for row in doc.one("Planned additions").rows:
        owner, name = row["In"], row["Field"]
        assert owner in wire, f"docs/protocol.md: planned field {owner}.{name} of an unknown type"
        if name in wire[owner][1]:
            problems.append(f"Python: {owner}.{name} is sent now: move it from 'Planned additions' to its table")
    assert not problems, "\n".join(problems)


def test_error_kinds_are_graph_py_s(doc: Doc) -> None:
    documented = [row["Kind"] for row in doc.one("Error kinds").rows]
    assert documented == list(graph.ERROR_KINDS), (
        f"Python: graph.ERROR_KINDS is {list(graph.ERROR_KINDS)}; docs/protocol.md lists {documented}")


# --- notifications and commands, Python side ---------------------------------------------

def test_notifications_are_what_payloads_py_sends(doc: Doc) -> None:
    types = doc.types()
    notifications = doc.all("Notification")
    sent = {value: name for name, value in vars(payloads).items() if isinstance(value, str) and value.startswith("netviz/")}
    problems = [f"Python: payloads.py sends {m}, which docs/protocol.md lacks" for m in sent if m not in notifications]
    problems += [f"Python: payloads.py has no constant for {m}" for m in notifications if m not in sent]
    for method, section in notifications.items():
        assert params_type(section) in types, f"docs/protocol.md: {method}'s params type has no table"
    for name, (cls, wire) in payload_wire().items():
        assert name in types, f"docs/protocol.md: no `### Type `{name}`` table"
        problems += compare_python(f"payloads.py {name}", types[name], python_fields(cls, wire))
    assert not problems, "\n".join(problems)


def _status_states() -> set[str]:
    """The states the server's code passes to ``publish.send_status``."""
    found: set[str] = set()
    for path in SERVER_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            args = node.args
            if callee == "post" and args and getattr(args[0], "attr", getattr(args[0], "id", None)) == "send_status":
                args = args[1:]
            elif callee != "send_status":
                continue
            state = args[2] if len(args) > 2 else None
            for value in ([state.body, state.orelse] if isinstance(state, ast.IfExp) else [state]):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value)
    return found


def test_build_states_are_those_the_server_sends(doc: Doc) -> None:
    documented = {m[1] for m in members(doc.types()["BuildStatusParams"]["state"])}
    sent = _status_states()
    assert sent == documented, f"Python: the server sends the states {sorted(sent)}; docs/protocol.md says {sorted(documented)}"


def _handler_facts(handler: Any) -> tuple[list[str], list[list[str]], Optional[str]]:
    """A command handler's argument names (``command_args``), its returned dict literals'
    keys, and its return annotation."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(handler)))
    arguments: list[str] = []
    returned: list[list[str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "command_args":
            arguments = [e.value for e in node.args[1].elts]
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            returned.append([k.value for k in node.value.keys])
    return arguments, returned, handler.__annotations__.get("return")


def registered_commands() -> dict[str, Any]:
    """Command name -> handler, as a real server registers them."""
    from netviz_lsp.server.app import create_server

    server = create_server()
    try:
        found = dict(server.protocol.fm.commands)
    finally:
        server.close()
    return {name: _handler(wrapper) for name, wrapper in found.items()}


def _handler(function: Any) -> Any:
    """The module-level function behind pygls' and ``guarded``'s wrappers (``guarded`` keeps
    the handler's module and name)."""
    while not getattr(function, "__module__", "").startswith("netviz_lsp"):
        if isinstance(function, functools.partial):
            function = function.func
            continue
        inner = [c.cell_contents for c in getattr(function, "__closure__", None) or ()
                 if inspect.isfunction(c.cell_contents) or isinstance(c.cell_contents, functools.partial)]
        assert inner, f"cannot find the NetViz handler inside {function!r}"
        function = inner[0]
    return getattr(sys.modules[function.__module__], function.__name__)


def test_commands_are_those_the_server_registers(doc: Doc) -> None:
    types = doc.types()
    documented = doc.all("Command")
    registered = registered_commands()
    problems = [f"Python: the server registers {c}, which docs/protocol.md lacks" for c in registered if c not in documented]
    problems += [f"Python: the server does not register {c}, which docs/protocol.md has" for c in documented if c not in registered]
    for name in documented.keys() & registered.keys():
        section = documented[name]
        arguments, returned, annotation = _handler_facts(registered[name])
        doc_arguments = [row["Argument"] for row in section.rows or []]
        if arguments != doc_arguments:
            problems.append(f"Python: {name} reads the arguments {arguments} in that order; docs/protocol.md says {doc_arguments}")
        result = result_type(section)
        if annotation is None or python_norm(python_type(annotation)) != python_norm(result):
            problems.append(f"Python: {name} returns {annotation}; docs/protocol.md says {show(result)}")
        for keys in returned:
            table = types.get(result[1], {}) if result[0] == "named" else {}
            if set(keys) != set(table):
                problems.append(f"Python: {name} returns the keys {sorted(keys)}; docs/protocol.md's "
                                f"{show(result)} has {sorted(table)}")
    assert not problems, "\n".join(problems)


def test_rebuild_states_are_the_scheduler_s(doc: Doc) -> None:
    from netviz_lsp.server.scheduler import State

    documented = {m[1] for m in members(doc.types()["RebuildResult"]["state"])}
    assert documented == {s.value for s in State}, (
        f"Python: scheduler.State is {sorted(s.value for s in State)}; docs/protocol.md says {sorted(documented)}")


def test_views_and_their_formats_are_the_renderer_s(doc: Doc) -> None:
    from netviz_lsp.render import VIEW_FORMATS

    drawn = {m[1] for m in members(doc.types()["RenderedView"]["format"])}
    assert drawn == set(commands.TEXT_FORMATS), (
        f"Python: netviz.renderView answers in {list(commands.TEXT_FORMATS)}; docs/protocol.md says {sorted(drawn)}")
    rows = {row["View"]: row for row in doc.one("Commands").rows}
    assert list(rows) == list(VIEW_FORMATS), f"Python: the views are {list(VIEW_FORMATS)}; docs/protocol.md says {list(rows)}"
    problems = []
    for view, formats in VIEW_FORMATS.items():
        export = [code_text(f.strip()) for f in rows[view]["Export formats"].split(",")]
        panel = [code_text(f.strip()) for f in rows[view]["Panel formats"].split(",")]
        expected = list(commands.EXPORT_FORMATS) if view == "graph" else list(formats)
        if export != expected:
            problems.append(f"Python: the {view} view exports {expected}; docs/protocol.md says {export}")
        if panel != commands._panel_formats(view):
            problems.append(f"Python: the panel draws {view} as {commands._panel_formats(view)}; docs/protocol.md says {panel}")
    assert not problems, "\n".join(problems)


# --- settings, Python side ------------------------------------------------------------------

def _nested(key: str, value: Any) -> dict:
    for part in reversed(key.split(".")):
        value = {part: value}
    return value


def _another_value(t: tuple, default: Any) -> Any:
    """A valid value of type ``t`` that is not ``default``."""
    choices = [m for m in members(t) if m != ("prim", "null")]
    literals = [m[1] for m in choices if m[0] == "lit" and m[1] != default]
    if literals:
        return literals[0]
    first = choices[0]
    if first == ("prim", "boolean"):
        return not default if isinstance(default, bool) else True
    if first in (("prim", "integer"), ("prim", "number")):
        return default + 1 if isinstance(default, (int, float)) else 512
    if first[0] == "array":
        return ["Dropout"]
    if first == ("prim", "object"):
        return {"construct_model": [1]}
    return "another value"


def setting_rows(doc: Doc) -> list[dict[str, Any]]:
    rows = []
    for row in doc.one("Settings keys").rows:
        rows.append({**row, "type": parse_type(row["Type"]), "default": json.loads(row["Default"])})
    return rows


def test_settings_py_reads_every_documented_key_with_its_default(doc: Doc) -> None:
    Settings = settings_module.Settings
    default = Settings()
    problems = []
    for row in setting_rows(doc):
        key, t = row["Key"], row["type"]
        read_by_server = row["Read by"] == "server"
        if Settings.from_json(_nested(key, row["default"])) != default:
            problems.append(f"Python: settings.py's default for {key} is not {row['Default']}")
        values = [_another_value(t, row["default"])]
        values += [m[1] for m in members(t) if m[0] == "lit" and m[1] != row["default"]]
        for value in values:
            changed = Settings.from_json(_nested(key, value)) != default
            if read_by_server and not changed:
                problems.append(f"Python: settings.py ignores {key} = {json.dumps(value)}")
            if not read_by_server and changed:
                problems.append(f"Python: settings.py reads {key}, which docs/protocol.md says is the client's alone")
    assert not problems, "\n".join(problems)


def _keys_read(source: str) -> set[str]:
    """Every string ``settings.py`` looks up: ``x.get("key")`` and ``_section(data, "key")``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            key = node.args[0] if callee == "get" else node.args[1] if callee == "_section" and len(node.args) > 1 else None
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                found.add(key.value)
    return found


def test_settings_py_reads_no_undocumented_key(doc: Doc) -> None:
    from netviz_lsp.server import configuration

    rows = [row for row in setting_rows(doc) if row["Read by"] == "server"]
    parts = {part for row in rows for part in row["Key"].split(".")} | {"netviz"}
    read = _keys_read(Path(settings_module.__file__).read_text(encoding="utf-8"))
    problems = [f"Python: settings.py reads `{key}`, which no key in docs/protocol.md's settings has" for key in sorted(read - parts)]
    sections = {row["Key"].split(".")[0] for row in rows}
    if set(configuration._KEYS) != sections:
        problems.append(f"Python: configuration.py takes the sections {sorted(configuration._KEYS)} for a settings "
                        f"object; docs/protocol.md has {sorted(sections)}")
    assert not problems, "\n".join(problems)


# --- the TypeScript side ----------------------------------------------------------------------

def test_protocol_ts_types_are_the_doc_s(doc: Doc, ts: TypeScript) -> None:
    types = doc.types()
    problems = []
    for name, fields in types.items():
        if name in ts.interfaces:
            problems += compare_ts_fields(f"protocol.ts {name}", fields, ts.interfaces[name], types, ts.aliases)
        elif name not in TS_UNDECLARED:
            problems.append(f"TypeScript: protocol.ts declares no interface {name}, which docs/protocol.md has")
    for name in ts.interfaces:
        if name not in types and name not in TS_EXTRA:
            problems.append(f"TypeScript: protocol.ts has the wire interface {name}, which docs/protocol.md lacks")
    assert not problems, "\n".join(problems)


def test_protocol_ts_names_the_doc_s_notifications_and_commands(doc: Doc, ts: TypeScript) -> None:
    problems = []
    notifications = set(doc.all("Notification"))
    constants = {v for v in ts.constants.values() if v.startswith("netviz/")}
    if constants != notifications:
        problems.append(f"TypeScript: protocol.ts names the notifications {sorted(constants)}; "
                        f"docs/protocol.md has {sorted(notifications)}")
    documented = doc.all("Command")
    named = set(ts.server_commands.values())
    problems += [f"TypeScript: ServerCommand has {c}, which docs/protocol.md lacks" for c in sorted(named - set(documented))]
    problems += [f"TypeScript: ServerCommand lacks {c}, which docs/protocol.md has" for c in sorted(set(documented) - named)]
    arguments = {row["Argument"] for row in documented["netviz.renderView"].rows}
    sent = {"uri", *ts.interfaces.get("ViewRequest", {})}
    problems += [f"TypeScript: ViewRequest sends `{a}`, which netviz.renderView's arguments lack" for a in sorted(sent - arguments)]
    assert not problems, "\n".join(problems)


def _schema_types(t: tuple) -> set[str]:
    """The JSON-schema ``type`` a doc type is in package.json."""
    found = set()
    for m in members(t):
        if m[0] == "lit":
            found.add("string")
        elif m[0] == "array":
            found.add("array")
        elif m[0] == "named":
            found.add("object")
        else:
            found.add(m[1])
    return found


def test_package_json_contributes_the_doc_s_settings(doc: Doc) -> None:
    properties = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["contributes"]["configuration"]["properties"]
    contributed = {key.removeprefix("netviz."): value for key, value in properties.items()}
    rows = {row["Key"]: row for row in setting_rows(doc)}
    problems = [f"TypeScript: package.json contributes netviz.{k}, which docs/protocol.md lacks" for k in contributed if k not in rows]
    problems += [f"TypeScript: package.json lacks netviz.{k}, which docs/protocol.md has" for k in rows if k not in contributed]
    for key in rows.keys() & contributed.keys():
        row, schema = rows[key], contributed[key]
        if schema.get("default") != row["default"]:
            problems.append(f"TypeScript: package.json's default for netviz.{key} is {json.dumps(schema.get('default'))}; "
                            f"docs/protocol.md says {row['Default']}")
        declared = schema.get("type")
        declared = set(declared) if isinstance(declared, list) else {declared}
        if declared != _schema_types(row["type"]):
            problems.append(f"TypeScript: package.json types netviz.{key} as {sorted(declared)}; "
                            f"docs/protocol.md says {row['Type']}")
        literals = [m[1] for m in members(row["type"]) if m[0] == "lit"]
        if literals and set(schema.get("enum", [])) != set(literals):
            problems.append(f"TypeScript: package.json allows netviz.{key} to be {schema.get('enum')}; "
                            f"docs/protocol.md says {literals}")
    assert not problems, "\n".join(problems)
