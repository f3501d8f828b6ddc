# Fresh machine:  make demo   (sets up .venv, builds sample data, runs the pipeline)
#                 make test   (sets up .venv with the test extras, runs the test suite)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo test test-all lint docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,distributed,pose,ethogram,onnx,openvino,moseq,viz,nwb,docs]" -c constraints/moseq.txt
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	rm -rf demo_out
	$(VENV)/bin/behavior-soup demo --out demo_out

test: $(STAMP)
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m ruff format --check src tests benchmarks scripts
	$(PY) -m pytest -m "not slow and not gpu" -q

test-all: $(STAMP)
	$(PY) -m pytest -q

docs: $(STAMP)
	rm -rf docs/_build docs/generated
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

lint: $(STAMP)
	$(PY) -m ruff check --fix src tests benchmarks scripts
	$(PY) -m ruff format src tests benchmarks scripts

bench: $(STAMP)
	$(PY) benchmarks/table_ops.py
	$(PY) benchmarks/sta.py
	$(PY) benchmarks/pose.py
	$(PY) benchmarks/ethogram_infer.py
	$(PY) benchmarks/ethogram_networks.py
	$(PY) benchmarks/analysis.py
	$(PY) benchmarks/viewer.py
	$(PY) benchmarks/scaling.py

clean:
	rm -rf $(VENV) demo_out .pytest_cache .ruff_cache
