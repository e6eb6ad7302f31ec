# reintegra: `make demo` and `make test` are the two set-up commands (see README.md).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
EXTRAS ?= test
STAMP := $(VENV)/.installed-$(EXTRAS)

.PHONY: install demo test eval bench lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m matcher.demo
	$(PY) -m matcher.cli train --outcomes fixtures/outcomes/outcomes.csv --out out/model --as-of 2026-06-01
	$(PY) -m api.demo

test: $(STAMP)
	$(PY) -m ruff check matcher api training tests fixtures evals
	$(PY) -m pytest

eval: $(STAMP)
	rc=0; \
	$(PY) -m evals.normaliser || rc=1; \
	$(PY) -m evals.extraction || rc=1; \
	$(PY) -m evals.ranking || rc=1; \
	$(PY) -m evals.cohort || rc=1; \
	$(PY) -m evals.outcomes || rc=1; \
	exit $$rc

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || echo "note: the API latency figures want wrk (apt-get install wrk); without it a Python client shares the server's cores"
	$(PY) -m bench.run

lint: $(STAMP)
	$(PY) -m ruff check matcher api training tests fixtures evals
	$(PY) -m ruff format --check matcher api training tests evals fixtures
	$(PY) -m mypy matcher

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
