"""The site engines `pmkb build` and `pmkb serve` drive: MkDocs (the default), ProperDocs
and Zensical.

MkDocs and ProperDocs (a maintained fork of MkDocs 1.x that loads plugins from the
`mkdocs.plugins` entry points too) run our plugin: they build from the user's mkdocs.yml
as it is. Zensical reads mkdocs.yml but ignores plugins it does not know, silently, so
for it the core stages the whole site first (staging.py) and Zensical builds from there.

Each engine runs in a child process of its own: ProperDocs redirects every `mkdocs.*`
import to itself once loaded, so two engines must never share an interpreter.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..knowledge.kb import KnowledgeBase, KnowledgeBaseError, Loader
from ..settings import Settings
from .staging import Staged, StagingError, finish_site, read_config, stage


@dataclass(frozen=True)
class Engine:
    name: str
    module: str            # the module `python -m` runs
    runs_plugin: bool      # builds from mkdocs.yml as it is, the plugin doing the work
    install: str           # what to tell a user who does not have it
    min_python: tuple[int, int] = (3, 10)


ENGINES: dict[str, Engine] = {
    "mkdocs": Engine("mkdocs", "mkdocs", True, "pip install 'mkdocs>=1.6,<2' mkdocs-material"),
    "properdocs": Engine("properdocs", "properdocs", True, "pip install properdocs"),
    "zensical": Engine("zensical", "zensical", False, "pip install zensical", min_python=(3, 11)),
}
DEFAULT_ENGINE = "mkdocs"


class EngineError(Exception):
    """The engine cannot run here (exit 2)."""


def check_installed(engine: Engine) -> None:
    if sys.version_info[:2] < engine.min_python:
        need = ".".join(map(str, engine.min_python))
        raise EngineError(f"{engine.name} needs Python {need} or later; this is Python "
                          f"{sys.version_info.major}.{sys.version_info.minor}")
    if importlib.util.find_spec(engine.module) is None:
        raise EngineError(f"the {engine.name} engine is not installed in this Python environment "
                          f"({sys.executable}); install it with: {engine.install}")


def engine_env() -> dict[str, str]:
    # MkDocs 1.6.1 prints a notice about MkDocs 2.0 on every run; the Makefile silences it too.
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def engine_command(engine: Engine, action: str, config_file: Path, *, site_dir: Path | None = None,
                   strict: bool = False, dev_addr: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", engine.module, action, "-f", str(config_file)]
    if site_dir is not None and engine.runs_plugin:     # Zensical has no -d: site_dir is set in its configuration
        cmd += ["-d", str(site_dir)]
    if strict and action == "build":
        cmd.append("--strict")
    if dev_addr:
        cmd += ["-a", dev_addr]
    return cmd


def default_site_dir(config_file: Path) -> Path:
    """The configuration's site_dir (relative to its folder), `site` by default, as MkDocs reads it."""
    config = read_config(config_file)
    value = config.get("site_dir") or "site"
    return (config_file.resolve().parent / str(getattr(value, "value", value))).resolve()


# --- loading for a staged build ---------------------------------------------------------

@dataclass
class Problems:
    """Diagnostics of a load, as `pmkb validate` prints them."""
    lines: list[str]
    errors: int
    warnings: int


def load(settings: Settings, loader: Loader | None = None) -> tuple[KnowledgeBase | None, Problems]:
    loader = loader or Loader()
    try:
        kb = loader.load(settings)
    except KnowledgeBaseError as exc:
        errs = [d for d in exc.diagnostics if d.is_error]
        return None, Problems([d.text() for d in exc.diagnostics], len(errs), len(exc.diagnostics) - len(errs))
    diags = [*kb.errors, *kb.warnings]
    return kb, Problems([d.text() for d in diags], len(kb.errors), len(kb.warnings))


# --- build --------------------------------------------------------------------------------

