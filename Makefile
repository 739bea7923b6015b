# `make test` and `make demo` set everything up themselves: a virtualenv, the install, the database.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.PHONY: test test-sqlite test-postgres test-311 demo demo-crash docs bench chaos lint venv clean

# The newest Python >= 3.12 on this machine (pyenv's too); else python3 (then Django 5.2 LTS).
BEST_PYTHON := $(shell for p in $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python 2>/dev/null) \
	$$(command -v python3.14 python3.13 python3.12 2>/dev/null); do \
	  v=$$($$p -c 'import sys; print("%d%03d" % sys.version_info[:2])' 2>/dev/null) && echo "$$v $$p"; \
	done | sort -n | tail -1 | cut -d' ' -f2)
BASE_PYTHON ?= $(if $(BEST_PYTHON),$(BEST_PYTHON),python3)

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip >/dev/null
	$(PY) -m pip install -q -e "$$($(PY) -c 'import sys; print(".[dev,docs,tasks]" if sys.version_info < (3, 12) else ".[dev,docs]")')" \
	  $$($(PY) -c 'import sys; print("django<6" if sys.version_info < (3, 12) else "")')
	@touch $@

venv: $(VENV)/.installed

test: venv
	@rm -f .test-results/*.ok; mkdir -p .test-results
	$(MAKE) --no-print-directory test-sqlite
	@if $(PY) .ci/pg_ready.py "$${DATABASE_URL:-$(PG_URL)}"; then \
	  $(MAKE) --no-print-directory test-postgres; \
	else echo "PostgreSQL is not reachable: skipped the PostgreSQL run"; fi

test-sqlite: venv
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)
	$(PY) manage.py makemigrations --check --dry-run
	@touch .test-results/sqlite.ok

test-postgres: venv
	DATABASE_URL="$${DATABASE_URL:-$(PG_URL)}" $(PY) -m pytest $(PYTEST_ARGS)
	@touch .test-results/postgresql.ok

# The fast tests on Python 3.11 with Django 5.2 LTS, against PostgreSQL.
test-311:
	$(MAKE) --no-print-directory VENV=.venv-311 BASE_PYTHON=python3 venv
	DATABASE_URL="$${DATABASE_URL:-$(PG_URL)}" DBOS_TEST_PG_NAME=test_dbos_django_311 \
	  .venv-311/bin/python -m pytest -m "not slow" $(PYTEST_ARGS)
	# The django.tasks backend through the backport, on SQLite too.
	env -u DATABASE_URL .venv-311/bin/python -m pytest tests/test_tasks.py $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check dbos_django tests example_project chaos docs/conf.py
	$(VENV)/bin/mypy dbos_django

# The shop: web server + dbos_worker on SQLite (DATABASE_URL for PostgreSQL), until Ctrl-C. DEMO_PORT=8001 to move it.
demo: venv
	$(PY) example_project/rundemo.py

# Scripted: orders, a SIGKILL of the worker in the middle of them, a restart, the ledger (a fresh SQLite file).
demo-crash: venv
	$(PY) example_project/crashdemo.py

bench: venv
	$(MAKE) --no-print-directory -C bench

# The chaos soak (docs/reliability.md). It restarts the PostgreSQL cluster it runs on. ARGS="--short" is CI's size.
chaos: venv
	PYTHON=$(PY) chaos/run $(ARGS)

# The documentation site (Sphinx + MyST), warnings as errors: docs/_build/html/index.html.
docs: venv
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "The site: docs/_build/html/index.html"

clean:
	rm -rf $(VENV) .venv-311 .test-results db.sqlite3 .test-db.sqlite3 docs/_build
