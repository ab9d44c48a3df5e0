"""IFC benchmark: our IFC → 3D Tiles conversion vs ifcopenshell's C++ glTF serializer (IfcConvert's engine).

No IfcConvert binary ships in the ifcopenshell wheel, so the anchor is what IfcConvert runs:
``ifcopenshell.geom.iterator`` (same kernel, same thread count, IfcSpace/IfcOpeningElement excluded
as IfcConvert does by default) feeding ``ifcopenshell.geom.serializers.gltf`` into one .glb.

Each tool runs as a child process; recorded: wall time, CPU time of the child and every
descendant it waited for (``getrusage(RUSAGE_CHILDREN)``; "cores busy" = CPU / wall), peak memory
summed over the child's process tree (proportional set size, so pages a forked child shares with
its parent count once; sampled from /proc every 0.1 s), output bytes (the .glb for the anchor;
tileset.json + glbs for ours) and the 1-minute load average before each run (other work on the
machine). Inputs: every corpus IFC and a generated model of ``--large`` elements
(``sample_models/make_ifc_samples.py:make_large_model``); ``--repeat`` runs each pair that many
times (anchor, ours[, ours-library], anchor, ...) and reports the median of the runs that succeeded,
and the median of the ratios of each anchor run to the ours run of the same repeat
(``paired_time_ratio``: a shared host's slower and faster minutes weigh on both sides of each ratio
alike; with ``--library``, ``ours-library`` runs after ``ours``, not right after the anchor). A run
that failed is left out of the ratios; the row counts it and keeps its error line.

Ours runs as the platform's workers run it: ``python -m converters IN OUT --options JSON``, progress
lines to stdout (discarded here). ``--library`` adds ``ours-library``: the converter called from this
script, as the anchor's serializer is, to show what the process set-up of ``converters/__main__`` does.
The wall time ends when the child is reaped (before 2026-12-03 it also took in up to 0.1 s of the
memory sampler's sleep, which scattered small files' times in steps of 0.1 s on both sides).

Both tools' children run with compiled bytecode, as an installed package does: the development
environment sets ``PYTHONDONTWRITEBYTECODE``, which made every run of ours compile the project's own
modules from source (~0.13 s CPU, a large share of a small file's time) while ifcopenshell's came
compiled. The children get ``PYTHONPYCACHEPREFIX`` (under ``--work``, the tree stays clean) and one
untimed warm-up run per tool fills it.

Run (long; in the background)::

    .venv/bin/python bench/bench_ifc.py --jobs 2 --large 50000 > bench/results/ifc.log 2>&1 &

Results: ``bench/results/ifc.json`` and a Markdown table on stdout; the figures and their history
are in ``bench/README.md`` (IFC section).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "ifc"
KERNEL = "opencascade"


def run_anchor(source: Path, out: Path, jobs: int) -> None:
    import ifcopenshell
    import ifcopenshell.geom

    model = ifcopenshell.open(str(source)) if source.suffix.lower() == ".ifc" else None
    if model is None:  # .ifczip: unpack like IfcConvert does
        import zipfile

        with zipfile.ZipFile(source) as zf:
            member = next(m for m in zf.namelist() if m.lower().endswith(".ifc"))
            target = out.parent / "anchor_input.ifc"
            target.write_bytes(zf.read(member))
        model = ifcopenshell.open(str(target))
    settings = ifcopenshell.geom.settings()
    serializer = ifcopenshell.geom.serializers.gltf(str(out), settings)
    serializer.setFile(model)
    serializer.writeHeader()
    iterator = ifcopenshell.geom.iterator(
        settings, model, jobs, geometry_library=KERNEL, exclude=("IfcSpace", "IfcOpeningElement")
    )
    if iterator.initialize():
        while True:
            serializer.write(iterator.get())
            if not iterator.next():
                break
    serializer.finalize()


def run_ours(source: Path, out: Path, jobs: int) -> None:
    """``ours-library``: the converter called from a script (this one)."""
    from converters.api import convert
    from converters.options import ConvertOptions

    convert(source, out, ConvertOptions(jobs=jobs, allow_ungeoreferenced=True))


def command(tool: str, source: Path, out: Path, jobs: int) -> list[str]:
    """The child's command line. ``ours`` is the conversion process the platform's workers start
    (``python -m converters``, progress lines to stdout); ``ours-library`` calls the converter from
    this script, as ``anchor`` runs the serializer."""
    if tool == "ours":
        options = json.dumps({"jobs": jobs, "allow_ungeoreferenced": True})
        return [sys.executable, "-m", "converters", str(source), str(out), "--options", options]
    return [sys.executable, __file__, "--run", tool, str(source), str(out), "--jobs", str(jobs)]


def _pss_kb(pid: int) -> int:
    """Proportional set size: pages shared between a parent and its forked child count once."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def _tree_rss_kb(root: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry), int(fields.get("PPid", "0").strip())
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _pss_kb(pid)
        stack.extend(children.get(pid, []))
    return total


