# SafeFace: `make run` to use it, `make test` to test it. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c requirements/constraints.txt

.PHONY: run test install install-test css bench screenshots clean

$(VENV)/.installed: requirements.txt requirements/nodeps.txt requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -U pip
	$(PIP) -r requirements.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -r requirements/nodeps.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements/test.txt
	$(PIP) -r requirements/test.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Run SafeFace: web server and one worker, embedded database and broker; Ctrl-C stops both.
run: install
	bash scripts/run.sh

## Rebuild static/css/app.css from the Tailwind theme (needs Node and npm; the built file is committed).
css: install
	$(BIN)/python manage.py tailwind install
	$(BIN)/python manage.py tailwind build

## Screenshots of the main pages at desktop and phone widths (needs Debian's chromium).
screenshots: install-test
	$(BIN)/python scripts/screenshots.py screenshots-tmp

## Run the test suite (installs what the tests need first).
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks of the face engine; numbers are quoted in docs/benchmarks.md.
bench: install
	$(BIN)/python -m benchmarks.engine

clean:
	rm -rf $(VENV) data
