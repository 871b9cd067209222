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

.PHONY: run test lint fuzz bench browser redis mat2 deploy-tools setup clean

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

# Removing hidden data from uploads runs Debian's mat2, sandboxed by bubblewrap (app/services/scrub.py).
mat2:
	@if [ ! -x /usr/bin/mat2 ] || [ ! -x /usr/bin/bwrap ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq mat2 bubblewrap; \
	fi

# The deploy tests check the shipped configs with the real tools: Debian's nginx, tor and docker-compose.
# (Installing them does not start them: the tests run their own nginx on free loopback ports.)
deploy-tools:
	@if [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/sbin/tor ] || [ ! -x /usr/bin/docker-compose ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx tor docker-compose; \
	fi

test: $(STAMP) browser redis mat2 deploy-tools $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check app crypto tests bench
	$(BIN)/mypy --strict crypto
	$(BIN)/bandit -q -c pyproject.toml -r app crypto

# A long hypothesis run over every form of every audience (make test runs a short one).
fuzz: $(STAMP)
	MELDKLUIS_FUZZ_RANDOM=1 MELDKLUIS_FUZZ_EXAMPLES=$${MELDKLUIS_FUZZ_EXAMPLES:-400} $(BIN)/python -m pytest -q tests/handler/test_fuzz_forms.py

# Every budget of ARCHITECTURE.md against gunicorn and PostgreSQL (each bench in a private schema, dropped
# afterwards); each prints its figures and ratios. Runs all, then fails if any budget was missed.
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
BENCHES := pages submit upload casepage growth

bench: $(STAMP)
	@failed=""; for b in $(BENCHES); do \
	  echo "== bench/$$b.py"; \
	  DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/$$b.py || failed="$$failed $$b"; \
	done; \
	if [ -n "$$failed" ]; then echo "over budget or failed:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules
