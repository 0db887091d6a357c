"""Record the groups fixtures: real builds of ResNet50 and NASNetLarge, drawn as the server draws them.

    ../.venv/bin/python test/record-groups.py        # from editor-client/

For each model, `netviz render FILE --factory F --format json` builds it in the real worker
(groups and memory attached there), and the renderer draws it as `netviz/diagram` and
`netviz.renderView` would (default settings): the default drawing, and for every group
that is not a nested model's (NASNetLarge: two of them) the drawing with it and the groups above it expanded, keyed
as the HTML export keys them (sorted ids joined by ","). Written as
test/fixtures/<name>.groups.json: {"diagram": DiagramParams, "expansions": {key: svg}, "macs": layerMacs}.
"""

from __future__ import annotations

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


if __name__ == "__main__":
    for name in sys.argv[1:] or MODELS:
        record(name)
