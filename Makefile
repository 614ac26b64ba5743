# Geoportal: `make run` serves the portal with the sample layers; `make test` runs every test.
# Needs Python 3.12+ (pygeoapi 0.22+ requires it): found on PATH first, then in pyenv.

SHELL := /bin/bash
VENV ?= .venv
PORT ?= 5000
HOST ?= 127.0.0.1
PY := $(VENV)/bin/python

find_python = $(shell \
  for c in python3.13 python3.12 python3 python; do \
    p=$$(command -v $$c 2>/dev/null) || continue; \
    $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; exit 0; }; \
  done; \
  root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
  for p in $$(ls -d $$root/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV); do \
    $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; exit 0; }; \
  done)

.PHONY: run run-setup run-postgis run-cluster test test-fast test-cluster lint clean help web

help:
	@echo "make run    - set up .venv, load the sample layers under layers/, serve http://$(HOST):$(PORT)/"
	@echo "make run-postgis - the same on a local PostgreSQL/PostGIS (scripts/local-postgis)"
	@echo "make run-cluster - the production topology in miniature behind HAProxy on :$(PORT)"
	@echo "                   (scripts/cluster.py; Ctrl-C stops it)"
	@echo "make test-cluster - the end-to-end tests through that topology (tests/cluster)"
	@echo "make test   - install the test tools and run the whole suite (ruff + pytest), then"
	@echo "              the unit tests under every other Python 3.12+ found (.venv-3.X), then"
	@echo "              the cluster lane (make test-cluster)"
	@echo "make test-fast - the unit lane alone: no server, no client, no cluster (-n 2)"
	@echo "make clean  - remove .venv and var/ (the store, the catalog and the logs)"

$(VENV)/.installed: pyproject.toml constraints.txt
	@PYTHON="$(find_python)"; \
	if [ -z "$$PYTHON" ]; then \
	  echo "error: Python 3.12 or newer is needed (pygeoapi 0.22+ requires it) and none was found"; \
	  echo "       on PATH (python3.13, python3.12, python3) or in pyenv (~/.pyenv/versions/3.12*)."; \
	  echo "       Install one, e.g. 'pyenv install 3.12' or 'apt-get install python3.12-venv'."; \
	  exit 1; \
	fi; \
	echo "using $$PYTHON ($$($$PYTHON --version))"; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then \
	  rm -rf $(VENV); $$PYTHON -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

# The browser libraries of the pages (MapLibre GL JS), from the npm registry as package-lock.json
# pins them, copied where the server serves them: never committed, never from a CDN.
VENDOR := geoportal/server/static/vendor
$(VENDOR)/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: npm is needed for the web pages' libraries (apt-get install npm, or Node.js 18+)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/maplibre-gl/dist/maplibre-gl.js node_modules/maplibre-gl/dist/maplibre-gl.js.map \
	   node_modules/maplibre-gl/dist/maplibre-gl.css node_modules/maplibre-gl/LICENSE.txt $(VENDOR)/
	cp node_modules/proj4/dist/proj4.js $(VENDOR)/proj4.js
	cp node_modules/proj4/LICENSE.md $(VENDOR)/proj4-LICENSE.md
	cp node_modules/geographiclib-geodesic/geographiclib-geodesic.min.js $(VENDOR)/
	cp node_modules/geographiclib-geodesic/LICENSE.txt $(VENDOR)/geographiclib-geodesic-LICENSE.txt
	@touch $@

# Then every static file content-hashed (name.<sha256 8 hex>.ext, cached a year by browsers) and
# precompressed (.gz, .br) into geoportal/server/static-build with a manifest.json that the
# templates' static_url() reads (scripts/build-static.py; never committed). Without it the pages
# load the plain names. Cheap: run at every `make web`, `make run`, `make test`.
web: $(VENDOR)/.installed $(VENV)/.installed
	$(PY) scripts/build-static.py

run-setup: $(VENV)/.installed web
	@bash scripts/install-runtime-deps
	$(VENV)/bin/geoportal init
	$(VENV)/bin/geoportal ingest layers/

run: run-setup
	$(VENV)/bin/geoportal serve --host $(HOST) --port $(PORT)

# The production store on one machine: GEOPORTAL_DATABASE_URL if set, else a local cluster
# started by scripts/local-postgis in var/pg (PostgreSQL 15 + PostGIS 3 from Debian).
run-postgis: $(VENV)/.installed web
	@bash scripts/install-runtime-deps
	@URL="$${GEOPORTAL_DATABASE_URL:-$$(bash scripts/local-postgis)}" && \
	export GEOPORTAL_DATABASE_URL="$$URL" && \
	echo "catalog and store: $${URL%%@*}@...$${URL##*@}" && \
	$(VENV)/bin/geoportal init && \
	$(VENV)/bin/geoportal ingest layers/ && \
	$(VENV)/bin/geoportal serve --host $(HOST) --port $(PORT)

# The production topology in miniature (scripts/cluster.py, docs/deployment.md "Scaling out"):
# a PostgreSQL primary and its streaming replica, PgBouncer, an S3 emulator (moto), two portal
# nodes, one ETL worker and HAProxy on $(PORT); in the foreground, Ctrl-C stops every part.
run-cluster: $(VENV)/.installed web
	@bash scripts/install-system-deps
	$(PY) scripts/cluster.py up --port $(PORT)

# The issue-17 end-to-end tests through that topology (one cluster on free ports, ~6 min).
test-cluster: $(VENV)/.installed web
	@bash scripts/install-system-deps
	timeout 1200 $(PY) -m pytest -m cluster -p no:xdist -p no:randomly --durations=10 -q tests/cluster

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check geoportal tests scripts benchmarks
	$(VENV)/bin/mypy

# The whole suite under the newest Python found, then the unit lane (tests/unit, tests/cli)
# under every other Python 3.12+ found, each in its own .venv-3.X (scripts/other-pythons),
# then the end-to-end lane through the miniature cluster (test-cluster).
test: $(VENV)/.installed web
	@bash scripts/install-system-deps
	$(MAKE) lint
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile --durations=25 -m "not cluster" tests
	bash scripts/other-pythons $(PY) -n 2 --dist loadfile -q
	$(MAKE) test-cluster

# The unit lane: every test that starts no server, drives no client and needs no cluster (the
# markers are applied in tests/conftest.py), i.e. tests/unit and tests/cli but for the few that
# start a portal, on the GeoPackage store alone: no PostgreSQL needed. `make test-fast
# TEST_BACKENDS=gpkg,postgis` adds the PostGIS half (a throwaway cluster the tests start; 1,870
# tests in 3 min).
# Measured: 85 s on 2 cores (1,453 tests; 3.6 min with other test runs loading the machine).
TEST_BACKENDS ?= gpkg
test-fast: $(VENV)/.installed
	GEOPORTAL_TEST_BACKENDS=$(TEST_BACKENDS) $(VENV)/bin/python -m pytest -n 2 --dist loadfile \
	  -q --durations=15 -m "not integration and not client and not cluster" tests

clean:
	-bash scripts/local-postgis stop 2>/dev/null
	rm -rf $(VENV) .venv-3.1[2-9] var node_modules $(VENDOR) geoportal/server/static-build
