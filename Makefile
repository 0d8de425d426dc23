# The two commands of the README. Each does its own set-up on a fresh machine:
#   make run   - create .venv, install Quarterdeck, open the console on the simulator
#   make test  - install the system packages the tests drive (tmux, poppler-utils, nginx,
#                redis-server, postgresql, openssl, gnupg, prometheus, its node exporter and
#                alertmanager), then run every test

PYTHON ?= python3
VENV := .venv
# The console needs only the runtime packages; the tests add their references
# (backtesting.py, vectorbt, arch and their SciPy stack) on top.
RUN_STAMP := $(VENV)/.installed
STAMP := $(VENV)/.installed-test

.PHONY: run test lint system-deps screenshot

run: $(RUN_STAMP)
	$(VENV)/bin/quarterdeck

test: $(STAMP) system-deps
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

system-deps:
	./scripts/system-deps.sh

screenshot: $(STAMP)
	$(VENV)/bin/python scripts/screenshot.py docs/screenshot.svg

$(RUN_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Quarterdeck needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)
