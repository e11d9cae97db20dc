# Rectiflow — two commands do all set-up: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
UV := .tools/bin/uv
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
LINT_PATHS := workflow web notifications tests $(wildcard bench)

.PHONY: run test test-fast test-slow lint bench bench-full install install-test system-deps demo clean \
	translations compile-translations wheelhouse install-offline

$(UV):
	$(PY) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# the lean runtime (no Prefect, no browser)
install: $(UV)
	$(UV) sync --frozen --python $(PY) --extra server
	@$(MAKE) --no-print-directory compile-translations

# the gettext catalogues: compiled (.mo, not committed) from web/translations/*/messages.po
compile-translations:
	$(BIN)/pybabel compile -d web/translations -D messages --statistics 2>&1 | grep -v '^compiling' || true
	@test -f web/translations/zh/LC_MESSAGES/messages.mo || { echo "catalogues did not compile"; exit 1; }

# after changing a text in the code or templates: extract the ids and merge them into the .po
translations: install-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --add-location=file --sort-by-file \
	  --no-wrap --project Rectiflow --copyright-holder Rectiflow -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations -D messages \
	  --no-wrap --ignore-obsolete --no-fuzzy-matching
	@$(MAKE) --no-print-directory compile-translations

install-test: $(UV)
	$(UV) sync --frozen --python $(PY) --all-extras
	@$(MAKE) --no-print-directory compile-translations

# Offline install (servers in government networks have no internet): see docs/deploy.md.
# On a connected machine: `make wheelhouse ARCH=aarch64` (or x86_64) writes wheelhouse/ with every
# runtime wheel of uv.lock (PostgreSQL and gunicorn included) for that CPU and Python 3.11.
ARCH ?= $(shell uname -m)
WHEELHOUSE ?= wheelhouse
wheelhouse: $(UV)
	@mkdir -p $(WHEELHOUSE)
	$(UV) export --frozen --no-dev --extra postgres --extra server --no-emit-project \
	  --format requirements-txt -o $(WHEELHOUSE)/requirements.txt >/dev/null
	.tools/bin/pip download --quiet --dest $(WHEELHOUSE) --only-binary=:all: --python-version 3.11 \
	  --implementation cp --platform manylinux2014_$(ARCH) --platform manylinux_2_28_$(ARCH) \
	  --platform manylinux_2_34_$(ARCH) -r $(WHEELHOUSE)/requirements.txt
	.tools/bin/pip download --quiet --dest $(WHEELHOUSE) --only-binary=:all: "setuptools>=68" "pip>=24"
	@echo "$(WHEELHOUSE)/: $$(ls $(WHEELHOUSE)/*.whl | wc -l) wheels for $(ARCH); copy it with the checkout"

# On the server, in the copied checkout: a venv from the wheelhouse alone (--no-index)
install-offline:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-index --find-links $(WHEELHOUSE) --upgrade pip setuptools
	$(BIN)/pip install --quiet --no-index --find-links $(WHEELHOUSE) -r $(WHEELHOUSE)/requirements.txt
	$(BIN)/pip install --quiet --no-index --no-deps --no-build-isolation -e .
	@$(MAKE) --no-print-directory compile-translations

# Debian's chromium and CJK fonts for the browser tests (never `playwright install`), and
# LibreOffice's writer (headless) that checks the letters open cleanly
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'wenquanyi' || [ ! -x /usr/bin/soffice ]; then \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium fonts-wqy-zenhei libreoffice-writer-nogui >/dev/null; \
	fi

instance/config.py:
	@mkdir -p instance
	@echo "SECRET_KEY = '$$($(PY) -c 'import secrets; print(secrets.token_hex(32))')'" > $@
	@echo "wrote $@ (a random SECRET_KEY)"

run: install instance/config.py
	$(BIN)/rectiflow db upgrade
	$(BIN)/rectiflow demo --if-empty
	$(BIN)/rectiflow run --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy workflow notifications
	$(BIN)/lint-imports --no-cache

test: install-test system-deps lint
	PREFECT_SERVER_ANALYTICS_ENABLED=false RECTIFLOW_TEST_PG_URL=$(PG_URL) $(BIN)/pytest -q -m "not slow"

test-slow: install-test system-deps
	PREFECT_SERVER_ANALYTICS_ENABLED=false RECTIFLOW_TEST_PG_URL=$(PG_URL) $(BIN)/pytest -q -m slow

# Debian's wrk drives the web figure; without it (no root) that figure is skipped with a note
BENCH_WRK = @command -v wrk >/dev/null 2>&1 || { (apt-get update -qq || true) && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || \
	echo "wrk not installed: the web figure will be skipped"; }

bench: install-test
	$(BENCH_WRK)
	$(BIN)/python -m bench.run --quick

bench-full: install-test
	$(BENCH_WRK)
	$(BIN)/python -m bench.run --full

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache test-artifacts
