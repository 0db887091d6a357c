"""A fake engine, so the server's scheduling, publishing and commands are tested without TensorFlow.

``python tests/fake_engine.py`` runs the real language server (``create_server``) over stdio
with ``FakeEngine`` in place of ``Engine``. Discovery is the real one (it is pure ``ast``);
building is not: each buildable target becomes a one-layer graph at the target's line, and
directives in the file's text script the engine's behaviour:

    # fake-params: N        the layer's parameter count (default 1)
    # fake-sleep: S         the build takes S seconds (a slow build, to overlap edits with);
                            ``cancel`` ends the sleep at once, as killing a worker would
    # fake-fail: MESSAGE    every target fails with a ``build`` error at this comment's line
    # fake-raise            ``build`` raises: a NetViz bug the server must survive

Every call is appended, as one JSON line, to the file named by ``NETVIZ_FAKE_LOG``, so tests
can count builds and see which text each one got.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Iterable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netviz_lsp.discovery import Discovery, discover  # noqa: E402
from netviz_lsp.graph import BuildError, BuildInfo, FileResult, Layer, ModelGraph  # noqa: E402

_DIRECTIVE = re.compile(r"#\s*fake-(params|sleep|fail|raise)\s*:?\s*(.*)")


class FakeEngine:
    """``EngineAPI`` without a worker: graphs made from discovery and the file's directives."""

    def __init__(self, log: Optional[str] = None) -> None:
        self.log_path = log or os.environ.get("NETVIZ_FAKE_LOG")
        self._lock = threading.Lock()
        self.started = False
        self._sleeping_since: Optional[float] = None
        self._cancelled = threading.Event()

    def _log(self, **entry) -> None:
        if self.log_path:
            with self._lock, open(self.log_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")

    @property
    def warm(self) -> bool:
        return self.started

    def start(self, settings=None) -> None:
        self.started = True
        self._log(op="start")

    def restart(self, memory_mb: Optional[int] = None) -> None:
        self._log(op="restart", memory_mb=memory_mb)

    def close(self) -> None:
        self._log(op="close")

    def forget(self, path: Optional[str] = None) -> None:
        self._log(op="forget", path=path)

    def worker_pids(self) -> list[int]:
        return []

    def running_s(self) -> Optional[float]:
        since = self._sleeping_since
        return None if since is None else time.monotonic() - since

    def cancel(self) -> bool:
        if self._sleeping_since is None:
            return False
        self._log(op="cancel")
        self._cancelled.set()
        return True

    def build(self, path: str, source: str, settings, roots: Iterable[str] = (), only=None, on_stage=None,
              found: Optional[Discovery] = None) -> FileResult:
        directives = {}
        for number, line in enumerate(source.splitlines(), 1):
            match = _DIRECTIVE.search(line)
            if match:
                directives[match.group(1)] = (match.group(2).strip(), number)
        self._log(op="build", path=path, text=source)
        if "raise" in directives:
            raise RuntimeError("the fake engine was told to raise")
        if "sleep" in directives:
            self._cancelled.clear()
            self._sleeping_since = time.monotonic()
            cancelled = self._cancelled.wait(float(directives["sleep"][0]))
            self._sleeping_since = None
            if cancelled:
                return FileResult(file=path, errors=[BuildError("crash", "the build was cancelled", None, t.name)
                                                     for t in (found or discover(source, path)).factories])
        found = found or discover(source, path, settings.build.factory_args)
        result = FileResult(file=path, errors=list(found.errors))
        params = int(directives.get("params", ("1", 0))[0])
        for target in found.factories:
            if not target.buildable:
                continue
            if on_stage is not None:
                on_stage("factory", target.name)
            if "fail" in directives:
                message, line = directives["fail"]
                result.errors.append(BuildError("build", message, line, target.name))
                continue
            layer = Layer(id="dense", name="dense", class_name="Dense", line=target.line + 1,
                          call_lines=[target.line + 1], output_shape=[None, params], params=params,
                          trainable=True, trainable_params=params)
            result.models.append(ModelGraph(
                factory=target.name, line=target.line, class_name="Sequential", total_params=params,
                trainable_params=params, non_trainable_params=0, inputs=[[None, 4]], outputs=[[None, params]],
                build=BuildInfo(ms=1.0, shape_only=True), layers=[layer], edges=[],
                kind=target.kind))
        return result

    def draw(self, models, fmt, options, view="graph", views=None, document=""):
        self._log(op="draw", fmt=fmt, view=view, models=[m.factory for m in models])
        return {m.factory: _svg(m).encode() for m in models}, []

    def export(self, graph, fmt, options, view="graph", views=None) -> bytes:
        self._log(op="export", fmt=fmt, view=view, factory=graph.factory)
        if fmt == "json":
            return json.dumps(graph.to_dict()).encode()
        return _svg(graph).encode()

    def dependencies(self, path: str, source: str, roots) -> frozenset[str]:
        return frozenset()


def _svg(model: ModelGraph) -> str:
    nodes = "".join(f'<g id="{layer.id}" class="node layer"><text>{layer.params}</text></g>' for layer in model.layers)
    return f'<svg xmlns="http://www.w3.org/2000/svg" data-fake="{model.factory}">{nodes}</svg>'


def main() -> int:
    from netviz_lsp.server.app import create_server, protect_stdout

    server = create_server(FakeEngine())
    try:
        server.start_io(sys.stdin.buffer, protect_stdout())
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
