# Meldkluis: `make run` serves on http://127.0.0.1:8000 (SQLite), `make test` runs the whole suite.
# Both set themselves up: venv, install, Debian's Chromium for the browser tests, instance/, migrations.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000
export PYTHONDONTWRITEBYTECODE := 1
export MELDKLUIS_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test lint fuzz bench browser redis deploy-tools setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/meldkluis db upgrade

run: setup
	$(BIN)/meldkluis setup-link --if-no-admin
	$(BIN)/gunicorn --config deploy/gunicorn.conf.py --bind 127.0.0.1:$(PORT) 'app:create_app()'

# The browser tests drive Debian's Chromium (Playwright's own download cannot reach its host).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

# The limits tests start their own Redis (no persistence) on a free loopback port: only the binary is needed.
redis:
	@if [ ! -x /usr/bin/redis-server ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server; \
	fi

# The deploy tests check the shipped configs with the real tools: Debian's nginx, tor and docker-compose.
# (Installing them does not start them: the tests run their own nginx on free loopback ports.)
deploy-tools:
	@if [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/sbin/tor ] || [ ! -x /usr/bin/docker-compose ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx tor docker-compose; \
	fi

test: $(STAMP) browser redis deploy-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check app crypto tests bench
	$(BIN)/mypy --strict crypto
	$(BIN)/bandit -q -c pyproject.toml -r app crypto

# A long hypothesis run over every form of every audience (make test runs a short one).
fuzz: $(STAMP)
	MELDKLUIS_FUZZ_RANDOM=1 MELDKLUIS_FUZZ_EXAMPLES=$${MELDKLUIS_FUZZ_EXAMPLES:-400} $(BIN)/python -m pytest -q tests/handler/test_fuzz_forms.py

bench: $(STAMP)
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
