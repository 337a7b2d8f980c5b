# The two commands of README.md: `make run` and `make test`. Both install what they need into .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: install run test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) scripts/dev.py

test: install
	$(PY) -m pytest -q -p no:cacheprovider

bench: install
	$(PY) bench/throughput.py

clean:
	rm -rf $(VENV) .sintra
