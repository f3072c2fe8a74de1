# The README's two commands: `make demo` and `make test`. Each does its own set-up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint lab-up lab-down lab-status bench farm-up farm-down clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(STAMP)

# A real audit of this machine with the bundled example. Exit 1 (snowflake) is a successful demo.
demo: $(STAMP)
	$(BIN)/driftcheck scan -i inventories/example --report-dir reports/example; \
	  rc=$$?; echo "driftcheck exited $$rc (reports in reports/example/)"; [ $$rc -le 1 ]

# The whole suite: unit tests, sshd tests, the lab fleet end to end, the browser tests, lint.
test: $(STAMP)
	bash tests/setup-system.sh
	$(MAKE) lint
	$(BIN)/pytest -ra

test-fast: $(STAMP)
	$(BIN)/pytest -ra -m "not lab and not browser"

lint: $(STAMP)
	$(BIN)/ruff check driftcheck tests bench
	$(BIN)/ruff format --check driftcheck tests bench
	$(BIN)/mypy
	$(BIN)/shellcheck driftcheck/collectors/collect.sh tests/setup-system.sh .ci/run

lab-up: $(STAMP)
	bash tests/setup-system.sh
	$(BIN)/python -m tests.lab up $(if $(LAB_HOSTS),--hosts $(LAB_HOSTS))

lab-down: $(STAMP)
	$(BIN)/python -m tests.lab down

lab-status: $(STAMP)
	$(BIN)/python -m tests.lab status

# Side-by-side figures (ratios matter, the machines are shared): driftcheck against a bare
# paramiko fan-out on an sshd farm of BENCH_SIZES hosts (it starts and stops the farm itself),
# the scan against the same fan-out on the lab fleet (start it first: make lab-up LAB_HOSTS=50),
# the HTML report at 5 / 500 / 5,000 hosts, and the peer comparison at 1,000 hosts x 2,000 items.
# The largest size's real report is then opened in Chromium (BENCH_KEEP keeps each size's).
BENCH_SIZES ?= 100 1000 5000
BENCH_KEEP ?= /var/tmp/driftcheck-bench
bench: $(STAMP)
	rm -rf $(BENCH_KEEP)
	# bytecode for every module first: under PYTHONDONTWRITEBYTECODE (set on some machines) an
	# editable install otherwise compiles driftcheck from source in every process it starts
	$(BIN)/python -m compileall -q driftcheck bench >/dev/null
	$(BIN)/python -m bench.fleet --sizes $(BENCH_SIZES) --keep $(BENCH_KEEP)
	$(BIN)/python -m bench.html_report --page $(BENCH_KEEP)/$(lastword $(BENCH_SIZES))-hosts/latest/report.html
	$(BIN)/python -m bench.scan_vs_paramiko --breakdown
	$(BIN)/python -m bench.html_report
	$(BIN)/python -m bench.peers_majority

# The sshd farm alone (bench/farm.py): FARM_HOSTS real SSH hosts on 127.89.x.y.
FARM_HOSTS ?= 100
farm-up: $(STAMP)
	$(BIN)/python -m bench.farm up --hosts $(FARM_HOSTS)

farm-down: $(STAMP)
	$(BIN)/python -m bench.farm down

clean:
	rm -rf $(VENV) build *.egg-info
