"""Benchmark the whole site build against a plain mkdocs-material build of the same Markdown.

    python tools/bench_build.py --n 1000 [--n 10000] [--repeat 3] [--seed 0] [--keep DIR]
                                [--before REV ...] [--json FILE]

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

Before and after: `--before REV` (repeatable; any git revision of this repository, such
as `main` or `caa996b`) adds the full build of that revision to the alternation. Each REV
is checked out, detached, into a temporary `git worktree` (removed at the end, also on an
error or Ctrl-C) and built with the same interpreter, the same installed dependencies and
the same knowledge base, its `plugins/` put first on PYTHONPATH so that its `pmkb` shadows
the editable install; a child process checks that before anything is timed. "Ours" is
always the working tree (its `plugins/` first on PYTHONPATH too); the header gives the
commit of each and says when the working tree has uncommitted changes. A REV whose plugin
module is not where the installed entry point looks for it (an older layout) cannot be
built this way: the script stops and says so.

The plain build is the floor for rendering those pages: what MkDocs and the theme cost
before our plugin adds anything. Timings are wall clock on whatever else the machine does,
so run it on an idle machine and read ratios rather than absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402  (tools/ is not a package)

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": "1795000000"}
REPO = Path(__file__).resolve().parent.parent
PLUGIN = "postmortems"   # the name mkdocs.yml uses; its entry point says which module MkDocs imports


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str] = ENV) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in bytes, output) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:   # Ctrl-C or SIGTERM: no build is left running on a worktree about to be removed
        proc.kill()
        proc.wait()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-3000:]}")
    return wall, usage.ru_maxrss * 1024, out


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


# --- Revisions to compare against (--before) ----------------------------------------------

@dataclass(frozen=True)
class Variant:
    """One of our builds: the working tree ("ours") or a revision checked out beside it."""
    label: str            # what the table says: "ours" or the revision as given
    commit: str           # full hash (HEAD's for the working tree)
    short: str
    plugins: Path         # put first on PYTHONPATH, so that its pmkb is the one imported
    dirty: bool = False   # the working tree differs from its commit

    @property
    def env(self) -> dict[str, str]:
        rest = ENV.get("PYTHONPATH")
        return {**ENV, "PYTHONPATH": str(self.plugins) + (os.pathsep + rest if rest else "")}


def git(*args: str) -> str:
    proc = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def working_tree() -> Variant:
    """What "ours" builds: the working tree, HEAD plus whatever is not committed."""
    return Variant("ours", git("rev-parse", "HEAD"), git("rev-parse", "--short", "HEAD"), REPO / "plugins",
                   dirty=bool(git("status", "--porcelain")))


def described(v: Variant) -> str:
    return v.short + (" plus uncommitted changes" if v.dirty else "")


def declared_entry_point(pyproject: str) -> str | None:
    """The module:class a pyproject.toml's text declares for our MkDocs plugin."""
    try:
        import tomllib
    except ModuleNotFoundError:   # Python 3.10: tomli is in the lock (mypy needs it)
        import tomli as tomllib
    points = tomllib.loads(pyproject).get("project", {}).get("entry-points", {}).get("mkdocs.plugins", {})
    return points.get(PLUGIN)


def installed_entry_point() -> str:
    """What MkDocs in this interpreter imports for `postmortems`: the editable install's metadata."""
    found = [ep.value for ep in entry_points(group="mkdocs.plugins") if ep.name == PLUGIN]
    if not found:
        raise SystemExit(f"no MkDocs plugin '{PLUGIN}' is installed in {sys.executable}: run `make .venv/.installed`")
    return found[0]


def check_layout(rev: str, commit: str, installed: str) -> None:
    """Stop unless REV's plugin module is where the installed entry point looks for it.

    The builds of REV reuse this interpreter's installed metadata, so MkDocs imports the
    installed entry point's module from REV's tree; in a revision that declares another
    module (an older layout) that import would fail in the middle of the run.
    """
    declared = declared_entry_point(git("show", f"{commit}:pyproject.toml"))
    module = installed.split(":")[0]
    source = "plugins/" + module.replace(".", "/") + ".py"
    exists = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}:{source}"],
                            capture_output=True).returncode == 0
    if declared != installed or not exists:
        short = git("rev-parse", "--short", commit)
        raise SystemExit(
            f"--before {rev} ({short}) cannot be built with this install: its pyproject.toml declares the "
            f"MkDocs plugin '{PLUGIN}' as {declared or 'nothing'}, the installed entry point is {installed}"
            + ("" if exists else f", and {source} does not exist at {short}")
            + ". Compare revisions of the same layout, or build the older one from a virtual environment "
              "of its own (`pip install -e` of that checkout).")


