# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:12])")

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,mysql]'
	rm -f $(VENV)/.installed-*
	touch $@

.PHONY: install run test test-fast lint bench tools
install: $(STAMP)

## Other tools the import tests run for real where they can be installed: dbmate, from npm
## (best effort: without npm those tests say they skip).
DBMATE = .tools/node_modules/.bin/dbmate
$(DBMATE):
	@command -v npm >/dev/null && npm install --silent --no-audit --no-fund --prefix .tools dbmate@2.36.0 \
	  || echo "npm is missing or failed: the test that runs dbmate itself will skip"
tools: $(DBMATE)

## The main job: the daemon on the example project (SQLite under ./data), in the foreground; Ctrl-C stops it.
run: $(STAMP)
	$(BIN)/migrund --config config/migrund.yaml daemon

## The whole test suite (servers are used when reachable; MIGRUND_REQUIRE_SERVERS=1 makes them required).
test: $(STAMP) $(DBMATE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Unit tests and the SQLite tests that are quick (no database server, no kill -9 trials), on two workers: about a minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not server and not slow" -n 2 $(PYTEST_ARGS)

## The type checker and the layer contracts (.ci/run runs these before the tests).
lint: $(STAMP)
	$(BIN)/python -m mypy
	$(BIN)/lint-imports

## Every speed comparison against its floor (docs/performance.md): SQLite paths at 1,000 and 10,000 migrations (with peak
## memory), servers, backups at 1 MB/100 MB/1 GB, the daemon, then the instruction counts (valgrind). About half an hour.
bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/run.py --n 10000 --small 1000 --repeat 3
	$(BIN)/python bench/servers.py
	$(BIN)/python bench/backups.py
	$(BIN)/python bench/daemon.py
	$(BIN)/python bench/instructions.py
