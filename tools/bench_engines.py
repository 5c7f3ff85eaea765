"""Build time per site engine, side by side in one run: `pmkb build --engine X` for MkDocs,
ProperDocs and Zensical on the same synthetic knowledge base.

    python tools/bench_engines.py --n 1000 [--repeat 3] [--seed 0] [--keep DIR]

Each build is the whole command as a user runs it (a fresh process: load, validate, pages,
charts, exports; for Zensical also the staging and the finishing pass), with
SOURCE_DATE_EPOCH fixed. Engines are alternated `--repeat` times so that whatever else the
machine does slows them alike; medians, every run and peak memory of the process tree
(the largest single process) are reported, with the pages and bytes of each site.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402  (tools/ is not a package)
from bench_build import run_measured, tree_bytes  # noqa: E402

ENGINES = ("mkdocs", "properdocs", "zensical")


def measure(n: int, seed: int, repeat: int, keep: Path | None) -> dict:
    base = Path(tempfile.mkdtemp(prefix=f"pmkb-engines-{n}-", dir=keep))
    kb = base / "kb"
    synth.generate(n, kb, seed=seed)
    # The site's own sections in the nav, as this repository's mkdocs.yml has them.
    config = yaml.safe_load((kb / "mkdocs.yml").read_text(encoding="utf-8"))
    config["nav"] = [{"Home": "index.md"}, {"Incidents": "incidents/index.md"}, {"Categories": "categories/index.md"},
                     {"Trends": "trends/index.md"}, {"Actions": "actions/index.md"}, {"Graph": "graph/index.md"}]
    (kb / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    runs: dict[str, list[tuple[float, int]]] = {e: [] for e in ENGINES}
    for _ in range(repeat):
        for engine in ENGINES:
            cmd = [sys.executable, "-m", "pmkb.cli", "build", "--engine", engine, "-d", f"site-{engine}"]
            runs[engine].append(run_measured(cmd, kb)[:2])
    rows = {}
    for engine in ENGINES:
        site = kb / f"site-{engine}"
        rows[engine] = {
            "median_s": statistics.median(t for t, _ in runs[engine]),
            "runs_s": [t for t, _ in runs[engine]],
            "peak_mb": max(m for _, m in runs[engine]) / 2**20,
            "pages": sum(1 for _ in site.rglob("*.html")),
            "mb": tree_bytes(site) / 2**20,
        }
    if keep is None:
        shutil.rmtree(base, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="incidents")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="builds per engine, alternated; medians reported")
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated knowledge base and sites here")
    args = ap.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    rows = measure(args.n, args.seed, args.repeat, args.keep)
    print(f"`python tools/bench_engines.py --n {args.n} --repeat {args.repeat}` on {platform.node() or 'this machine'}: "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}\n")
    print(f"| engine | build (s; median of {args.repeat}) | every run (s) | peak memory (MB) | HTML pages | site (MB) |")
    print("|---|---:|---|---:|---:|---:|")
    for engine, r in rows.items():
        print(f"| {engine} | {r['median_s']:.1f} | {', '.join(f'{t:.1f}' for t in r['runs_s'])} | "
              f"{r['peak_mb']:.0f} | {r['pages']:,} | {r['mb']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
