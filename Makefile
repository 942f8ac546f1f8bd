# Two entry points on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint typecheck bench bench-resolve bench-uv bench-sync-uv bench-serve bench-pg clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m bench.demo

lint: $(STAMP)
	$(BIN)/ruff check mirror resolve db tests bench alembic
	$(BIN)/ruff format --check mirror resolve db tests bench alembic

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n 2 -q

# Quick loop while iterating: no lint, no slow end-to-end tests.
check: $(STAMP)
	$(BIN)/pytest -n 2 -q -x -m 'not slow and not live'

bench: $(STAMP)
	$(BIN)/python -m bench.sync_bench

# Whole-process `resolve` times on synthetic snapshots (built once, cached in .bench-cache/).
bench-resolve: $(STAMP)
	$(BIN)/python -m bench.resolve_bench

# `resolve` against `uv pip compile --offline` on the same snapshots, served on loopback.
bench-uv: $(STAMP)
	$(BIN)/python -m bench.uv_bench

# `mirror sync --closure` against `uv pip compile`, both reading real wheels from a loopback index.
bench-sync-uv: $(STAMP)
	$(BIN)/python -m bench.sync_uv_bench

# `mirror serve --workers N` under a loopback load: requests/s and errors per worker count.
bench-serve: $(STAMP)
	$(BIN)/python -m bench.serve_load

# Whole-process `resolve` and `mirror sync` on SQLite vs a throwaway PostgreSQL server.
bench-pg: $(STAMP)
	$(BIN)/python -m bench.pg_bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
