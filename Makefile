# 返岗通 Fangang. `make run` serves the app on SQLite; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev assets migrate seed clean cluster-up cluster-down cluster-status

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The console's front-end assets (htmx, Bootstrap, the QR decoder), pinned in package-lock.json and
# served by the app from node_modules/. Without Node the API still runs; the console's pages lose
# their styling and scripts, and this says so in one line.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "Node.js/npm not found: install them (apt-get install nodejs npm) for the staff console's assets (/console)"; fi

assets: node_modules/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed
	$(FLASK) keys ensure

run: seed assets
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

# With MariaDB configured (TEST_DATABASE_URL or REQUIRE_SERVICES=1) the suite runs once per backend, as two
# processes at once on the two cores: the MariaDB run shows as it goes, the SQLite run's output follows it.
# Tests that take no backend run in the SQLite process only (tests/conftest.py, TEST_BACKENDS).
test: install-dev assets
	@if [ -n "$$TEST_DATABASE_URL" ] || [ "$$REQUIRE_SERVICES" = 1 ]; then \
	  log=$$(mktemp); \
	  TEST_BACKENDS=sqlite $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) >$$log 2>&1 & sqlite=$$!; \
	  TEST_BACKENDS=mariadb $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS); maria=$$?; \
	  wait $$sqlite; lite=$$?; echo "==== the SQLite run ===="; cat $$log; rm -f $$log; \
	  [ $$maria -eq 5 ] && maria=0; \
	  echo "make test: MariaDB run exit $$maria, SQLite run exit $$lite"; [ $$maria -eq 0 ] && [ $$lite -eq 0 ]; \
	else $(BIN)/python -m pytest $(PYTEST_ARGS); fi

# The storage cluster on loopback ports (deploy/cluster/): three MariaDB Galera nodes behind HAProxy, a
# Redis primary, a replica and three sentinels, with their data under CLUSTER_DIR (default
# /tmp/fangang-cluster); never the machine's own MariaDB or Redis. Needs Debian's galera-4, haproxy,
# rsync and redis-server (.ci/run installs them).
cluster-up: install
	$(BIN)/python deploy/cluster/cluster.py up

cluster-status: install
	$(BIN)/python deploy/cluster/cluster.py status

cluster-down: install
	$(BIN)/python deploy/cluster/cluster.py down

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis node_modules
