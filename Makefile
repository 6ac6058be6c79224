# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
GANZOO := $(VENV)/bin/ganzoo
DEMO_DIR ?= demo-run
DEMO_STEPS ?= 400
PYTEST_ARGS ?=
# Test processes (pytest-xdist): two fit the 2-core machines CI runs on.
PYTEST_WORKERS ?= 2

.PHONY: install demo test test-slow test-all bench docs export clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(GANZOO) train dcgan --data digits --steps $(DEMO_STEPS) --latent-dim 64 \
	    --model-option generator_filters=32 --model-option discriminator_filters=32 \
	    --out $(DEMO_DIR)/run --overwrite
	$(GANZOO) sample $(DEMO_DIR)/run --seed 0 --out $(DEMO_DIR)/samples-keras.png --overwrite
	$(GANZOO) export $(DEMO_DIR)/run --format onnx --out $(DEMO_DIR)/onnx --overwrite
	$(GANZOO) sample $(DEMO_DIR)/onnx --seed 0 --out $(DEMO_DIR)/samples-onnx.png --overwrite
	@echo
	@echo "Trained preset:     $(DEMO_DIR)/run/preset"
	@echo "Sample grid (Keras): $(DEMO_DIR)/samples-keras.png"
	@echo "ONNX bundle:        $(DEMO_DIR)/onnx (parity recorded in ganzoo.json)"
	@echo "Sample grid (ONNX):  $(DEMO_DIR)/samples-onnx.png"

test: install
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

# The slow tests alone: the families' train -> sample -> export runs, the shipped presets'
# checks, the recipes, Ctrl-C and multi-worker runs. Tests marked `serial` (a run that must
# answer Ctrl-C within seconds) run first, alone, with no training beside them.
test-slow: install
	$(PY) -m pytest -q -m "slow and serial" $(PYTEST_ARGS)
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) -m "slow and not serial" $(PYTEST_ARGS)

# The whole suite, as CI runs it: the fast tests first, then the slow ones.
test-all: test test-slow

# Speed of ONNX bundles against Keras under tf.function on this machine's CPU
# (docs/benchmarks.md holds measured figures; benchmarks/gpu.py is for GPU machines).
bench: install
	$(PY) benchmarks/onnx_vs_keras.py
	$(PY) benchmarks/families.py

export: install
	$(PY) -c "import ganzoo; print('\n'.join(ganzoo.list_presets()))" | while read -r name; do \
	    $(GANZOO) export "$$name" --format onnx --out "export/$$name" --overwrite || exit 1; \
	done

docs: install
	$(PY) -m pip install --quiet -e ".[docs]"
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache site
