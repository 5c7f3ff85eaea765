"""The package's layout: the core imports no site engine and no heavy library."""

import ast
import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_core_and_loading_import_no_engine_nor_plotting_nor_graph_library():
    # A fresh interpreter: this test process has long imported everything.
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import pmkb\n"
        f"kb = pmkb.Loader().load(pmkb.load_settings(Path({str(ROOT / 'mkdocs.yml')!r})))\n"
        "assert kb.incidents and not kb.errors, kb.errors\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = set(json.loads(proc.stdout))
    assert "pmkb" in loaded and "yaml" in loaded      # the check ran what it claims to
    assert not loaded & {"mkdocs", "material", "matplotlib", "networkx", "numpy"}, loaded & {"mkdocs", "material", "matplotlib", "networkx", "numpy"}


def test_public_api_names_resolve():
    import pmkb
    for name in pmkb.__all__:
        assert getattr(pmkb, name) is not None, name


# --- the tree reads as the data flow ---------------------------------------------------------

PACKAGE = ROOT / "plugins" / "pmkb"
# Each stage imports only from itself and the stages before it (pmkb/__init__.py, the public
# API, gathers names from several). settings.py is read by every stage from the first on, and
# workers.py (the one way to run work in other processes) is used by several.
STAGES = {"reading": 1, "settings": 1, "workers": 1, "incidents": 2, "knowledge": 3, "pages": 4, "adapters": 5, "cli": 6}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The pmkb modules a module imports, at the top or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{a.name}" for a in node.names}     # `from . import charts`
    return {m for m in found if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_import_cycle():
    graph = {m: {t for t in targets if t != "pmkb"} for m, targets in _graph().items() if m != "pmkb"}
    # Tarjan's strongly connected components: a component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def _stage(module: str) -> int | None:
    parts = module.split(".")
    return STAGES.get(parts[1]) if len(parts) > 1 else None


def test_stages_import_only_earlier_stages():
    wrong = [(m, t) for m, targets in _graph().items() for t in targets
             if _stage(m) is not None and _stage(t) is not None and _stage(t) > _stage(m)]
    assert wrong == []


def test_every_module_is_in_a_stage_and_small():
    modules = _modules()
    loose = [m for m in modules if m != "pmkb" and _stage(m) is None]
    assert loose == []
    long = {m: n for m, p in modules.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, f"split these by idea: {long}"


def test_no_module_imports_another_modules_private_names():
    """What one module shares with others is named without a leading underscore: a private
    name imported elsewhere is a helper that belongs in the public part of its module."""
    private = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("pmkb")):
                private += [f"{name}: {a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert private == []
