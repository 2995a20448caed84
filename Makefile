# `make run` serves the app for development on http://127.0.0.1:8000 (HOST_PORT=...); `make serve`
# serves it for production with gunicorn (see config/serve); `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST_PORT ?= 127.0.0.1:8000

# A Python >= 3.12: the .python-version one through pyenv, else python3.13 / 3.12 / 3 on the PATH.
define FIND_PYTHON
for c in "$$(pyenv which python3 2>/dev/null)" python3.13 python3.12 python3; do \
  [ -n "$$c" ] && command -v "$$c" >/dev/null 2>&1 \
  && "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
  && { command -v "$$c"; exit 0; }; \
done; exit 1
endef

.PHONY: run serve test test-browser install install-dev browser bench check-deploy lint clean

$(PY):
	@py=$$($(FIND_PYTHON)) || { echo "Python 3.12 or newer is needed: install python3.12 (or pyenv install 3.12) and run make again." >&2; exit 1; }; \
	echo "Creating $(VENV) with $$py"; "$$py" -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[postgres]"
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet ".[dev,postgres]"
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@command -v /usr/bin/chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Browser tests need Debian's chromium package: apt-get install chromium" >&2; fi; }

run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --no-input
	DJANGO_DEBUG=1 $(PY) manage.py import_articles seeds/
	DJANGO_DEBUG=1 $(PY) manage.py ensure_login --address $(HOST_PORT)
	DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST_PORT)

# Collects static files, migrates, then gunicorn: WEB_CONCURRENCY workers (4) on HOST_PORT.
serve: install
	PY=$(PY) HOST_PORT=$(HOST_PORT) config/serve

test: install-dev browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-browser: install-dev browser
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

bench: install-dev
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

check-deploy: install
	DJANGO_SECRET_KEY=$$(head -c 48 /dev/urandom | base64) DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=news.example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) staticfiles
