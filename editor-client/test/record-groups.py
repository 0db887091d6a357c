"""Record the groups fixtures: real builds of ResNet50 and NASNetLarge, drawn as the server draws them.

    ../.venv/bin/python test/record-groups.py        # from editor-client/

For each model, `netviz render FILE --factory F --format json` builds it in the real worker
(groups and memory attached there), and the renderer draws it as `netviz/diagram` and
`netviz.renderView` would (default settings): the default drawing, and for every group
that is not a nested model's (NASNetLarge: two of them) the drawing with it and the groups above it expanded, keyed
as the HTML export keys them (sorted ids joined by ","). Written as
test/fixtures/<name>.groups.json: {"diagram": DiagramParams, "expansions": {key: svg}, "macs": layerMacs}.

    ../.venv/bin/python test/record-groups.py changes

records what changed over a real edit through the real server (record-payloads.py's client):
examples/seed_cnns.py opened, then its first model's Dense widened from 256 to 512 units and
saved: test/fixtures/changes.before.diagram.json and changes.diagram.json (`changes` filled).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

from netviz_lsp.graph import ModelGraph  # noqa: E402
from netviz_lsp.render import render  # noqa: E402
from netviz_lsp.render.views.macs import count_macs  # noqa: E402
from netviz_lsp.settings import RenderOptions  # noqa: E402

MODELS = {
    "resnet50": (REPO / "examples" / "applications.py", "resnet50", None),
    # NASNetLarge: its first stage and first cell only (every drawing of 1,041 layers is big).
    "nasnet": (HERE / "fixtures" / "large_applications.py", "nasnet_large", {"group:cells_0-5", "group:cell_0"}),
}


def chain(groups: dict, gid: str) -> list[str]:
    out = []
    while gid in groups and gid not in out:
        out.append(gid)
        gid = groups[gid]["parent"]
    return out


def record(name: str) -> None:
    path, factory, only = MODELS[name]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([str(REPO / ".venv" / "bin" / "netviz"), "render", str(path), "--factory", factory,
                           "--format", "json"], capture_output=True, text=True, env=env, check=True)
    result = json.loads(done.stdout)
    data = result["models"][0]
    graph = ModelGraph.from_dict(data)
    groups = {g["id"]: g for g in data["groups"]}
    expansions = {"": render(graph, "svg").decode()}
    for gid, group in groups.items():
        if group["kind"] == "nested" or (only is not None and gid not in only):
            continue
        ids = sorted(chain(groups, gid))
        key = ",".join(ids)
        if key not in expansions:
            expansions[key] = render(graph, "svg", RenderOptions(expand_groups=tuple(ids))).decode()
    uri = f"file:///workspace/{path.relative_to(REPO).as_posix()}"
    diagram = {"uri": uri, "version": 1, "models": [{"factory": factory, "svg": expansions[""], "graph": data,
                                                     "changes": None}],
               "errors": [], "elapsed_ms": round(data["build"]["ms"], 1)}
    out = HERE / "fixtures" / f"{name}.groups.json"
    macs = count_macs(graph).per_layer  # what netviz.renderView answers as layerMacs
    out.write_text(json.dumps({"diagram": diagram, "expansions": expansions, "macs": macs}, ensure_ascii=False) + "\n")
    print(f"{out.name}: {len(graph.layers)} layers, {len(groups)} groups, {len(expansions)} drawings, "
          f"{out.stat().st_size // 1024} KiB")


def record_changes() -> None:
    spec = importlib.util.spec_from_file_location("record_payloads", HERE / "record-payloads.py")
    payloads = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(payloads)
    path = REPO / "examples" / "seed_cnns.py"
    before_text = path.read_text()
    wide = before_text.replace('model.add(layers.Dense(256, activation="relu"))',
                               'model.add(layers.Dense(512, activation="relu"))', 1)
    assert wide != before_text, "seed_cnns.py no longer has the first model's Dense(256)"
    uri = path.resolve().as_uri()
    server = payloads.Server(settings={})
    seen: list = []
    try:
        server.request("initialize", {
            "processId": os.getpid(), "rootUri": REPO.as_uri(),
            "workspaceFolders": [{"uri": REPO.as_uri(), "name": "netviz"}],
            "capabilities": {"workspace": {"configuration": True}}, "initializationOptions": {},
        })
        server.notify("initialized", {})
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": before_text}})
        before = server.wait_for("netviz/diagram", uri, seen)
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                                 "contentChanges": [{"text": wide}]})
        server.notify("textDocument/didSave", {"textDocument": {"uri": uri, "text": wide}})
        after = server.wait_for("netviz/diagram", uri, seen)
        while after.get("version") != 2:
            after = server.wait_for("netviz/diagram", uri, seen)
    finally:
        server.close()
    for diagram in (before, after):
        diagram["uri"] = f"file:///workspace/{path.name}"
    changed = next(m for m in after["models"] if m["factory"] == "construct_model")["changes"]
    assert changed and changed["params_delta"] > 0, f"no changes recorded: {changed}"
    for name, diagram in (("changes.before", before), ("changes", after)):
        (HERE / "fixtures" / f"{name}.diagram.json").write_text(json.dumps(diagram, indent=1, ensure_ascii=False) + "\n")
    print(f"changes.diagram.json: construct_model {changed}")


if __name__ == "__main__":
    for name in sys.argv[1:] or [*MODELS, "changes"]:
        record_changes() if name == "changes" else record(name)
