# One entry point for developers and CI. `make run` starts the platform, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install system-deps kafka-libs run test test-fault test-unit test-integration check lint fmt typecheck \
        gen-protos bench clean conformance

help:
	@echo "make run    - start Kafka, Redis and the four services (Ctrl-C stops everything)"
	@echo "make test   - install what is missing, run checks and the whole test suite on real Kafka + Redis"
	@echo "make check  - ruff, mypy --strict, generated-protobuf freshness"
	@echo "make conformance - the W3C VC 2.0 and vc-di-eddsa test suites against the platform (artifacts/conformance)"
	@echo "make bench  - benchmarks, figures in bench/results/latest.json (QUICK=1 for a short run)"

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

kafka-libs: install system-deps
	$(BIN)/python -c "from microcred.infra.kafka_local import kafka_libs_dir; print(kafka_libs_dir())"

run: install system-deps kafka-libs
	$(BIN)/mcred dev up

gen-protos: install
	bash scripts/gen_protos.sh

lint: install
	$(BIN)/ruff check .

fmt: install
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy microcred services

check: install
	$(BIN)/ruff check .
	$(BIN)/mypy microcred services bench
	bash scripts/gen_protos.sh --check

test-unit: install
	$(BIN)/pytest tests/unit -q

test-integration: install system-deps kafka-libs
	$(BIN)/pytest tests/integration -q

# Everything, the fault suite included (3-broker cluster, SIGKILLs, Redis wipe): ~20 minutes on 2 cores; the 25
# slowest tests are listed at the end (what to look at when the run grows).
test: install system-deps kafka-libs check
	$(BIN)/pytest -q -ra --durations=25

test-fault: install system-deps kafka-libs
	$(BIN)/pytest -q -ra tests/fault

# The W3C VC 2.0 and vc-di-eddsa suites (vendored in conformance/, npm packages pinned by package-lock.json) against
# the platform's VC-API endpoints; summary in artifacts/conformance/. See docs/conformance.md.
conformance: install system-deps kafka-libs
	cd conformance/vc-data-model-2.0-test-suite && npm ci --no-audit --no-fund
	cd conformance/vc-di-eddsa-test-suite && npm ci --no-audit --no-fund
	$(BIN)/python conformance/run.py

bench: install system-deps kafka-libs
	$(BIN)/python -m bench.run $(if $(QUICK),--quick,)

clean:
	rm -rf .run build *.egg-info .pytest_cache .mypy_cache .ruff_cache
