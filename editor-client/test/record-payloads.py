"""Record real `netviz/diagram` and `netviz/buildStatus` payloads for the preview page's tests.

Drives `python -m netviz_lsp` over stdio exactly as an editor would (a tiny JSON-RPC
client, so it depends on nothing but the standard library): initialize, open a file,
wait for its diagram, save the notification as JSON under test/fixtures/.

    ../.venv/bin/python test/record-payloads.py            # from editor-client/: all of them
    ../.venv/bin/python test/record-payloads.py views      # only some: seed_cnns, resnet50, hostile, views, script, notebook, failure

Fixtures (the uri is rewritten to a stable file:///workspace/... so they do not
depend on where the repo lives):
  seed_cnns.diagram.json     examples/seed_cnns.py: the article's three CNNs
  resnet50.diagram.json      examples/applications.py, only its resnet50 model kept
  seed_cnns.status.json      the buildStatus notifications seen while building
  hostile.diagram.json       test/fixtures/hostile_names.py: markup in layer names and errors
  seed_cnns.views.json       `netviz.renderView` answers for seed_cnns' construct_model: layered, summary
  nested.diagram.json        examples/nested.py: a model inside a model (`is_model` layers)
  script.diagram.json        examples/notebook_style_script.py: a model built at module level
  notebook.diagram.json      tests/fixtures/notebooks/fashion_classifier.ipynb, opened as a notebook
                             (notebookDocument/didOpen, every cell): cells and cell-local lines
  failure.before.diagram.json  test/fixtures/mismatched_add.py with SKIP_UNITS = 8: it builds
  failure.diagram.json       then the file as it is (SKIP_UNITS = 9) saved: its Add fails, the error
                             carries the partial graph and `partials` its drawing
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURES = HERE / "fixtures"
TIMEOUT_S = 240


class Server:
    """`python -m netviz_lsp` on pipes; server requests are answered, notifications queued."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.process = subprocess.Popen(
            [sys.executable, "-m", "netviz_lsp"], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=sys.stderr, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        self.notifications: Queue = Queue()
        self.responses: dict[int, Queue] = {}
        self.next_id = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        with self.lock:
            self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.process.stdin.flush()

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        answer: Queue = Queue()
        self.responses[self.next_id] = answer
        self.send({"id": self.next_id, "method": method, "params": params})
        return answer.get(timeout=60)

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def wait_for(self, method: str, uri: str, seen: list) -> dict:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            try:
                message = self.notifications.get(timeout=max(0.1, deadline - time.monotonic()))
            except Empty:
                raise TimeoutError(f"no {method} for {uri} in {TIMEOUT_S} s") from None
            seen.append(message)
            params = message.get("params") or {}
            if message["method"] == method and params.get("uri") == uri:
                return params

    def close(self) -> None:
        try:
            self.request("shutdown", {})
            self.notify("exit", {})
            self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:
                self.send({"id": message["id"], "result": self._answer(message)})
            elif "method" in message:
                self.notifications.put(message)
            elif message.get("id") in self.responses:
                self.responses.pop(message["id"]).put(message)

    def _answer(self, request: dict):
        if request["method"] == "workspace/configuration":
            return [self.settings for _ in request["params"]["items"]]
        return None  # window/workDoneProgress/create, client/registerCapability, ...


def record(path: Path, keep_models: set[str] | None = None,
           commands: tuple[tuple[str, dict], ...] = ()) -> tuple[dict, list, list]:
    """The file's first diagram, the build statuses before it, and the results of ``commands``
    (``(name, argument)``; the argument gets the file's ``uri``) run after it."""
    uri = path.resolve().as_uri()
    server = Server(settings={})
    opened = notebook_open(path, uri) if path.suffix == ".ipynb" else ("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": path.read_text()}})
    seen: list = []
    try:
        server.request("initialize", {
            "processId": os.getpid(), "rootUri": REPO.as_uri(),
            "workspaceFolders": [{"uri": REPO.as_uri(), "name": "netviz"}],
            "capabilities": {"window": {"workDoneProgress": True}, "workspace": {"configuration": True}},
            "initializationOptions": {},
        })
        server.notify("initialized", {})
        server.notify(*opened)
        diagram = server.wait_for("netviz/diagram", uri, seen)
        results = []
        for name, argument in commands:
            answer = server.request("workspace/executeCommand", {"command": name, "arguments": [dict(argument, uri=uri)]})
            if "error" in answer:
                raise RuntimeError(f"{name} failed: {answer['error']}")
            results.append(answer["result"])
    finally:
        server.close()
    if keep_models is not None:
        diagram["models"] = [m for m in diagram["models"] if m["factory"] in keep_models]
        diagram["errors"] = [e for e in diagram["errors"] if e.get("factory") in keep_models]
    stable = f"file:///workspace/{path.name}"
    diagram["uri"] = stable
    statuses = [dict(m["params"], uri=stable) for m in seen
                if m["method"] == "netviz/buildStatus" and m["params"].get("uri") == uri]
    return diagram, statuses, results


