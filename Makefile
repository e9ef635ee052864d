# Two commands set the project up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
ANIMEREC := $(VENV)/bin/animerec
SERVICES := ingestion training recommender explainer gateway
STAMP := $(VENV)/.installed
DATA_DIR ?=
SAMPLE_DIR := var/sample-data
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: lock lint install run pipeline-data test bench bench-deps loadtest fuzz clean sample-data pipeline serve system-deps

$(STAMP): shared/pyproject.toml shared/ranking/pyproject.toml requirements-dev.txt \
          $(foreach s,$(SERVICES),$(wildcard services/$(s)/pyproject.toml))
	@command -v $(PYTHON) >/dev/null || PYTHON=python3; \
	  test -x $(PY) || $${PYTHON:-python3} -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e shared -e shared/ranking -r requirements-dev.txt \
	  $(foreach s,$(SERVICES),$(if $(wildcard services/$(s)/pyproject.toml),-e services/$(s)))
	$(MAKE) --no-print-directory system-deps
	touch $(STAMP)

# Debian packages the tests need (headless Chromium for the web page test); root on CI and dev boxes.
system-deps:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian chromium for the browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser test will be skipped"; fi

# checkov (the charts' and Dockerfile's scan in tests/deploy/test_deploy_checkov.py) pins many packages: its own venv.
CHECKOV := $(VENV)/checkov/bin/checkov
CHECKOV_VERSION := 3.3.30

$(CHECKOV): | $(STAMP)
	$(PY) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install -q 'checkov==$(CHECKOV_VERSION)'

# axe-core (the web page's accessibility checks in tests/gateway/test_gateway_browser.py), from tests/browser's lock.
AXE := tests/browser/node_modules/axe-core/axe.min.js

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/browser --no-audit --no-fund && touch $(AXE); \
	  else echo "warning: no npm (Node 20); the browser test's accessibility checks will be skipped"; fi

install: $(STAMP) $(CHECKOV) $(AXE)

sample-data: install
	@if [ -z "$(DATA_DIR)" ] && [ ! -f $(SAMPLE_DIR)/anime.csv ]; then \
	  $(ANIMEREC) sample-data --out $(SAMPLE_DIR) --users 2000; fi

# Sample data (or DATA_DIR), the pipeline when no model is promoted, all five services; Ctrl-C stops.
run: install
	DATA_DIR="$(DATA_DIR)" $(PY) scripts/run_stack.py

# Only ingest + process (no training, no services).
pipeline-data: install sample-data
	@SRC="$(if $(DATA_DIR),$(DATA_DIR),$(SAMPLE_DIR))"; \
	  $(ANIMEREC) ingest --source "$$SRC" && \
	  $(ANIMEREC) process --min-ratings $${INGESTION_MIN_USER_RATINGS:-50}

# ruff (lint + format check, ruff.toml) and mypy (mypy.ini) on shared/, the services, scripts, benchmarks, tests.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install lint
	$(PY) -m pytest tests -q -p no:cacheprovider

bench: install bench-deps
	$(PY) -m benchmarks.run_all

# wrk (Debian) drives the closed-loop load phase and the recommender's HTTP benchmark; locust comes from
# requirements-dev.txt (best effort: without wrk, bench_recommender skips its HTTP rows).
bench-deps:
	@if ! command -v wrk >/dev/null && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	  || echo "warning: could not install wrk; the closed-loop load phase and bench_recommender's HTTP rows need it"; fi

# Through the gateway on the 50/30/10/10 mix, old commit (2ef153b) vs this tree: locust at 1,000 req/s
# and wrk at 64 connections, 60 s each (ARGS="--seconds 20", "--old none", "--fault all", ...).
loadtest: install bench-deps
	$(PY) -m benchmarks.bench_load $(ARGS)

# Long schemathesis run against every service's OpenAPI (a bounded one is part of `make test`).
fuzz: install
	$(PY) -m scripts.fuzz

# requirements.lock: the tested dependency set (what .venv holds) pinned with sha256 hashes, for audits.
lock: install
	$(PIP) install -q uv
	$(VENV)/bin/uv pip compile requirements.in --generate-hashes --python-version 3.11 \
	  --constraint <($(PIP) freeze --exclude-editable) -o requirements.lock

clean:
	rm -rf var .pytest_cache
