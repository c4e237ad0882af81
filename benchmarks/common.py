"""Shared helpers of the analytics benchmarks: a cached synthetic store, timed child processes,
JSON and markdown output.

Not a test and not part of npldesk. The benchmark scripts beside this file import it; it
imports npldesk only inside the functions that build a store, so a measured child process that
does not need npldesk does not pay for importing it.

- ``synthetic_store(work, loans, months)``: the ``huaibei`` book of ``loans`` opening loans over
  ``months`` month-ends from January 2018, generated as Parquet and imported month by month into
  a raw store (no derived data) under ``work/book-<loans>x<months>/store``. A finished store is
  marked by ``ready.json`` and reused by later runs; an unfinished one is built again. The
  generated files are deleted once imported: the store is the cache.
- ``fresh_copy(store, target)``: a copy of a store without its derived (classified) data, the
  snapshot and organisation files hard-linked (the store never rewrites a file in place, so the
  cached store is safe), the manifest copied without its ``derived`` section.
- ``run_child(argv)``: runs a fresh Python process and measures its wall time, its own peak
  resident memory (``ru_maxrss`` from ``os.wait4``: exact, kernel-kept) and the peak of the
  summed resident memory of its whole process tree (every process whose parent chain or process
  group leads to the child, sampled from ``/proc`` every ``interval`` seconds: this is what
  counts a JVM that PySpark starts below the child; Java processes are also summed on their own).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

START = date(2018, 1, 31)
STORE_VERSION = 1  # bump when the way a cached store is built changes
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def default_work() -> Path:
    """Where synthetic stores are cached between runs unless ``--work`` says otherwise."""
    return Path(os.environ.get("TMPDIR", "/tmp")) / "npldesk-bench"


def say(message: str) -> None:
    """Progress, to stderr (stdout carries the final JSON only)."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# -- the cached synthetic store -----------------------------------------------------------


