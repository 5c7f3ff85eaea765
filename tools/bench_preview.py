"""Benchmark of `pmkb serve PATH...` (the preview of one incident) on a synthetic knowledge base.

    python tools/bench_preview.py --n 10000 [--repeat 3] [--saves 5] [--kb DIR]

Generates N incidents with tools/synth.py (or uses the knowledge base in --kb, generating
it there first if the folder is empty), then measures, as a user meets them:

- **cold start**: from starting `pmkb serve FILE` (a fresh process, with an empty cache
  folder) to the first complete HTTP response of the incident's page;
- **warm start**: the same once the cache is written (the knowledge base read before);
- **save to updated page**: the file is rewritten with a new title; from the write to the
  moment a client that waits as the page's script does (a long poll on /_preview/wait)
  has the new page, with the new title in it, in hand.

Each start is `--repeat` times, the saves `--saves` times; the table gives the median and
the range. The previewed file is the newest incident. The cache goes to a temporary
folder (PMKB_CACHE_DIR), so the knowledge base's own cache is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))


def _pmkb() -> list[str]:
    exe = Path(sys.executable).parent / "pmkb"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pmkb.cli"]


def _get(url: str, timeout: float = 30) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


class Served:
    """`pmkb serve FILE` in a subprocess of its own process group."""

    def __init__(self, root: Path, rel: str, cache: Path):
        self.port = random.randint(20000, 60000)
        self.base = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "PMKB_CACHE_DIR": str(cache)}
        self.log = tempfile.TemporaryFile()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([*_pmkb(), "serve", rel, "-a", f"127.0.0.1:{self.port}"], cwd=root, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def first_page(self, url: str, limit: float = 120) -> float:
        while time.perf_counter() - self.started < limit:
            if self.proc.poll() is not None:
                raise SystemExit(f"pmkb serve exited {self.proc.returncode}:\n{self.output()}")
            if _get(self.base + url, timeout=limit) is not None:
                return time.perf_counter() - self.started
            time.sleep(0.02)
        raise SystemExit(f"no page within {limit} s:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        # its group: the server and a cache writer it forked (SIGTERM: a benchmark started in
        # the background of a shell has SIGINT ignored, and its children with it)
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _wait_for_cache(cache: Path, limit: float = 120) -> None:
    end = time.perf_counter() + limit
    while time.perf_counter() < end:
        if (cache / "preview.pickle").exists() and not list(cache.glob(".preview-*")):
            return
        time.sleep(0.1)
    raise SystemExit("the cache was not written")


def _save_times(served: Served, path: Path, url: str, saves: int) -> list[float]:
    original = path.read_text(encoding="utf-8")
    times = []
    try:
        for k in range(saves):
            version = json.loads(_get(served.base + "_preview/wait?v=-1"))["version"]
            marker = f"Benchmark edit {k} {random.randint(0, 1 << 30)}"
            text = re.sub(r"^title: .*$", f"title: {json.dumps(marker)}", original, count=1, flags=re.M)
            t0 = time.perf_counter()
            path.write_text(text, encoding="utf-8")
            # as the page's script does: wait for a new version, load the page; until it shows the edit
            while True:
                got = json.loads(_get(served.base + f"_preview/wait?v={version}"))["version"]
                if got == version:
                    continue
                version = got
                page = _get(served.base + url)
                if page is not None and marker.encode() in page:
                    break
                if time.perf_counter() - t0 > 60:
                    raise SystemExit(f"save {k}: the page does not show the edit")
            elapsed = time.perf_counter() - t0
            times.append(elapsed)
            time.sleep(1.0)
    finally:
        path.write_text(original, encoding="utf-8")
    return times


def _row(name: str, values: list[float], target: str) -> str:
    return (f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} | "
            f"{len(values)} | {target} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="cold and warm starts each (default 3)")
    ap.add_argument("--saves", type=int, default=5, help="saves timed (default 5)")
    ap.add_argument("--kb", type=Path, default=None, help="knowledge base folder to use (generated there when empty)")
    args = ap.parse_args(argv)

    from synth import generate
    tmp = Path(tempfile.mkdtemp(prefix="pmkb-bench-preview-"))
    root = args.kb or tmp / "kb"
    generated = None
    if not (root / "mkdocs.yml").exists():
        t = time.perf_counter()
        generate(args.n, root, seed=args.seed)
        generated = time.perf_counter() - t
    files = sorted((root / "incidents").rglob("*.md"))
    n = len([f for f in files if not any(p.startswith(("_", ".")) for p in f.relative_to(root / "incidents").parts)])
    newest = files[-1]
    rel = newest.relative_to(root).as_posix()
    slug = re.search(r"^id: *(\S+)", newest.read_text(encoding="utf-8"), re.M).group(1).lower()
    url = f"incidents/{slug}/"
    load_start = os.getloadavg()
    cold, warm, saves = [], [], []
    try:
        for _ in range(args.repeat):
            cache = Path(tempfile.mkdtemp(prefix="cache-", dir=tmp))
            served = Served(root, rel, cache)
            try:
                cold.append(served.first_page(url))
                _wait_for_cache(cache)
            finally:
                served.stop()
            served = Served(root, rel, cache)
            try:
                warm.append(served.first_page(url))
                if not saves:
                    time.sleep(1.0)
                    saves = _save_times(served, newest, url, args.saves)
            finally:
                served.stop()
            shutil.rmtree(cache, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)   # the caches (and the knowledge base, unless --kb)
    load_end = os.getloadavg()
    print(f"`pmkb serve {rel}` on {n:,} synthetic incidents (seed {args.seed})\n")
    print("| measure | median (s) | min (s) | max (s) | runs | target |")
    print("|---|---:|---:|---:|---:|---|")
    print(_row("cold start to first page", cold, "15 s at 10,000"))
    print(_row("warm start to first page", warm, "5 s at 10,000"))
    print(_row("save to updated page", saves, "1 s at 10,000"))
    print()
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"- cpus: {os.cpu_count()}; python {platform.python_version()}; {platform.platform()}")
    print(f"- load average at start: {' '.join(f'{x:.2f}' for x in load_start)}; at end: {' '.join(f'{x:.2f}' for x in load_end)}")
    if generated is not None:
        print(f"- knowledge base generated in {generated:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
