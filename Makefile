# The two commands a newcomer needs: `make site` and `make test`. Each installs what it
# needs by itself into .venv (and Chromium for the browser tests, when run as root).
PYTHON ?= python3
export NO_MKDOCS_2_WARNING := 1
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
# requirements.lock holds the exact versions the site and the tests run with, resolved from
# pyproject.toml's ranges for every Python from 3.10 on; `make lock` refreshes it.
LOCK = requirements.lock
UV_VERSION = 0.13.8
LATEST = .venv-latest

.PHONY: site serve test test-latest lock validate bench chromium clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

site: $(STAMP)                   ## build the site from incidents/ into site/
	$(BIN)/mkdocs build --strict

# `make serve` previews the whole site; `make serve FILE=incidents/2025/x.md` (several files:
# FILE="a.md b.md") only those incidents' pages, against the whole knowledge base, in a second.
serve: $(STAMP)                  ## live preview on http://127.0.0.1:8000
ifdef FILE
	$(BIN)/pmkb serve $(FILE)
else
	$(BIN)/mkdocs serve
endif

validate: $(STAMP)
	$(BIN)/pmkb validate

test: $(STAMP) chromium          ## the whole test suite, browser tests included
	$(BIN)/python -m pytest

# The suite against the newest versions pyproject.toml's ranges allow, in a venv of its
# own: an upstream release that breaks us shows here before `make lock` takes it in.
test-latest: chromium
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	$(LATEST)/bin/python -m pip freeze --exclude-editable > $(LATEST)/versions.txt
	$(LATEST)/bin/python -m pytest -p no:cacheprovider

# Re-resolve the lock from pyproject.toml's ranges (newest allowed versions), then reinstall.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --python-version 3.10 --quiet -o $(LOCK)
	rm -f $(STAMP)
	$(MAKE) $(STAMP)

# The figures of engineering/performance.md at N = 1,000 (a few minutes); the document gives the
# commands for N = 10,000 (half an hour).
bench: $(STAMP)
	$(BIN)/python tools/benchmark.py validate --n 1000
	$(BIN)/python tools/bench_build.py --n 1000 --repeat 3 --rebuild-up-to 1000

# Browser tests use Debian's Chromium (Playwright cannot download browsers here).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed: browser tests will be skipped (install Debian's 'chromium' to run them)"; fi; \
	fi

clean:
	rm -rf site .pytest_cache $(LATEST)