def child_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    # this checkout's code, not whatever the environment's editable install points at (a worktree's
    # .venv is main's: its children imported /work/main's converters)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def measure(
    tool: str, source: Path, out: Path, jobs: int, timeout: float, env: dict[str, str] | None = None
) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    lines = out.parent / f"{out.name}.stdout"  # ours' progress lines, and its error line when it fails
    with lines.open("w") as stdout:
        process = subprocess.Popen(
            command(tool, source, out, jobs), stdout=stdout, stderr=subprocess.PIPE, text=True, env=env
        )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kb(process.pid))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    wall = time.perf_counter() - started  # before stopping the sampler: its wait is not the child's time
    stop.set()
    sampler.join()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child and every descendant it waited for
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if out.is_dir():
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name != "report.json")
    else:
        size = out.stat().st_size if out.exists() else 0
    return {
        "tool": tool,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 2),
        "cores_busy": round(cpu / wall, 2) if wall else None,
        "load_before": round(load_before, 2),
        "peak_pss_mb": round(peak / 1024, 1),
        "bytes": size,
        "exit": process.returncode,
        "error": _error(process.returncode, stderr, lines),
    }


def _error(code: int | None, stderr: str, stdout: Path) -> str | None:
    """The last line a failed child wrote: its traceback's, or ours' JSON error line (exit code 2)."""
    if not code:
        return None
    last = (stderr.strip() or stdout.read_text().strip() or f"exit code {code}").splitlines()[-1]
    return last[:200]


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time (lower median for an even count) among those that succeeded (all, if
    none did: the row then shows the error), with the range of wall times and the count of failures."""
    ordered = sorted([r for r in runs if r["exit"] == 0] or runs, key=lambda r: r["wall_s"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["wall_range_s"] = [ordered[0]["wall_s"], ordered[-1]["wall_s"]]
    middle["peak_range_mb"] = [min(r["peak_pss_mb"] for r in runs), max(r["peak_pss_mb"] for r in runs)]
    middle["failed_runs"] = sum(1 for r in runs if r["exit"] != 0)
    return middle


def _paired_ratio(anchor: list[dict[str, Any]], ours: list[dict[str, Any]]) -> float | None:
    """The median over repeats of ours / anchor, each pair run one after the other: the machine's
    slower and faster minutes (a shared host) weigh on both sides of each ratio alike."""
    ratios = sorted(
        o["wall_s"] / a["wall_s"]
        for a, o in zip(anchor, ours, strict=True)
        if a["wall_s"] and a["exit"] == 0 and o["exit"] == 0  # a run that failed fast is no speed-up
    )
    return round(ratios[(len(ratios) - 1) // 2], 3) if ratios else None


def _large_model(n: int, directory: Path) -> Path:
    path = directory / f"large_{n}.ifc"
    if not path.exists():
        spec = importlib.util.spec_from_file_location("samples", REPO / "sample_models" / "make_ifc_samples.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        module.make_large_model(path, n)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", nargs=3, metavar=("TOOL", "IN", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--large", type=int, default=50_000, help="elements of the generated model (0: none)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench_ifc")
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "results" / "ifc.json")
    parser.add_argument("--only", nargs="*", help="input file names to run (default: all)")
    parser.add_argument("--smallest", type=int, default=0, help="only the N smallest corpus files (0: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each pair; the median is reported")
    parser.add_argument(
        "--library", action="store_true", help="also run ours called from this script (ours-library), not as a process"
    )
    args = parser.parse_args()
    if args.run:
        tool, source, out = args.run
        (run_anchor if tool == "anchor" else run_ours)(Path(source), Path(out), args.jobs)  # ours-library
        return
    args.work.mkdir(parents=True, exist_ok=True)
    inputs = sorted(CORPUS.glob("*.ifc*"))
    if args.smallest:
        inputs = sorted(inputs, key=lambda p: p.stat().st_size)[: args.smallest]
    if args.large:
        inputs.append(_large_model(args.large, args.work))
    if args.only:
        inputs = [p for p in inputs if p.name in args.only]
    env = child_env(args.work)
    smallest = min(CORPUS.glob("*.ifc"), key=lambda p: p.stat().st_size)
    tools = ("anchor", "ours", "ours-library") if args.library else ("anchor", "ours")
    for tool in tools:  # untimed: fills the bytecode cache
        measure(tool, smallest, args.work / f"warmup.{tool}", args.jobs, args.timeout, env)
    rows = []
    for source in inputs:
        runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
        for _ in range(args.repeat):
            for tool in tools:
                out = args.work / (f"{source.stem}.anchor.glb" if tool == "anchor" else f"{source.stem}.{tool}")
                if out.is_dir():
                    shutil.rmtree(out)
                runs[tool].append(measure(tool, source, out, args.jobs, args.timeout, env))
        anchor, ours = (_median(runs[tool]) for tool in ("anchor", "ours"))
        row = {
            "input": source.name,
            "input_bytes": source.stat().st_size,
            "jobs": args.jobs,
            "anchor": anchor,
            "ours": ours,
            "time_ratio": round(ours["wall_s"] / anchor["wall_s"], 3) if anchor["wall_s"] else None,
            "paired_time_ratio": _paired_ratio(runs["anchor"], runs["ours"]),
            "cpu_ratio": round(ours["cpu_s"] / anchor["cpu_s"], 3) if anchor["cpu_s"] else None,
            "memory_ratio": round(ours["peak_pss_mb"] / anchor["peak_pss_mb"], 3) if anchor["peak_pss_mb"] else None,
            "bytes_ratio": round(ours["bytes"] / anchor["bytes"], 3) if anchor["bytes"] else None,
            "runs": runs,
        }
        if args.library:
            library = _median(runs["ours-library"])
            row["ours_library"] = library
            row["library_time_ratio"] = round(library["wall_s"] / anchor["wall_s"], 3) if anchor["wall_s"] else None
            row["library_paired_time_ratio"] = _paired_ratio(runs["anchor"], runs["ours-library"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(rows, indent=1))
    print(
        "\n| input | anchor s | ours s | time ratio | paired | anchor / ours cores busy | anchor / ours peak PSS MB | "
        "memory ratio | anchor / ours MB | load before |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        a, o = r["anchor"], r["ours"]
        print(
            f"| {r['input']} | {a['wall_s']} | {o['wall_s']} | **{r['time_ratio']}** | {r['paired_time_ratio']} | "
            f"{a['cores_busy']} / "
            f"{o['cores_busy']} | {a['peak_pss_mb']} / {o['peak_pss_mb']} | {r['memory_ratio']} | "
            f"{a['bytes'] / 1e6:.2f} / {o['bytes'] / 1e6:.2f} | {a['load_before']} / {o['load_before']} |"
        )


if __name__ == "__main__":
    main()
