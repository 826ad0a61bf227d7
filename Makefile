# The README's two commands: `make run` and `make test`. Everything the project
# needs is installed from here, on a fresh machine, into .venv (Python 3.10).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
MODEL_STAMP := models/.fingerprint
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false

# Rasa 3.6 installs on Python 3.10 only: find one (PATH, pyenv, system).
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	if "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then command -v "$$p"; break; fi; done)

# The data, and the code that adds to it or trains on it (the out-of-scope importer, the NLU components).
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null | sort) bot/rasa_ext/negatives.py bot/rasa_ext/nlu.py

.PHONY: help install constraints train run test validate stories browser lint eval bench clean

# Each target's help is the `## ...` comment on the target's own line, so `make help` cannot go stale.
help: ## list the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | \
		while IFS=$$'\t' read -r target text; do printf 'make %-12s %s\n' "$$target" "$$text"; done

# The versions of constraints.txt, pinned from a working install, so every install resolves alike.
$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: Rasa 3.6 needs it (install python3.10 or pyenv 3.10)."; exit 1; }
	@echo "==> [install] Creating $(VENV) with $(PYTHON310) and installing the project (a few minutes the first time)"
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet --progress-bar off -c constraints.txt -e '.[dev]'
	@touch $@

install: $(STAMP) ## create .venv and install the project with the pinned versions of constraints.txt

# Installs what a changed pyproject.toml asks for (keeping the versions that still fit), then pins.
constraints: ## pin constraints.txt again from .venv after a change to pyproject.toml's dependencies
	@test -x $(PY) || { echo "No $(VENV) yet: run make install first."; exit 1; }
	@$(PY) -m pip install --quiet --progress-bar off -e '.[dev]'
	@$(PY) -m pip check
	@{ sed -n '/^#/p' constraints.txt; $(PY) -m pip freeze --all --exclude-editable --exclude pip; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt
	@touch $(STAMP)
	@echo "==> [constraints] constraints.txt pinned from $(VENV); review the diff and commit it"

$(MODEL_STAMP): $(STAMP) $(TRAINING_INPUTS)
	@echo "==> [train] Training the assistant because its training data changed (a few minutes)"
	@$(RASA) train --out models --fixed-model-name citybot
	@mkdir -p models && touch $@

train: $(MODEL_STAMP) ## train the assistant if its training data changed (models/citybot.tar.gz)

run: train ## install, train if the data changed, start the assistant (Ctrl-C stops it)
	@echo "==> [run] Starting the Open311 server, the action server and the Rasa server"
	@$(VENV)/bin/citybot run

validate: $(STAMP) ## validate the training data (rasa data validate)
	@echo "==> [test] Validating the training data"
	@$(RASA) data validate --fail-on-warnings

stories: train ## run the Rasa test stories of tests/stories
	@echo "==> [test] Rasa test stories"
	@$(RASA) test core --model models/citybot.tar.gz --stories tests/stories --fail-on-prediction-errors --out reports/rasa-core

# Browser tests use Debian's chromium (Playwright's own browser download is not used).
browser: ## install Debian's chromium for the browser tests if it is missing
	@command -v chromium >/dev/null 2>&1 || { echo "==> [test] Installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| { echo "could not install chromium (run as root, or install the 'chromium' package)"; exit 1; }; }

test: lint validate stories browser ## install, lint, train if needed, validate the data and run every test
	@echo "==> [test] pytest (unit, HTTP and end-to-end tests)"
	@$(PY) -m pytest -q

# Style and types (configured in pyproject.toml); the first step of `make test`.
lint: $(STAMP) ## check style, formatting and types (ruff, mypy)
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m mypy

eval: train ## measure the NLU on held-out and external data (reports/eval.json)
	@$(PY) -m bench.eval

bench: train ## speed and scale against stock Rasa (reports/bench.json, reports/bench.png)
	@$(PY) -m bench.speed

clean: ## remove the models, reports and run-time state (models/, reports/, var/, results/)
	rm -rf models reports results
	find var -mindepth 1 ! -name .gitkeep -delete 2>/dev/null || true