def notebook_open(path: Path, uri: str) -> tuple[str, dict]:
    """``notebookDocument/didOpen`` for the notebook at ``path``: every cell, markdown included."""
    cells = json.loads(path.read_text())["cells"]
    uris = [f"vscode-notebook-cell:{path.resolve().as_posix()}#W{i}sZmlsZQ%3D%3D" for i in range(len(cells))]
    code = [c["cell_type"] == "code" for c in cells]
    return "notebookDocument/didOpen", {
        "notebookDocument": {"uri": uri, "notebookType": "jupyter-notebook", "version": 1,
                             "cells": [{"kind": 2 if is_code else 1, "document": u} for u, is_code in zip(uris, code)]},
        "cellTextDocuments": [{"uri": u, "languageId": "python" if is_code else "markdown", "version": 1,
                               "text": "".join(c["source"]) if isinstance(c["source"], list) else c["source"]}
                              for u, c, is_code in zip(uris, cells, code)],
    }


def save(name: str, value) -> None:
    FIXTURES.mkdir(exist_ok=True)
    (FIXTURES / name).write_text(json.dumps(value, indent=1) + "\n")
    print(f"wrote test/fixtures/{name}", file=sys.stderr)


def record_seed_cnns() -> None:
    diagram, statuses, _ = record(REPO / "examples" / "seed_cnns.py")
    save("seed_cnns.diagram.json", diagram)
    save("seed_cnns.status.json", statuses)


def record_resnet50() -> None:
    diagram, _, _ = record(REPO / "examples" / "applications.py", keep_models={"resnet50"})
    save("resnet50.diagram.json", diagram)


def record_hostile() -> None:
    diagram, _, _ = record(FIXTURES / "hostile_names.py")
    save("hostile.diagram.json", diagram)


def record_views() -> None:
    views = ("layered", "summary")
    _, _, results = record(REPO / "examples" / "seed_cnns.py", commands=tuple(
        ("netviz.renderView", {"factory": "construct_model", "view": view}) for view in views))
    save("seed_cnns.views.json", dict(zip(views, results)))
    diagram, _, _ = record(REPO / "examples" / "nested.py")
    save("nested.diagram.json", diagram)


def record_script() -> None:
    diagram, _, _ = record(REPO / "examples" / "notebook_style_script.py")
    save("script.diagram.json", diagram)


def record_notebook() -> None:
    diagram, _, _ = record(REPO / "tests" / "fixtures" / "notebooks" / "fashion_classifier.ipynb")
    save("notebook.diagram.json", diagram)


def record_failure() -> None:
    """A good build, then an edit that breaks it: what the panel gets when a model stops building."""
    path = FIXTURES / "mismatched_add.py"
    broken = path.read_text()
    good = broken.replace("SKIP_UNITS = 9 ", "SKIP_UNITS = 8 ")
    assert good != broken, "mismatched_add.py no longer sets SKIP_UNITS = 9"
    uri = path.resolve().as_uri()
    server = Server(settings={})
    seen: list = []
    try:
        server.request("initialize", {
            "processId": os.getpid(), "rootUri": REPO.as_uri(),
            "workspaceFolders": [{"uri": REPO.as_uri(), "name": "netviz"}],
            "capabilities": {"window": {"workDoneProgress": True}, "workspace": {"configuration": True}},
            "initializationOptions": {},
        })
        server.notify("initialized", {})
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": good}})
        before = server.wait_for("netviz/diagram", uri, seen)
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                                 "contentChanges": [{"text": broken}]})
        server.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        after = server.wait_for("netviz/diagram", uri, seen)
        while after.get("version") != 2:
            after = server.wait_for("netviz/diagram", uri, seen)
    finally:
        server.close()
    assert before["models"] and after["partials"], "the good build drew nothing, or the broken one no partial graph"
    for diagram in (before, after):
        diagram["uri"] = f"file:///workspace/{path.name}"
    save("failure.before.diagram.json", before)
    save("failure.diagram.json", after)


RECORDINGS = {"seed_cnns": record_seed_cnns, "resnet50": record_resnet50, "hostile": record_hostile,
              "views": record_views, "script": record_script, "notebook": record_notebook,
              "failure": record_failure}


def main() -> None:
    for name in sys.argv[1:] or RECORDINGS:
        RECORDINGS[name]()


if __name__ == "__main__":
    main()
