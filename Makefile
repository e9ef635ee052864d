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

.PHONY: install run test bench clean sample-data pipeline serve

$(STAMP): shared/pyproject.toml $(foreach s,$(SERVICES),$(wildcard services/$(s)/pyproject.toml)) requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || PYTHON=python3; \
	  test -x $(PY) || $${PYTHON:-python3} -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e shared $(foreach s,$(SERVICES),$(if $(wildcard services/$(s)/pyproject.toml),-e services/$(s))) -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

sample-data: install
	@if [ -z "$(DATA_DIR)" ] && [ ! -f $(SAMPLE_DIR)/anime.csv ]; then \
	  $(ANIMEREC) sample-data --out $(SAMPLE_DIR) --users 2000; fi

run: install sample-data
	@SRC="$(if $(DATA_DIR),$(DATA_DIR),$(SAMPLE_DIR))"; \
	  $(ANIMEREC) ingest --source "$$SRC" && \
	  $(ANIMEREC) process --min-ratings $${MIN_USER_RATINGS:-50}

test: install
	$(PY) -m pytest tests -q -p no:cacheprovider

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf var .pytest_cache
