# The two commands of README.md: `make run` and `make test`. Both install what they need into .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: install browser run lint test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# workers run as python -OO (workers/__main__.py): their .opt-2.pyc files, compiled once here, not at each start
	$(PY) -OO -m compileall -q -j 0 $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
	  config workers > /dev/null
	touch $@

#: Debian's Chromium for the browser tests (Playwright cannot download a browser here); as root, or with sudo.
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) || \
	  (echo "could not install Debian's chromium (needed by tests/browser): run 'apt-get install -y chromium' as root" >&2; exit 1)

install: $(VENV)/.installed

browser: $(CHROMIUM)

run: install
	$(PY) scripts/dev.py

#: ruff over the whole tree, mypy over the application packages (pyproject.toml); cheap, so before the tests
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

#: the fault suite in its own pytest process beside the rest (scripts/test.py says why); ARGS=... runs pytest ARGS
test: lint browser
	$(PY) scripts/test.py $(ARGS)

bench: install
	$(PY) bench/throughput.py

clean:
	rm -rf $(VENV) .sintra
