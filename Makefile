# Duban: `make demo` runs the main job, `make test` runs the tests. Both set everything up first
# (Debian packages, the virtualenv, npm packages) and are fast when it is already there.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils \
        chromium postgresql nodejs npm
DEMO_DATE ?= 2018-09-15
DEMO_SEED ?= 20
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup debs venv npm demo test lint bench clean

setup: debs venv npm

debs:
	@pkgs="$(DEBS)"; \
	if command -v node >/dev/null && command -v npm >/dev/null; then pkgs=$$(echo $$pkgs | tr ' ' '\n' | grep -vxE 'nodejs|npm'); fi; \
	missing=""; for p in $$pkgs; do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/bin/activate:
	python3 -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/activate setup.cfg pyproject.toml constraints.txt
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $@

venv: $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

npm: node_modules/.installed

DEMO_DIR := var/demo
DEMO_ENV := DUBAN_DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DIR)/simulation.db DUBAN_DATA_DIR=$(DEMO_DIR)/data

# The demo: replay the 2018 policy from its issue date to DEMO_DATE with scripted units (real
# scheduler steps, documents, mail as .eml files), add login accounts, then serve the web app
# with its scheduler on the simulated clock.
demo: setup
	rm -rf $(DEMO_DIR)
	$(VENV)/bin/duban policy show
	$(VENV)/bin/duban simulate --from 2018-05-30 --to $(DEMO_DATE) --seed $(DEMO_SEED) --out $(DEMO_DIR)
	$(DEMO_ENV) $(VENV)/bin/duban init --demo
	@echo "模拟数据：$(DEMO_DIR)（文书 PDF 在 notices/ 与 bulletins/，汇总见 summary.json）"
	$(DEMO_ENV) $(VENV)/bin/duban serve --host $(HOST) --port $(PORT)

test: setup
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -q

lint: venv
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check engine web notifications cli simulator tests benchmarks scripts
	$(VENV)/bin/mypy

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules var test-output
