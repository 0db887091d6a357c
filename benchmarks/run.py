"""NetViz against the anchor, measured in the same run on this machine.

    .venv/bin/python benchmarks/run.py [--quick]

Drives the real language server over stdio as an editor does (didChange + didSave,
or didChange alone for an unsaved edit, then waits for ``netviz/diagram``), times the
cold anchor script (import TensorFlow, build, ``keras.utils.plot_model``) in the same
run, for the CNNs and for NASNetLarge, prints a table of median, p90, ratio and RSS for
every target of issues 7 and 14, and writes it to ``benchmarks/results.md`` with the
machine's description. Where a target of issue 14 is missed, a row says where the time
went. A script, not a test: timings never fail a build.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lsp_session import Session  # noqa: E402

from netviz_lsp.discovery import discover, slice_module  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CNNS = ("construct_model", "sconstruct_model", "cconstruct_model")
ANCHOR = """
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, {folder!r})
import keras
from {module} import {factory}
model = {factory}({args})
keras.utils.plot_model(model, to_file={png!r}, show_shapes=True)
"""
CANCEL = '''"""A classifier whose factory first waits for its input pipeline to warm up."""

import time

import keras
from keras import layers

WARMUP_SECONDS = {seconds}


def build_classifier():
    open("building.marker", "w").close()
    time.sleep(WARMUP_SECONDS)
    return keras.Sequential([keras.Input((32,)), layers.Dense(64, activation="relu"), layers.Dense(10)])
'''
LONG_BUILD_S = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def split_factories(source_path: Path, folder: Path) -> dict[str, tuple[Path, str]]:
    """One file per factory, holding just its slice (what a user's single-model file looks like).

    Arguments that came from a top-level call stay in a ``__main__`` block, where NetViz
    still finds them and importing the file (the anchor does) builds nothing.
    """
    source = source_path.read_text()
    found = discover(source, str(source_path))
    files = {}
    for factory in found.factories:
        path = folder / f"bench_{factory.name}.py"
        text = ast.unparse(slice_module(source, factory.slice, str(source_path))) + "\n"
        if factory.args:
            text += f"\n\nif __name__ == '__main__':\n    model = {factory.name}({factory.args})\n"
        path.write_text(text)
        files[factory.name] = (path, factory.args or "")
    return files


def edited(text: str, i: int) -> str:
    """The i-th edit: a comment above the factory shifts every line, so the factory must be rebuilt."""
    return f"# edit {i}\n" + text


async def save_latencies(session: Session, path: Path, runs: int) -> tuple[list[float], dict]:
    text = path.read_text()
    uri, version = session.open(path)
    payload = await asyncio.wait_for(session.expect(uri, version), 600)
    times = []
    for i in range(runs):
        future = session.expect(uri, session.versions[uri] + 1)
        started = time.perf_counter()
        session.save(path, edited(text, i % 2 + 1) if i % 2 == 0 else text)
        payload = await asyncio.wait_for(future, 600)
        times.append((time.perf_counter() - started) * 1000)
    return times, payload


def worker_rss(server_pid: int | None) -> tuple[int, int]:
    """(current RSS, peak RSS) in MB of the server's largest worker."""
    best = (0, 0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if b"netviz_lsp.worker" not in cmdline:
                continue
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if server_pid and int(fields["PPid"].strip()) != server_pid:
            continue
        rss = int(fields["VmRSS"].split()[0]) // 1024
        peak = int(fields["VmHWM"].split()[0]) // 1024
        best = max(best, (rss, peak))
    return best


def anchor_runs(folder: Path, factory: str, args: str, runs: int, module: str = "") -> list[float]:
    script = folder / f"anchor_{factory}.py"
    script.write_text(ANCHOR.format(folder=str(folder), module=module or f"bench_{factory}", factory=factory,
                                    args=args, png=str(folder / f"anchor_{factory}.png")))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, str(script)], check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return times


def import_ms(runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import keras"], check=True, capture_output=True,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure_requests(session: Session, path: Path, lines: list[int], seconds: float) -> list[float]:
    """Hover, inlay hint and code lens latencies (ms), round-robin for ``seconds``."""
    uri = path.as_uri()
    doc = types.TextDocumentIdentifier(uri=uri)
    whole = types.Range(start=types.Position(0, 0), end=types.Position(len(path.read_text().splitlines()), 0))
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline or len(times) < 30:
        line = lines[i % len(lines)]
        started = time.perf_counter()
        if i % 3 == 0:
            await session.client.text_document_hover_async(
                types.HoverParams(text_document=doc, position=types.Position(line - 1, 8)))
        elif i % 3 == 1:
            await session.client.text_document_inlay_hint_async(types.InlayHintParams(text_document=doc, range=whole))
        else:
            await session.client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))
        times.append((time.perf_counter() - started) * 1000)
        i += 1
    return times


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, measure: str, target: str, median: str, p90: str, anchor: str, ratio: str, rss: str, met: bool | None):
        verdict = "—" if met is None else ("met" if met else "MISSED")
        self.rows.append((measure, target, median, p90, anchor, ratio, rss, verdict))
        print(" | ".join(self.rows[-1]), flush=True)

    def markdown(self) -> str:
        head = ("measure", "target", "NetViz median", "p90", "anchor median", "ratio", "worker RSS", "verdict")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