def build(engine: Engine, config_file: Path, settings: Settings, site_dir: Path | None, strict: bool,
          say: Callable[[str], None]) -> int:
    """Build the site with `engine`; the exit code of `pmkb build` (SPEC 8)."""
    target = (site_dir.resolve() if site_dir else default_site_dir(config_file))
    if engine.runs_plugin:
        # The plugin validates, lists every problem and aborts; the engine exits non-zero.
        done = subprocess.run(engine_command(engine, "build", config_file, site_dir=target, strict=strict),
                              env=engine_env())
        return 0 if done.returncode == 0 else 1

    kb, problems = load(settings)
    for line in problems.lines:
        say(line)
    if kb is None or problems.errors:
        say(f"pmkb: {problems.errors} error(s); the site was not built (run `pmkb validate` for the same list)")
        return 1
    if strict and problems.warnings:
        say(f"pmkb: {problems.warnings} warning(s) and --strict; the site was not built")
        return 1
    # Staged beside the target, so that the finished site is moved into place, not copied.
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".pmkb-staging-", dir=target.parent))
    try:
        staged = _stage(kb, config_file, folder, say)
        if staged is None:
            return 1
        done = subprocess.run(engine_command(engine, "build", staged.config_file, strict=strict),
                              cwd=folder, env=engine_env())
        if done.returncode != 0 or not (staged.site_dir / "index.html").is_file():
            say(f"pmkb: {engine.name} build failed (exit {done.returncode})")
            return 1
        summary = finish_site(staged, staged.site_dir)
        if summary:
            say(f"pmkb: Pagefind: {summary}")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staged.site_dir, target)
        say(f"pmkb: built {len(kb.incidents)} incident(s) with {engine.name} into {target}")
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- serve --------------------------------------------------------------------------------

def serve(engine: Engine, config_file: Path, settings: Settings, dev_addr: str,
          say: Callable[[str], None], poll_seconds: float = 1.0) -> int:
    """Live preview of the whole site with `engine` until interrupted."""
    if engine.runs_plugin:
        return _wait(subprocess.Popen(engine_command(engine, "serve", config_file, dev_addr=dev_addr),
                                      env=engine_env()))
    loader = Loader(workers=1)     # kept across re-stagings: re-reads only changed files
    kb, problems = load(settings, loader)
    for line in problems.lines:
        say(line)
    if kb is None or problems.errors:
        say("pmkb: fix the errors above, then start again")
        return 1
    folder = Path(tempfile.mkdtemp(prefix="pmkb-serve-"))
    try:
        staged = _stage(kb, config_file, folder, say)
        if staged is None:
            return 1
        child = subprocess.Popen(engine_command(engine, "serve", staged.config_file, dev_addr=dev_addr),
                                 cwd=folder, env=engine_env())
        # stopped with SIGTERM as with Ctrl-C: stop the engine and remove the staging folder
        previous = signal.signal(signal.SIGTERM, _interrupt)
        watched = _watched(config_file, settings)
        seen = _fingerprint(watched)
        try:
            while child.poll() is None:
                time.sleep(poll_seconds)
                now = _fingerprint(watched)
                if now == seen:
                    continue
                seen = now
                _restage(loader, settings, config_file, folder, staged, say)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        return _stop(child)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _restage(loader: Loader, settings: Settings, config_file: Path, folder: Path, staged: Staged,
             say: Callable[[str], None]) -> None:
    kb, problems = load(settings, loader)
    for line in problems.lines:
        say(line)
    if kb is None or problems.errors:
        say("pmkb: the preview keeps the last good build until these errors are fixed")
        return
    again = _stage(kb, config_file, folder, say)
    if again is not None and again.written:
        say(f"pmkb: {again.written} staged file(s) changed; the engine rebuilds them")


def _stage(kb: KnowledgeBase, config_file: Path, folder: Path, say: Callable[[str], None]) -> Staged | None:
    """The site's sources staged in `folder`, or None once it is said why they cannot be."""
    try:
        return stage(kb, config_file, folder)
    except StagingError as exc:
        say(f"pmkb: {exc}")
        return None


def _watched(config_file: Path, settings: Settings) -> list[Path]:
    config = read_config(config_file)
    docs = config.get("docs_dir") or "docs"
    return [config_file.resolve(), settings.incidents_dir, settings.taxonomy,
            (config_file.resolve().parent / str(getattr(docs, "value", docs))).resolve()]


def _fingerprint(paths: list[Path]) -> frozenset:
    """Names, sizes and modification times of every file under the given paths."""
    seen = set()
    for path in paths:
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            seen.add((str(f), st.st_size, st.st_mtime_ns))
    return frozenset(seen)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait(child: subprocess.Popen) -> int:
    try:
        return child.wait()
    except KeyboardInterrupt:
        return _stop(child)


def _stop(child: subprocess.Popen) -> int:
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return 0