# Loads our plugin the way MkDocs does (its entry point), in the environment of a build.
PROBE = r"""
import json, sys
from mkdocs.plugins import get_plugins
cls = get_plugins()[sys.argv[1]].load()
import pmkb
print(json.dumps({"plugin": sys.modules[cls.__module__].__file__, "pmkb": pmkb.__file__}))
"""


def check_imported_from(variant: Variant, cwd: Path) -> None:
    """A child with the build's environment imports pmkb, and the plugin, from variant.plugins."""
    _, _, out = run_measured([sys.executable, "-c", PROBE, PLUGIN], cwd, variant.env)
    files = json.loads(out.strip().splitlines()[-1])
    for what, file in files.items():
        if not Path(file).resolve().is_relative_to(variant.plugins.resolve()):
            raise SystemExit(f"the build of {variant.label} would import {what} from {file}, not from {variant.plugins}: "
                             "something on the path shadows PYTHONPATH (an installed, non-editable pmkb?)")
    print(f"{variant.label}: pmkb imported from {files['pmkb']}", file=sys.stderr)


def add_worktrees(revs: list[str], stack: ExitStack) -> list[Variant]:
    """Each REV detached in a temporary worktree; stack removes them all when it closes."""
    installed = installed_entry_point()
    commits = []
    for rev in revs:   # every check before anything is checked out
        proc = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"--before {rev}: not a commit of {REPO} (a branch, tag or hash, e.g. main or HEAD~1)")
        commit = proc.stdout.strip()
        check_layout(rev, commit, installed)
        commits.append(commit)
    base = Path(tempfile.mkdtemp(prefix="pmkb-bench-before-"))
    stack.callback(shutil.rmtree, base, True)
    stack.callback(subprocess.run, ["git", "-C", str(REPO), "worktree", "prune"], check=False)
    variants = []
    for i, (rev, commit) in enumerate(zip(revs, commits), 1):
        tree = base / f"before-{i}"
        git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        stack.callback(subprocess.run, ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       check=False, capture_output=True)
        variants.append(Variant(rev, commit, git("rev-parse", "--short", commit), tree / "plugins"))
    return variants


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


def measure(n: int, seed: int, keep: Path | None, rebuild_up_to: int, repeat: int = 1,
            ours: Variant | None = None, befores: tuple[Variant, ...] = ()) -> dict:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix=f"pmkb-bench-{n}-", dir=keep))
    try:
        return measure_in(base, n, seed, rebuild_up_to, repeat, ours, befores)
    finally:   # also on an error or Ctrl-C: at N = 10,000 the sites are gigabytes
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)


