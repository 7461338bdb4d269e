# SociaLens — the two commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
OUT    ?= demo-out

.PHONY: demo test setup lint bench eval clean chromium

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (or run: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e '.[test,web,spark]'
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/socialens demo --out $(OUT)

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; it never downloads
# a browser). Installed only when missing and we are root (CI); otherwise the tests say what to do.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

test: setup chromium
	$(PY) -m pytest -q -m "not exhaustive"

lint: setup
	$(VENV)/bin/ruff check socialens tests scripts bench eval

bench: setup
	$(PY) -m bench

eval: setup
	$(PY) -m pytest -q -m exhaustive tests/test_kill_points.py tests/site/test_publish_atomic.py
	$(PY) -m eval

clean:
	rm -rf $(OUT) .pytest_cache build *.egg-info
