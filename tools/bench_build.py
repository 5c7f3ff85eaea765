"""Benchmark the whole site build against a plain mkdocs-material build of the same Markdown.

    python tools/bench_build.py --n 1000 [--n 10000] [--repeat 3] [--seed 0] [--keep DIR]

For each N it generates a synthetic knowledge base (tools/synth.py), then measures, side
by side in one run:

* our full build (`mkdocs build` with the postmortems plugin) and a plain build of the
  same Markdown bodies (one page per incident, same theme, same search plugin, the same
  nav with one-line pages, incidents kept out of the nav as ours are): wall time and peak
  memory of each build process, `--repeat` times each, alternated, medians reported;
* site bytes per incident for both, and the size of search/search_index.json;
* a `mkdocs serve` rebuild after editing one incident (the plugin instance and its caches
  persist across rebuilds, as in `mkdocs serve`), next to the first build of that process;
* `pmkb validate` throughput.

The plain build is the floor for rendering those pages: what MkDocs and the theme cost
before our plugin adds anything. Timings are wall clock on whatever else the machine does,
so run it on an idle machine and read ratios rather than absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402  (tools/ is not a package)

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": "1795000000"}


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in bytes, output) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-3000:]}")
    return wall, usage.ru_maxrss * 1024, out


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def plain_copy(kb: Path, out: Path) -> None:
    """The same Markdown bodies as plain MkDocs pages: the floor our build is held to."""
    docs = out / "docs"
    (docs / "incidents").mkdir(parents=True)
    for path in sorted((kb / "incidents").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---\n", 2)
        meta = yaml.safe_load(front)
        page = docs / "incidents" / path.relative_to(kb / "incidents")
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"# {meta['id']}: {meta['title']}\n\n{body}", encoding="utf-8")
    config = yaml.safe_load((kb / "mkdocs.yml").read_text(encoding="utf-8"))
    # The same nav as ours, its pages one line each: the theme renders the nav on every
    # page, so a plain site with a shorter nav would be a lower floor than the same site.
    for entry in config["nav"]:
        (title, target), = entry.items()
        (docs / target).parent.mkdir(parents=True, exist_ok=True)
        (docs / target).write_text(f"# {title}\n", encoding="utf-8")
    config["plugins"] = ["search"]
    config["not_in_nav"] = "/incidents/"
    config.pop("validation", None)
    (out / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


REBUILD = r"""
import json, sys, time
from pathlib import Path
from mkdocs.config import load_config
from mkdocs.commands.build import build
target = Path(sys.argv[1])
def once():
    cfg = load_config("mkdocs.yml", site_dir="site-serve")
    t = time.perf_counter(); build(cfg); return time.perf_counter() - t