async def typed_latencies(session: Session, path: Path, runs: int) -> tuple[list[float], dict]:
    """Unsaved edits (didChange alone) of an open file: from the edit to its diagram, idle delay included."""
    text = path.read_text()
    uri = path.as_uri()
    times, payload = [], {}
    for i in range(runs):
        future = session.expect(uri, session.versions[uri] + 1)
        started = time.perf_counter()
        session.type(path, edited(text, i % 2 + 3) if i % 2 == 0 else text)
        payload = await asyncio.wait_for(future, 600)
        times.append((time.perf_counter() - started) * 1000)
    return times, payload


def where_time_goes(table: Table, what: str, median: float, payload: dict) -> None:
    """A row under a missed target: the worker's Keras build, the server's discovery and drawing
    (its ``elapsed_ms`` less the build), and what is left (idle delay, scheduling, transport)."""
    build = sum(m["graph"]["build"]["ms"] for m in payload.get("models", []))
    server = payload.get("elapsed_ms") or 0.0
    backend = ", ".join(sorted({str(m["graph"]["build"].get("backend")) for m in payload.get("models", [])}))
    table.add(f"  where {what}'s time goes", "", f"Keras build {build:.0f} ms ({backend})",
              f"discovery + draw {server - build:.0f} ms", "", "", f"rest {median - server:.0f} ms", None)


async def cancel_latencies(session: Session, work: Path, runs: int) -> list[float]:
    """A build of LONG_BUILD_S seconds in flight, then an edit: from the edit to the new text's diagram."""
    path, marker = work / "cancel_me.py", work / "building.marker"
    fast, slow = CANCEL.format(seconds=0), CANCEL.format(seconds=LONG_BUILD_S)
    path.write_text(fast)
    uri, version = session.open(path)
    await asyncio.wait_for(session.expect(uri, version), 600)
    times = []
    for i in range(runs):
        await asyncio.sleep(8)  # the worker the last run replaced has imported Keras again: a warm spare
        marker.unlink(missing_ok=True)
        session.save(path, slow + f"# run {i}\n")
        while not marker.exists():  # the long build is running in the worker
            await asyncio.sleep(0.01)
        future = session.expect(uri, session.versions[uri] + 1)
        started = time.perf_counter()
        session.type(path, fast + f"# run {i}\n")
        await asyncio.wait_for(future, 600)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def backend_rows(table: Table, work: Path, files: dict[str, Path], runs: int) -> None:
    """The same saves on TensorFlow and on JAX (``build.backend``), each in a fresh server."""
    found: dict[tuple[str, str], tuple[float, float, str]] = {}
    for backend in ("tensorflow", "jax"):
        session = Session(work, {"build": {"backend": backend}})
        await session.start()
        for name, path in files.items():
            times, payload = await save_latencies(session, path, runs)
            build = sum(m["graph"]["build"]["ms"] for m in payload["models"])
            used = ",".join(sorted({str(m["graph"]["build"].get("backend")) for m in payload["models"]})) or "none"
            found[(name, backend)] = (statistics.median(times), build, used)
        await session.stop()
    for name in files:
        (tf_ms, tf_build, tf_used), (jax_ms, jax_build, jax_used) = found[(name, "tensorflow")], found[(name, "jax")]
        table.add(f"save → diagram, {name}: TensorFlow vs JAX", "(comparison)",
                  f"TF {tf_ms:.0f} ms (build {tf_build:.0f}, {tf_used})", f"JAX {jax_ms:.0f} ms (build {jax_build:.0f}, "
                  f"{jax_used})", "", f"JAX/TF {jax_ms / tf_ms:.2f}×", "", None)


