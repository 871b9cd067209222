# Meldkluis: `make run` serves on http://127.0.0.1:8000 (SQLite), `make test` runs the whole suite.
# Both set themselves up: venv, install, Debian's Chromium for the browser tests, instance/, migrations.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000
export PYTHONDONTWRITEBYTECODE := 1
export MELDKLUIS_BASE_URL ?= http://127.0.0.1:$(PORT)

AXE    := node_modules/axe-core/axe.min.js

.PHONY: run test lint fuzz bench browser redis setup clean

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

# axe-core (npm, test-only) for the accessibility browser tests: npm from Debian when missing, then the
# locked version once; later runs find the file newer than the lock and stay offline.
$(AXE): package.json package-lock.json
	@if ! command -v npm >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm; \
	fi
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(AXE)

# The limits tests start their own Redis (no persistence) on a free loopback port: only the binary is needed.
redis:
	@if [ ! -x /usr/bin/redis-server ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server; \
	fi

test: $(STAMP) browser redis $(AXE)
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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules
