"""The package's layout: the core imports no site engine and no heavy library."""

import json
import subprocess
import sys

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