@dataclass(frozen=True)
class BenchStore:
    """A raw synthetic store: snapshots and organisation file, no derived data."""

    path: Path
    loans: int
    months: int
    rows: int
    first: str
    last: str
    built_seconds: float | None = None  # None when reused from an earlier run

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def synthetic_store(work: Path, loans: int, months: int, *, start: date = START) -> BenchStore:
    """The raw store of ``loans`` × ``months``, built (generate → import) unless cached."""
    base = work / f"book-{loans}x{months}"
    store_path = base / "store"
    marker = base / "ready.json"
    wanted = {"version": STORE_VERSION, "loans": loans, "months": months, "start": str(start)}
    if marker.exists():
        recorded = json.loads(marker.read_text())
        if {k: recorded.get(k) for k in wanted} == wanted and (
            store_path / "manifest.json"
        ).exists():
            say(f"reusing the cached store {store_path} ({recorded['rows']:,} rows)")
            return BenchStore(
                store_path, loans, months, recorded["rows"], recorded["first"], recorded["last"]
            )
    if base.exists():
        say(f"removing the unfinished store {base}")
        shutil.rmtree(base)
    base.mkdir(parents=True)
    started = time.perf_counter()

    from npldesk.synth import generate
    from npldesk.tape.importer import ImportOptions, import_files
    from npldesk.tape.org import import_org
    from npldesk.tape.store import Store

    say(f"generating {loans:,} opening loans × {months} months (Parquet) in {base / 'synth'}")
    shown = [-1]

    def generating(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth != shown[0]:
            shown[0] = tenth
            say(f"  generated {done}/{total} block-months")

    result = generate(
        base / "synth",
        loans=loans,
        months=months,
        start=start,
        file_format="parquet",
        progress=generating,
    )
    store = Store(store_path)
    import_org(store, result.org_file)
    # One month per import, as a bank imports them: memory stays that of one month.
    for index, tape in enumerate(result.tape_files, start=1):
        say(f"importing {tape.name} ({index}/{len(result.tape_files)})")
        import_files(store, [tape], ImportOptions())
        tape.unlink()  # the store is the cache: the generated file is not needed any more
    snapshots = store.snapshots()
    rows = sum(s.rows for s in snapshots)
    built = round(time.perf_counter() - started, 1)
    first, last = snapshots[0].as_of.isoformat(), snapshots[-1].as_of.isoformat()
    marker.write_text(
        json.dumps(wanted | {"rows": rows, "first": first, "last": last, "seconds": built}) + "\n"
    )
    say(f"store ready: {rows:,} rows in {len(snapshots)} snapshots, built in {built} s")
    return BenchStore(store_path, loans, months, rows, first, last, built)


def fresh_copy(store: Path, target: Path) -> Path:
    """``target``: the store at ``store`` without derived data (files hard-linked)."""
    if target.exists():
        shutil.rmtree(target)
    manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("derived", None)
    files = [entry["file"] for entry in manifest["snapshots"].values()]
    if manifest.get("org"):
        files.append(manifest["org"]["file"])
    for relative in files:
        source, copy = store / relative, target / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, copy)
        except OSError:  # another file system: copy
            shutil.copy2(source, copy)
    (target / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return target


def warm_cache(folder: Path) -> None:
    """Read every file under ``folder`` once, untimed: each run starts with its input in the
    page cache. Without it the order of runs decides: a run after one that took 13 GB (the
    pandas of the asset-quality benchmark) read a store the kernel had dropped from memory."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(1 << 24):
                    pass


def runs_folder(work: Path, book: BenchStore) -> Path:
    """Where the runs on one book keep their copies, outputs and scratch files."""
    folder = work / "runs" / f"{book.loans}x{book.months}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def raw_files(store: Path) -> tuple[list[str], str]:
    """The snapshot files (in month order) and the organisation file the manifest names."""
    manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    snapshots = [
        str(store / manifest["snapshots"][k]["file"]) for k in sorted(manifest["snapshots"])
    ]
    return snapshots, str(store / manifest["org"]["file"])


# -- measuring a child process ------------------------------------------------------------


def _read_proc(pid: int) -> tuple[int, int, int, str] | None:
    """(parent pid, process group, resident bytes, command name) of ``pid``; None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode(errors="replace")
        with open(f"/proc/{pid}/statm", "rb") as handle:
            resident_pages = int(handle.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    rest = stat[stat.rindex(")") + 2 :].split()
    return int(rest[1]), int(rest[2]), resident_pages * PAGE_SIZE, name


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process tree every ``interval`` seconds until stopped."""

    def __init__(self, root: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak = 0
        self.java_peak = 0
        self.most_processes = 0
        self.samples = 0
        self._halt = threading.Event()

    def sample(self) -> None:
        procs: dict[int, tuple[int, int, int, str]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                info = _read_proc(int(entry))
                if info is not None:
                    procs[int(entry)] = info
        members = {pid for pid, info in procs.items() if info[1] == self.root}
        members.add(self.root)
        grew = True
        while grew:  # descendants by parent pid, in case one left the process group
            before = len(members)
            members |= {pid for pid, info in procs.items() if info[0] in members}
            grew = len(members) > before
        present = [procs[pid] for pid in members if pid in procs]
        total = sum(info[2] for info in present)
        java = sum(info[2] for info in present if info[3] == "java")
        self.peak = max(self.peak, total)
        self.java_peak = max(self.java_peak, java)
        self.most_processes = max(self.most_processes, len(present))
        self.samples += 1

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()


@dataclass
class ChildRun:
    """What one measured child process took."""

    seconds: float
    peak_rss_mib: float  # the child's own peak (ru_maxrss)
    tree_peak_rss_mib: float  # the peak of the summed RSS of the child and its descendants
    java_peak_rss_mib: float  # of that, the Java processes (Spark's JVM)
    samples: int
    processes: int
    report: dict[str, Any] = field(default_factory=dict)  # what the child wrote to its report


def run_child(
    argv: Sequence[str],
    *,
    report: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.5,
) -> ChildRun:
    """Run ``python argv…`` in a fresh process (its own process group, stdout sent to stderr,
    working folder ``cwd``: DuckDB spills to ``.tmp`` and Spark writes its scratch folders
    there) and measure it; ``report`` is a JSON file the child writes, read back into the
    result."""
    if report is not None and report.exists():
        report.unlink()
    environment = dict(os.environ if env is None else env)
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setpgid(0, 0)
            if cwd is not None:
                os.chdir(cwd)
            os.dup2(2, 1)  # the parent's stdout is for the final JSON only
            os.execve(sys.executable, [sys.executable, *argv], environment)
        finally:
            os._exit(127)
    sampler = TreeSampler(pid, interval)
    sampler.start()
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    sampler.stop()
    sampler.join()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"benchmark child failed (exit {code}): {' '.join(argv)}")
    result = ChildRun(
        seconds=round(elapsed, 3),
        peak_rss_mib=round(usage.ru_maxrss / 1024, 1),
        tree_peak_rss_mib=round(max(sampler.peak, usage.ru_maxrss * 1024) / MIB, 1),
        java_peak_rss_mib=round(sampler.java_peak / MIB, 1),
        samples=sampler.samples,
        processes=sampler.most_processes,
    )
    if report is not None:
        result.report = json.loads(report.read_text(encoding="utf-8"))
    return result


class ChildClock:
    """Inside a child: seconds since the process started, and named steps."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.steps: dict[str, float] = {}
        self._last = self.start

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.steps[name] = round(now - self._last, 3)
        self._last = now

    def total(self) -> float:
        return round(time.perf_counter() - self.start, 3)


# -- output -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """The machine and versions a result was measured on (load average: others' work too)."""
    versions: dict[str, str] = {}
    for module in ("duckdb", "ibis", "pandas", "pyarrow", "pyspark"):
        with contextlib.suppress(Exception):
            versions[module] = __import__(module).__version__
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * PAGE_SIZE / 1024**3, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        **versions,
    }


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def publish(name: str, result: dict[str, Any], markdown: str, work: Path) -> None:
    """JSON to stdout, the markdown table to stderr, both also kept under ``work/results``."""
    results = work / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    (results / f"{name}-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    (results / f"{name}-{stamp}.md").write_text(markdown + "\n")
    print(json.dumps(result, indent=2), flush=True)
    print("\n" + markdown + "\n", file=sys.stderr, flush=True)
    say(f"results kept in {results / f'{name}-{stamp}'}.json and .md")


def verdict(measured: float | None, limit: float, *, at_most: bool = True) -> str:
    """``met`` / ``missed`` against a target (``n/a`` without a measurement)."""
    if measured is None:
        return "n/a"
    ok = measured <= limit if at_most else measured >= limit
    return "met" if ok else "missed"


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def psql(server: str, sql: str) -> None:
    """Run one statement on the server's maintenance database (``psql``, as installed)."""
    subprocess.run(["psql", f"{server}/postgres", "-qc", sql], check=True)


@contextmanager
def scratch_casework_database(server: str, database: str, *, keep: bool) -> Iterator[None]:
    """A fresh PostgreSQL database with Django set up and casework migrated on it; dropped
    afterwards unless ``keep``."""
    psql(server, f"DROP DATABASE IF EXISTS {database}")
    psql(server, f"CREATE DATABASE {database}")
    os.environ["NPLDESK_DATABASE_URL"] = f"{server}/{database}"
    os.environ["NPLDESK_HOME"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / "npldesk-bench-home")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npldesk.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            psql(server, f"DROP DATABASE IF EXISTS {database}")
