"""Benchmarks of the knowledge base on a synthetic set of incidents.

    python tools/benchmark.py validate --n 10000 [--seed 0] [--repeat 3] [--keep DIR]
    python tools/benchmark.py recurrence --n 10000 [--seed 0] [--repeat 3] [--keep DIR]

Each subcommand generates N incidents with tools/synth.py into a temporary folder (or
DIR), checks that they validate without an error or a warning, times its measures
`--repeat` times, interleaved so that a noisy neighbour hurts them alike, and prints a
Markdown table of the medians together with the command line and the machine.

`validate` compares the validator with the floor that any YAML-based tool pays:

(a) PyYAML's C loader on the front matter alone: `yaml.load(front, Loader=yaml.CSafeLoader)`
    for each of the N files, one process, the files already read into memory and the front
    matter already split from the body (neither reading nor splitting is timed);
(b) `pmkb validate` as a user runs it: the installed command, in a subprocess started in
    the knowledge base's folder, wall clock from start to exit, interpreter start-up and
    imports included;
(c) `Loader().load(settings)` in this process: what `mkdocs build` pays to read the
    knowledge base (every file read, checked and turned into an Incident, checks across
    files, ordering), settings already read.

A further subcommand plugs in the same way: a parser in main() and a function that takes
the parsed arguments and returns a Markdown section (make_kb, check_clean, Clock and
report are shared). The site build has its own script, tools/bench_build.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402  (tools/ is not a package)


@dataclass
class Row:
    key: str           # (a), (b), ...
    what: str
    seconds: list[float]      # wall clock of each run
    cpu: list[float]          # CPU seconds (user + system, this process and its children) of each run
    count: int                # incidents handled per run
    base: str | None = None   # key of the row it is compared with

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        return self.count / self.median if self.median else float("inf")


# -- shared helpers ----------------------------------------------------------------------

def pmkb_command() -> list[str]:
    """The installed `pmkb` next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name("pmkb")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("pmkb")
    if found:
        return [found]
    return [sys.executable, "-m", "pmkb.cli"]


class Clock:
    """Wall clock and CPU time (user + system, of this process and of the children it
    waited for) around a block: on a machine shared with others, the CPU time shows
    whether a slow wall clock came from the code or from the neighbours."""

    def __enter__(self) -> "Clock":
        self._cpu0 = self._cpu()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._t0
        self.cpu = self._cpu() - self._cpu0

    @staticmethod
    def _cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def machine_facts() -> dict[str, str]:
    facts = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    try:
        import yaml
        facts["pyyaml"] = f"{yaml.__version__} (libyaml {'yes' if yaml.__with_libyaml__ else 'no'})"
    except ImportError:  # pragma: no cover
        pass
    if hasattr(os, "getloadavg"):
        facts["load average at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return facts


def make_kb(n: int, seed: int, keep: Path | None) -> tuple[Path, float, Callable[[], None]]:
    """(root, seconds to generate, cleanup)."""
    if keep is not None:
        root = keep
        cleanup = lambda: None  # noqa: E731
    else:
        tmp = tempfile.mkdtemp(prefix="pmkb-bench-")
        root = Path(tmp) / "kb"
        cleanup = lambda: shutil.rmtree(tmp, ignore_errors=True)  # noqa: E731
    start = time.perf_counter()
    synth.generate(n, root, seed=seed)
    return root, time.perf_counter() - start, cleanup


def check_clean(root: Path, n: int) -> None:
    """Every generated incident must be valid with no warning: else the timings mean little."""
    proc = subprocess.run(pmkb_command() + ["validate", "--strict", "--format", "json"], cwd=root,
                          capture_output=True, text=True)
    diags = json.loads(proc.stdout or "[]") if proc.stdout.strip().startswith("[") else None
    if proc.returncode != 0 or diags:
        shown = (proc.stdout + proc.stderr)[:2000]
        raise SystemExit(f"benchmark: the generated knowledge base does not validate cleanly "
                         f"(exit {proc.returncode}):\n{shown}")
    counted = proc.stderr.strip()
    if counted and not counted.startswith(f"{n} incident"):
        raise SystemExit(f"benchmark: expected {n} valid incidents, pmkb said: {counted}")


def markdown_table(rows: list[Row], repeat: int) -> str:
    by_key = {r.key: r for r in rows}
    out = [f"| measure | what | wall, median of {repeat} (s) | wall, min (s) | incidents/s | ratio | CPU, median (s) |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = f"{r.median / by_key[r.base].median:.2f} x {r.base}" if r.base else "1"
        out.append(f"| {r.key} | {r.what} | {r.median:.2f} | {min(r.seconds):.2f} | {r.rate:,.0f} | {ratio} "
                   f"| {statistics.median(r.cpu):.2f} |")
    return "\n".join(out)


def report(title: str, body: str, facts: dict[str, str]) -> str:
    """A Markdown section: the command line, the results, then the machine (`facts` were
    taken when the run started; the load average at its end is added here)."""
    facts = dict(facts)
    if hasattr(os, "getloadavg"):
        facts["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__)] + sys.argv[1:])
    lines = [f"## {title}", "", f"Command: `{command}`", "", body, ""]
    lines += [f"- {k}: {v}" for k, v in facts.items()]
    return "\n".join(lines) + "\n"


# -- validate ----------------------------------------------------------------------------

def _fronts(root: Path) -> list[str]:
    from pmkb.frontmatter import decode, split
    from pmkb.kb import discover
    files, _ = discover((root / "incidents").resolve())
    return [split(decode(p.read_bytes())).front for p in files]


def time_bare_parse(fronts: list[str]) -> Clock:
    import yaml
    loader = yaml.CSafeLoader
    gc.collect()
    with Clock() as clock:
        for front in fronts:
            yaml.load(front, Loader=loader)
    return clock


def time_cli(root: Path) -> Clock:
    cmd = pmkb_command() + ["validate"]
    with Clock() as clock:
        proc = subprocess.run(cmd, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: pmkb validate exited {proc.returncode}: {proc.stderr.decode()[:2000]}")
    return clock


def time_load(root: Path, n: int) -> Clock:
    from pmkb.kb import Loader
    from pmkb.settings import load_settings
    settings = load_settings(root / "mkdocs.yml")
    gc.collect()
    with Clock() as clock:
        kb = Loader().load(settings)
    if len(kb.incidents) != n or kb.diagnostics:
        raise SystemExit(f"benchmark: Loader().load found {len(kb.incidents)} incidents and "
                         f"{len(kb.diagnostics)} diagnostics; expected {n} and none")
    del kb
    gc.collect()
    return clock


def cmd_validate(args: argparse.Namespace) -> str:
    facts = machine_facts()
    root, gen_seconds, cleanup = make_kb(args.n, args.seed, args.keep)
    try:
        check_clean(root, args.n)   # also warms the page cache and the interpreter's byte code
        fronts = _fronts(root)
        front_bytes = sum(len(f.encode()) for f in fronts)
        file_bytes = sum(p.stat().st_size for p in (root / "incidents").rglob("*.md"))
        a, b, c = [], [], []
        for _ in range(args.repeat):
            a.append(time_bare_parse(fronts))
            b.append(time_cli(root))
            c.append(time_load(root, args.n))
        rows = [
            Row("(a)", "PyYAML CSafeLoader, front matter only, in memory, 1 process",
                [x.wall for x in a], [x.cpu for x in a], args.n),
            Row("(b)", "`pmkb validate` subprocess, wall clock incl. start-up",
                [x.wall for x in b], [x.cpu for x in b], args.n, base="(a)"),
            Row("(c)", "`Loader().load(settings)` in process",
                [x.wall for x in c], [x.cpu for x in c], args.n, base="(a)"),
        ]
        facts["incidents"] = f"{args.n:,} (seed {args.seed}; generated in {gen_seconds:.1f} s)"
        facts["mean file size"] = (f"{file_bytes / args.n / 1024:.1f} KiB, of which front matter "
                                   f"{front_bytes / args.n / 1024:.1f} KiB")
        return report(f"Validation, {args.n:,} incidents", markdown_table(rows, args.repeat), facts)
    finally:
        cleanup()


# -- recurrence ---------------------------------------------------------------------------

def cmd_recurrence(args: argparse.Namespace) -> str:
    """Recurrence and fixes (SPEC section 6) on the loaded knowledge base, and the size of
    incidents.json they give: the two figures of issue 13."""
    from functools import partial

    from pmkb.exports import incidents_json
    from pmkb.graph import related_for
    from pmkb.kb import Loader
    from pmkb.metrics import compute_recurrence, failed_fixes, fixes_summary, recurrence
    from pmkb.settings import load_settings
    from pmkb.timestamps import today

    facts = machine_facts()
    root, gen_seconds, cleanup = make_kb(args.n, args.seed, args.keep)
    try:
        check_clean(root, args.n)
        settings = load_settings(root / "mkdocs.yml")
        kb = Loader().load(settings)
        incidents, window, tz = kb.incidents, settings.recurrence_window_days, settings.tz
        runs: dict[str, list[Clock]] = {"system": [], "category": []}
        results = {}
        for _ in range(args.repeat):
            for scope in runs:
                gc.collect()
                with Clock() as clock:
                    results[scope] = compute_recurrence(incidents, window, tz, scope)
                runs[scope].append(clock)
        # incidents.json as the site writes it (the knowledge base's own scope, `system`)
        out = Path(tempfile.mkdtemp(prefix="pmkb-bench-json-")) / "incidents.json"
        try:
            with Clock() as write_clock, out.open("wb") as fh:
                incidents_json(kb, partial(related_for, kb), partial(recurrence, kb), partial(failed_fixes, kb)).write(fh)
            size = out.stat().st_size
            records = json.loads(out.read_text(encoding="utf-8"))["incidents"]
        finally:
            shutil.rmtree(out.parent, ignore_errors=True)
        part = {key: sum(len(json.dumps(r[key], ensure_ascii=False, separators=(",", ":"))) for r in records)
                for key in ("recurrence_of", "failed_fixes", "related")}
        rows = []
        for scope, clocks in runs.items():
            data = results[scope]
            walls = [c.wall for c in clocks]
            rows.append(f"| `compute_recurrence`, scope `{scope}` | {statistics.median(walls):.3f} | {min(walls):.3f} "
                        f"| {statistics.median(c.cpu for c in clocks):.3f} "
                        f"| {sum(r.is_recurrence for r in data.incidents.values()) / args.n:.0%} "
                        f"| {sum(len(r.recurrence_of) for r in data.incidents.values()):,} "
                        f"| {len(data.fixes):,} | {sum(len(v) for v in data.failed.values()):,} |")
        fixes = fixes_summary(kb, today(tz))["overall"]
        body = "\n".join([
            f"| measure | wall, median of {args.repeat} (s) | wall, min (s) | CPU, median (s) | recurrence rate "
            "| `recurrence_of` entries | fixes | fixes that did not hold |",
            "|---|---:|---:|---:|---:|---:|---:|---:|", *rows, "",
            f"| incidents.json (scope `system`) | value |", "|---|---:|",
            f"| bytes | {size:,} |", f"| bytes per incident | {size / args.n:,.0f} |",
            f"| of which `recurrence_of`, per incident | {part['recurrence_of'] / args.n:,.0f} |",
            f"| of which `failed_fixes`, per incident | {part['failed_fixes'] / args.n:,.0f} |",
            f"| of which `related`, per incident | {part['related'] / args.n:,.0f} |",
            f"| written in (s, related incidents included) | {write_clock.wall:.2f} |",
            f"| fixes held / did not hold / pending (today {today(tz).isoformat()}) | "
            f"{fixes['held']:,} / {fixes['did_not_hold']:,} / {fixes['pending']:,} |",
        ])
        facts["incidents"] = f"{args.n:,} (seed {args.seed}; generated in {gen_seconds:.1f} s)"
        return report(f"Recurrence and fixes, {args.n:,} incidents", body, facts)
    finally:
        cleanup()


# -- entry point -------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmarks of pmkb on synthetic incidents.")
    sub = ap.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="validation against the bare YAML parse")
    r = sub.add_parser("recurrence", help="recurrence and fixes, and the size of incidents.json")
    for p, n, repeat in ((v, 10_000, 3), (r, 10_000, 3)):
        p.add_argument("--n", type=int, default=n, help=f"how many incidents (default {n})")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--repeat", type=int, default=repeat, help=f"runs of each measure; the median is reported (default {repeat})")
        p.add_argument("--keep", type=Path, default=None, metavar="DIR",
                       help="generate into DIR and keep it (default: a temporary folder, removed)")
    v.set_defaults(run=cmd_validate)
    r.set_defaults(run=cmd_recurrence)
    args = ap.parse_args(argv)
    print(args.run(args), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