cfg = load_config("mkdocs.yml", site_dir="site-serve")
cfg.plugins.on_startup(command="serve", dirty=False)   # as `mkdocs serve` does, once
t = time.perf_counter(); build(cfg); first = time.perf_counter() - t
target.write_text(target.read_text(encoding="utf-8") + "\nOne more sentence, added while previewing.\n", encoding="utf-8")
second = once()
print(json.dumps({"first": first, "rebuild": second}))
"""


def measure(n: int, seed: int, keep: Path | None, rebuild_up_to: int, repeat: int = 1) -> dict:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix=f"pmkb-bench-{n}-", dir=keep))
    kb, plain = base / "kb", base / "plain"
    t = time.perf_counter()
    synth.generate(n, kb, seed=seed)
    gen = time.perf_counter() - t
    # The site's own sections in the nav, as a real knowledge base has them (mkdocs.yml of
    # this repository); without a nav MkDocs nests every folder into its own section.
    config = yaml.safe_load((kb / "mkdocs.yml").read_text(encoding="utf-8"))
    config["nav"] = [{"Home": "index.md"}, {"Incidents": "incidents/index.md"}, {"Categories": "categories/index.md"},
                     {"Trends": "trends/index.md"}, {"Actions": "actions/index.md"}, {"Graph": "graph/index.md"}]
    (kb / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    plain_copy(kb, plain)
    mk = [sys.executable, "-m", "mkdocs", "build", "-q", "-d", "site"]
    # Alternated, so that whatever else the machine does slows both alike; medians reported.
    runs: dict[str, list[tuple[float, int]]] = {"ours": [], "plain": []}
    for _ in range(repeat):
        runs["ours"].append(run_measured(mk, kb)[:2])
        runs["plain"].append(run_measured(mk, plain)[:2])
    ours_t = statistics.median(t for t, _ in runs["ours"])
    plain_t = statistics.median(t for t, _ in runs["plain"])
    ours_mem = max(m for _, m in runs["ours"])
    plain_mem = max(m for _, m in runs["plain"])
    val_t, _, _ = run_measured([sys.executable, "-m", "pmkb.cli", "validate"], kb)
    victim = sorted((kb / "incidents").rglob("*.md"))[n // 2]
    rebuild = {"first": float("nan"), "rebuild": float("nan")}
    if n <= rebuild_up_to:
        _, _, rb_out = run_measured([sys.executable, "-c", REBUILD, str(victim)], kb)
        rebuild = json.loads(rb_out.strip().splitlines()[-1])
    row = {
        "n": n, "generate_s": gen,
        "ours_s": ours_t, "plain_s": plain_t, "repeat": repeat,
        "ours_runs_s": [t for t, _ in runs["ours"]], "plain_runs_s": [t for t, _ in runs["plain"]],
        "ours_peak_mb": ours_mem / 2**20, "plain_peak_mb": plain_mem / 2**20,
        "ours_bytes_per_incident": tree_bytes(kb / "site") / n,
        "plain_bytes_per_incident": tree_bytes(plain / "site") / n,
        "ours_search_index_bytes": (kb / "site" / "search" / "search_index.json").stat().st_size,
        "plain_search_index_bytes": (plain / "site" / "search" / "search_index.json").stat().st_size,
        "incidents_json_bytes": (kb / "site" / "incidents.json").stat().st_size,
        "incident_page_bytes": (kb / "site" / "incidents" / victim.stem.lower() / "index.html").stat().st_size,
        "plain_page_bytes": (plain / "site" / "incidents" / victim.relative_to(kb / "incidents").with_suffix("") / "index.html").stat().st_size,
        "validate_s": val_t, "serve_first_s": rebuild["first"], "serve_rebuild_s": rebuild["rebuild"],
    }
    if keep is None:
        shutil.rmtree(base, ignore_errors=True)
    return row


def table(rows: list[dict]) -> str:
    def f(x: float, d: int = 1) -> str:
        return "not measured" if x != x else f"{x:,.{d}f}"   # NaN: not measured at this N
    lines = ["| figure | " + " | ".join(f"N = {r['n']:,}" for r in rows) + " |",
             "|---|" + "---:|" * len(rows)]

    def line(label: str, fn) -> None:
        lines.append(f"| {label} | " + " | ".join(fn(r) for r in rows) + " |")
    line("our full build (s; median)", lambda r: f(r["ours_s"]))
    line("plain mkdocs-material build (s; median)", lambda r: f(r["plain_s"]))
    line("**ratio** (target <= 1.3)", lambda r: f"**{r['ours_s'] / r['plain_s']:.2f}**")
    line("our site, bytes per incident", lambda r: f(r["ours_bytes_per_incident"], 0))
    line("plain site, bytes per incident", lambda r: f(r["plain_bytes_per_incident"], 0))
    line("**ratio** (target <= 1.2)", lambda r: f"**{r['ours_bytes_per_incident'] / r['plain_bytes_per_incident']:.2f}**")
    line("of ours: incidents.json, bytes per incident", lambda r: f(r["incidents_json_bytes"] / r["n"], 0))
    line("our incident page / plain page (bytes)", lambda r: f"{r['incident_page_bytes']:,} / {r['plain_page_bytes']:,}")
    line("search_index.json, ours (MB)", lambda r: f(r["ours_search_index_bytes"] / 2**20))
    line("search_index.json, plain (MB)", lambda r: f(r["plain_search_index_bytes"] / 2**20))
    line("search index per incident, ours (bytes)", lambda r: f(r["ours_search_index_bytes"] / r["n"], 0))
    line("peak memory, ours (MB; target < 2048)", lambda r: f(r["ours_peak_mb"], 0))
    line("peak memory, plain (MB)", lambda r: f(r["plain_peak_mb"], 0))
    line("serve: first build in the process (s)", lambda r: f(r["serve_first_s"]))
    line("serve: rebuild after editing one incident (s)", lambda r: f(r["serve_rebuild_s"]))
    line("`pmkb validate`, whole CLI run (s)", lambda r: f(r["validate_s"], 2))
    line("`pmkb validate`, incidents per second", lambda r: f(r["n"] / r["validate_s"], 0))
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        lines.append(f"\nGrowth of our build time from N = {a['n']:,} to {b['n']:,}: "
                     f"{b['ours_s'] / a['ours_s']:.1f}-fold for {b['n'] / a['n']:.0f}-fold the incidents "
                     f"(plain: {b['plain_s'] / a['plain_s']:.1f}-fold).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, action="append", help="incidents (repeat for several sizes)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated sites under this folder")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    ap.add_argument("--repeat", type=int, default=1, help="builds of each kind per N, alternated; medians reported")
    ap.add_argument("--rebuild-up-to", type=int, default=10**9,
                    help="measure the serve rebuild only up to this N (it builds the site twice more)")
    args = ap.parse_args(argv)
    sizes = args.n or [1000]
    rows = [measure(n, args.seed, args.keep, args.rebuild_up_to, args.repeat) for n in sizes]
    flags = " ".join(f"--n {n}" for n in sizes) + (f" --rebuild-up-to {args.rebuild_up_to}" if args.rebuild_up_to < 10**9 else "")
    flags += f" --repeat {args.repeat}" if args.repeat > 1 else ""
    print(f"`python tools/bench_build.py {flags}` on "
          f"{platform.node() or 'this machine'}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}\n")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