def measure_in(base: Path, n: int, seed: int, rebuild_up_to: int, repeat: int,
               ours: Variant | None, befores: tuple[Variant, ...]) -> dict:
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
    ours_env = ours.env if ours else ENV

    def mk(site: str) -> list[str]:
        return [sys.executable, "-m", "mkdocs", "build", "-q", "-d", site]
    # Every kind once per repeat, alternated so that whatever else the machine does slows all
    # alike, and the order rotated from one repeat to the next so that no kind always comes
    # first (cold files) or last; medians reported. Each revision builds into a site folder of
    # its own: ours (`site`) is the one whose bytes are counted below.
    kinds = [(f"before {i}", kb, v.env, f"site-before-{i}") for i, v in enumerate(befores)]
    kinds += [("ours", kb, ours_env, "site"), ("plain", plain, ENV, "site")]
    runs: dict[str, list[tuple[float, int]]] = {key: [] for key, *_ in kinds}
    for r in range(repeat):
        for key, cwd, env, site in kinds[r % len(kinds):] + kinds[:r % len(kinds)]:
            runs[key].append(run_measured(mk(site), cwd, env)[:2])
    ours_t = statistics.median(t for t, _ in runs["ours"])
    plain_t = statistics.median(t for t, _ in runs["plain"])
    ours_mem = max(m for _, m in runs["ours"])
    plain_mem = max(m for _, m in runs["plain"])
    before = [{"rev": v.label, "commit": v.commit, "short": v.short,
               "s": statistics.median(t for t, _ in runs[f"before {i}"]),
               "runs_s": [t for t, _ in runs[f"before {i}"]],
               "peak_mb": max(m for _, m in runs[f"before {i}"]) / 2**20}
              for i, v in enumerate(befores)]
    val_t, _, _ = run_measured([sys.executable, "-m", "pmkb.cli", "validate"], kb, ours_env)
    victim = sorted((kb / "incidents").rglob("*.md"))[n // 2]
    rebuild = {"first": float("nan"), "rebuild": float("nan")}
    if n <= rebuild_up_to:
        _, _, rb_out = run_measured([sys.executable, "-c", REBUILD, str(victim)], kb, ours_env)
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
        "ours_commit": ours.commit if ours else "", "ours_dirty": ours.dirty if ours else None,
        # Each --before revision, in the order given: median and single build times, peak memory.
        "before": [{**b, "ratio_to_plain": b["s"] / plain_t, "ours_over_before": ours_t / b["s"]} for b in before],
    }
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
    for i, b in enumerate(rows[0]["before"]):   # the same revisions at every N
        name = f"before: `{b['rev']}` ({b['short']})"
        line(f"{name}, full build (s; median)", lambda r, i=i: f(r["before"][i]["s"]))
        line(f"{name}, ratio to plain", lambda r, i=i: f"{r['before'][i]['ratio_to_plain']:.2f}")
        line(f"ours / before `{b['rev']}` (below 1: ours is faster)", lambda r, i=i: f"{r['before'][i]['ours_over_before']:.2f}")
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
    for i, b in enumerate(rows[0]["before"]):
        line(f"peak memory, before `{b['rev']}` (MB)", lambda r, i=i: f(r["before"][i]["peak_mb"], 0))
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


def measure_all(args: argparse.Namespace, sizes: list[int]) -> tuple[list[dict], Variant, tuple[Variant, ...]]:
    """Every N, with the --before revisions checked out for as long as it takes."""
    with ExitStack() as stack:
        ours = working_tree()
        befores = tuple(add_worktrees(args.before, stack))
        with tempfile.TemporaryDirectory(prefix="pmkb-bench-probe-") as empty:
            for variant in (*befores, ours):
                check_imported_from(variant, Path(empty))
        rows = [measure(n, args.seed, args.keep, args.rebuild_up_to, args.repeat, ours, befores) for n in sizes]
    return rows, ours, befores


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, action="append", help="incidents (repeat for several sizes)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated sites under this folder")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    ap.add_argument("--repeat", type=int, default=1, help="builds of each kind per N, alternated; medians reported")
    ap.add_argument("--rebuild-up-to", type=int, default=10**9,
                    help="measure the serve rebuild only up to this N (it builds the site twice more)")
    ap.add_argument("--before", action="append", default=[], metavar="REV",
                    help="also build this git revision (e.g. main, caa996b) from a temporary worktree, alternated "
                         "with ours and plain (repeat for several)")
    args = ap.parse_args(argv)
    sizes = args.n or [1000]
    # SIGTERM as well as Ctrl-C unwinds through the ExitStack, which removes the worktrees.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        rows, ours, befores = measure_all(args, sizes)
    except KeyboardInterrupt:
        print("\ninterrupted" + ("; the worktrees of --before are removed" if args.before else ""), file=sys.stderr)
        return 130
    flags = " ".join(f"--n {n}" for n in sizes) + (f" --rebuild-up-to {args.rebuild_up_to}" if args.rebuild_up_to < 10**9 else "")
    flags += f" --repeat {args.repeat}" if args.repeat > 1 else ""
    flags += f" --seed {args.seed}" if args.seed else ""
    flags += "".join(f" --before {shlex.quote(rev)}" for rev in args.before)
    print(f"`python tools/bench_build.py {flags}` on "
          f"{platform.node() or 'this machine'}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}\n")
    print(f"Ours: the working tree, {described(ours)}."
          + (" Before: " + ", ".join(f"`{v.label}` = {v.short}" for v in befores) + "." if befores else ""))
    for v in befores:   # the installed versions are the working tree's; say when the revision locked others
        if subprocess.run(["git", "-C", str(REPO), "diff", "--quiet", v.commit, "--", "requirements.lock"]).returncode:
            print(f"Note: `{v.label}` locks other versions in requirements.lock; it was built with the installed ones.")
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
