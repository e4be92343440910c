# Quick start: `make serve` and `make test` (each creates .venv on first use).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: serve test proto venv models bench clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e clients/python -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

serve: $(STAMP)
	$(PY) -m server $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Regenerate the gRPC stubs (and .pyi) from proto/; a test fails when they drift.
proto: $(STAMP)
	$(PY) -m grpc_tools.protoc -Iproto --python_out=clients/python \
		--pyi_out=clients/python --grpc_python_out=clients/python \
		proto/oneiros/v1/oneiros.proto

clean:
	rm -rf $(VENV) build *.egg-info clients/python/*.egg-info
