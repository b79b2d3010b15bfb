# congdanso — two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
PROTOS  := $(shell find protos -name '*.proto')
STUBS   := congdanso/.stamp

# Find a Python >= 3.12: $PYTHON if set, then python3.13/python3.12/python3 on PATH, then pyenv's
# installed versions (pyenv's python3.12 shim only runs when that version is selected).
FIND_PYTHON = for c in "$$PYTHON" python3.12 python3.13 python3 \
	  $$(ls -d "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -V); do \
	  [ -n "$$c" ] || continue; \
	  if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo "$$c"; exit 0; fi; \
	done; exit 1

.PHONY: help install run test test-postgres clean bench
help:
	@echo "make run   - install (venv, pinned deps, stubs) and start the whole system"
	@echo "make test  - install, then run the whole test suite"

$(VENV)/.stamp: pyproject.toml requirements.lock
	@base=$$($(FIND_PYTHON)) || { echo "error: Python >= 3.12 not found (tried \$$PYTHON, python3.13, python3.12, python3, pyenv versions). Install Python 3.12+ or set PYTHON=/path/to/python3.12." >&2; exit 1; }; \
	echo "using $$base ($$("$$base" --version))"; \
	[ -x $(PY) ] || "$$base" -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# generated stubs (congdanso/) appear after the editable install: put the checkout itself on sys.path
	@echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/congdanso-checkout.pth"
	@touch $@

$(STUBS): $(VENV)/.stamp $(PROTOS)
	$(PY) -m grpc_tools.protoc -Iprotos --python_out=. --grpc_python_out=. --pyi_out=. $(PROTOS)
	@find congdanso -type d -exec touch {}/__init__.py \;
	@touch $@

install: $(VENV)/.stamp $(STUBS)

run: install
	$(PY) -m servicekit.supervisor

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-postgres: install
	CDS_TEST_POSTGRES=1 $(PY) -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) congdanso var build *.egg-info

bench: install
	$(PY) -m bench $(BENCH_ARGS)