async def main(quick: bool) -> None:
    runs = 5 if quick else 11
    work = Path(tempfile.mkdtemp(prefix="netviz-bench-"))
    cnn_files = split_factories(ROOT / "examples" / "seed_cnns.py", work)
    for name in ("nasnet_large.py", "transformer_6b.py"):
        shutil.copy(HERE / "models" / name, work / name)
    (work / "resnet50.py").write_text(
        "import keras\n\n\ndef resnet50():\n    return keras.applications.ResNet50(weights=None)\n")
    table = Table()
    print("measure | target | median | p90 | anchor | ratio | RSS | verdict")

    keras_import = import_ms()
    anchors = {name: anchor_runs(work, name, cnn_files[name][1], 3 if quick else 5) for name in CNNS}
    nasnet_anchor = statistics.median(anchor_runs(work, "nasnet_large", "", 1 if quick else 2, module="nasnet_large"))
    cnn_files = {name: path for name, (path, _) in cnn_files.items()}
    cnn_anchor = statistics.median(anchors["construct_model"])

    session = Session(work)
    await session.start()  # from the server process's start, as a user opening the editor waits
    uri, version = session.open(cnn_files["construct_model"])
    first = await asyncio.wait_for(session.expect(uri, version), 600)
    first_ms = (time.perf_counter() - session.started_at) * 1000
    handshake_ms = (session.initialized_at - session.started_at) * 1000
    table.add("server start → first diagram, construct_model", "≤ 0.5× cold script", f"{first_ms:.0f} ms", "",
              f"{cnn_anchor:.0f} ms", f"{first_ms / cnn_anchor:.2f}×", "", first_ms <= 0.5 * cnn_anchor)
    if first_ms > 0.5 * cnn_anchor:
        where_time_goes(table, "the first diagram", first_ms - handshake_ms, first)
        table.add("  (before that)", "", f"server start → initialize answered {handshake_ms:.0f} ms", "",
                  f"import keras (TF) alone {keras_import:.0f} ms", "", "", None)

    cnn_medians = {}
    for name in CNNS:
        times, payload = await save_latencies(session, cnn_files[name], runs)
        median, anchor = statistics.median(times), statistics.median(anchors[name])
        cnn_medians[name] = median
        table.add(f"save → diagram, {name}", "≤ 0.03× cold script", f"{median:.0f} ms",
                  f"{percentile(times, 0.9):.0f} ms", f"{anchor:.0f} ms", f"{median / anchor:.3f}×",
                  f"{worker_rss(session.server_pid())[0]} MB", median <= 0.03 * anchor)
        if median > 0.03 * anchor:
            where_time_goes(table, f"{name} save", median, payload)

    for name in CNNS:
        times, payload = await typed_latencies(session, cnn_files[name], runs)
        median, anchor = statistics.median(times), statistics.median(anchors[name])
        table.add(f"unsaved edit → diagram, {name}", "≤ 0.08× cold script (idle delay 150 ms included)",
                  f"{median:.0f} ms", f"{percentile(times, 0.9):.0f} ms", f"{anchor:.0f} ms",
                  f"{median / anchor:.3f}×", "", median <= 0.08 * anchor)
        if median > 0.08 * anchor:
            where_time_goes(table, f"{name} edit", median, payload)

    times, payload = await save_latencies(session, work / "resnet50.py", max(3, runs // 2))
    median = statistics.median(times)
    table.add("save → diagram, resnet50", "≤ 600 ms", f"{median:.0f} ms", f"{percentile(times, 0.9):.0f} ms",
              "", "", f"{worker_rss(session.server_pid())[0]} MB", median <= 600)
    times, payload = await save_latencies(session, work / "nasnet_large.py", max(3, runs // 2))
    median = statistics.median(times)
    table.add("save → diagram, nasnet_large", "≤ 0.5× cold script", f"{median:.0f} ms",
              f"{percentile(times, 0.9):.0f} ms", f"{nasnet_anchor:.0f} ms", f"{median / nasnet_anchor:.2f}×",
              f"{worker_rss(session.server_pid())[0]} MB", median <= 0.5 * nasnet_anchor)
    if median > 0.5 * nasnet_anchor:
        where_time_goes(table, "nasnet_large save", median, payload)

    # Hover, inlay hints and code lens while a NASNetLarge build runs.
    path = work / "nasnet_large.py"
    future = session.expect(path.as_uri(), session.versions[path.as_uri()] + 1)
    session.save(path, edited(path.read_text(), 7))
    construct = cnn_files["construct_model"]
    layer_lines = [i for i, line in enumerate(construct.read_text().splitlines(), 1) if "layers." in line]
    latencies = await measure_requests(session, construct, layer_lines, 1.5)
    await asyncio.wait_for(future, 600)
    p99 = percentile(latencies, 0.99)
    table.add("hover / inlay / lens during a build", "p99 ≤ 20 ms", f"{statistics.median(latencies):.1f} ms",
              f"p99 {p99:.1f} ms", "", "", f"n={len(latencies)}", p99 <= 20)

    # A crash, then the fix: the next diagram should cost no TensorFlow import.
    crash = work / "crashy.py"
    good = cnn_files["sconstruct_model"].read_text()
    crash.write_text(good)
    normal, _ = await save_latencies(session, crash, 3)
    broken = good.replace("model.compile(", "__import__('os')._exit(3)\n    model.compile(", 1)
    uri = crash.as_uri()
    future = session.expect(uri, session.versions[uri] + 1)
    session.save(crash, broken)
    await asyncio.wait_for(future, 600)
    future = session.expect(uri, session.versions[uri] + 1)
    started = time.perf_counter()
    session.save(crash, good)
    await asyncio.wait_for(future, 600)
    recovery = (time.perf_counter() - started) * 1000
    table.add("save after a crash", "≤ normal save + 1 s", f"{recovery:.0f} ms", "",
              f"normal {statistics.median(normal):.0f} ms", "", "", recovery <= statistics.median(normal) + 1000)

    # A superseded long build: the edit's diagram should not wait for it.
    cancels = await cancel_latencies(session, work, 3)
    median = statistics.median(cancels)
    table.add(f"edit → diagram with a {LONG_BUILD_S} s build in flight", "the old build is cancelled, not awaited",
              f"{median:.0f} ms", f"{max(cancels):.0f} ms", f"{LONG_BUILD_S * 1000} ms left to wait",
              f"{median / (LONG_BUILD_S * 1000):.2f}×", "", median < LONG_BUILD_S * 1000 / 2)

    # Memory over consecutive rebuilds.
    rebuilds = 60 if quick else 200
    path = cnn_files["construct_model"]
    text = path.read_text()
    rss_after_10 = 0
    for i in range(rebuilds):
        uri = path.as_uri()
        future = session.expect(uri, session.versions[uri] + 1)
        session.save(path, edited(text, i % 2 + 1))
        await asyncio.wait_for(future, 600)
        if i == 9:
            rss_after_10 = worker_rss(session.server_pid())[0]
    rss_end = worker_rss(session.server_pid())[0]
    growth = (rss_end - rss_after_10) / max(rss_after_10, 1) * 100
    table.add(f"worker RSS over {rebuilds} rebuilds", "grows ≤ 10 % after the first 10",
              f"{rss_after_10} → {rss_end} MB", "", "", f"{growth:+.1f} %", f"{rss_end} MB", growth <= 10)
    await session.stop()

    # The 6.7B transformer in a fresh server, so the peak RSS is its own.
    session = Session(work)
    await session.start()
    times, payload = await save_latencies(session, work / "transformer_6b.py", max(3, runs // 2))
    _, peak = worker_rss(session.server_pid())
    params = payload["models"][0]["graph"]["total_params"] if payload["models"] else 0
    median = statistics.median(times)
    table.add(f"save → diagram, transformer ({params / 1e9:.1f}B params)", "≤ 2000 ms, peak RSS ≤ 1.5 GB",
              f"{median:.0f} ms", f"{percentile(times, 0.9):.0f} ms", "plot_model: needs 27 GB", "",
              f"peak {peak} MB", median <= 2000 and peak <= 1536)
    await session.stop()

    # TensorFlow against JAX, the same files and saves.
    compared = {name: cnn_files[name] for name in CNNS}
    compared.update({name: work / f"{name}.py" for name in ("resnet50", "nasnet_large", "transformer_6b")})
    await backend_rows(table, work, compared, 3)
    shutil.rmtree(work, ignore_errors=True)
    write_results(table, quick)


def write_results(table: Table, quick: bool) -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    text = (f"# Benchmark results\n\nMachine: {os.cpu_count()} cores ({cpu}), {memory} GiB RAM, "
            f"Python {platform.python_version()}, {platform.platform()}.\n"
            f"Run: `benchmarks/run.py{' --quick' if quick else ''}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
            "The anchor is a cold script that imports TensorFlow, builds the model and calls "
            "`keras.utils.plot_model`, measured in the same run.\n\n" + table.markdown() + "\n")
    (HERE / "results.md").write_text(text)
    print(f"\nwrote {HERE / 'results.md'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    asyncio.run(main(parser.parse_args().quick))
