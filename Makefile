# `make run` installs what is missing, builds the spaCy pipeline, loads the
# database, trains when the training data changed, and starts the assistant.
# `make test` runs every test. `make help` lists every target. See README.md.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/alliance.tar.gz
SPACY_MODEL := models/spacy_fr/meta.json
TRAINING_DATA := config.yml domain.yml $(shell find data/rasa -name '*.yml' 2>/dev/null)
RUFF := $(VENV)/bin/ruff check --line-length 120 --target-version py310
# Browser tests: Debian's Chromium (never a downloaded browser) and axe-core from npm.
CHROMIUM := /usr/bin/chromium
# Production mode's load balancer: Debian's nginx.
NGINX := /usr/sbin/nginx
AXE := tests/browser/node_modules/axe-core/axe.min.js
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Every command below, Rasa's included, runs without telemetry and with quiet logs.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Rasa 3.6 needs Python 3.10; the default python3 may be newer.
PYTHON310 ?= $(shell for p in python3.10 $$(ls -d /root/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10 2>/dev/null); do $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && echo $$p && break; done)

.PHONY: help run test install spacy train db lint unit validate stories conversation browser-deps crossval bench \
	bench-workshop bench-broker bench-console workshop purge lock clean run-prod production bench-prod

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: install $(SPACY_MODEL) $(MODEL) db ## install, build, train if needed, and start Rasa, actions and web app (:8000)
	$(PY) -m bot.runtime.stack run

test: install $(SPACY_MODEL) $(MODEL) db browser-deps lint validate unit stories conversation production ## every test
	@echo "make test: every check passed"

install: $(VENV)/.installed ## the virtualenv from requirements.lock (Python 3.10)

$(VENV)/.installed: requirements.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6 refuses newer versions)"; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25"
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip check
	touch $@

$(SPACY_MODEL): bot/runtime/spacy_model.py | install
	$(PY) -m bot.runtime.spacy_model

spacy: $(SPACY_MODEL) ## build the French spaCy pipeline (models/spacy_fr)

$(MODEL): $(TRAINING_DATA) $(SPACY_MODEL) | install
	$(PY) -m bot.runtime.rasa_launcher train --config config.yml --domain domain.yml --data data/rasa --out models --fixed-model-name alliance

train: $(MODEL) ## train the assistant when config.yml, domain.yml or data/rasa changed

db: install ## validate data/ and load it into the project database
	$(PY) -m bot.store.loader

# Static security scan of our own code. Skipped checks, each explained in docs/security.md:
# B404/B603 (we start our own processes with fixed argument lists), B311 (random numbers for simulated users).
BANDIT := $(VENV)/bin/bandit -q -r bot actions bench --skip B404,B603,B311

lint: install ## ruff and bandit
	$(RUFF) bot actions tests bench
	$(BANDIT)

validate: install ## rasa data validate
	$(RASA) data validate --config config.yml --domain domain.yml --data data/rasa

unit: install ## unit tests, no server (the architecture's import rules included)
	$(PY) -m pytest -q tests/unit

# Through the launcher, so that the stories check the predictions of Rasa as the servers run it.
stories: $(MODEL) ## rasa test core on tests/test_stories.yml
	$(PY) -m bot.runtime.rasa_launcher test core --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out results/stories

# One pytest run, so that the REST and browser tests share one running stack.
conversation: $(MODEL) browser-deps ## REST, NLU, knowledge and browser tests against one running stack
	$(PY) -m pytest -q tests/conversation tests/nlu tests/knowledge tests/browser

browser-deps: $(CHROMIUM) $(AXE) ## Debian's Chromium and axe-core, when missing

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver

$(AXE): tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

# Production mode (bot/runtime/production.py): N Rasa servers behind nginx, PostgreSQL and Redis; settings from .env.
run-prod: install $(SPACY_MODEL) $(MODEL) $(NGINX) ## production mode on one machine: 2 Rasa servers, PostgreSQL, Redis, nginx (:8080)
	$(PY) -m bot.runtime.production run

$(NGINX):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx

production: $(MODEL) $(NGINX) ## the production topology's tests, on their own ports and throw-away databases
	$(PY) -m pytest -q tests/production

bench-prod: $(MODEL) $(NGINX) ## load benchmark of the production topology against the stock bot
	$(PY) -m bench.production

crossval: $(SPACY_MODEL) ## NLU cross-validation with and without the spaCy vectors (about 25 min)
	$(PY) -m bench.crossval

bench: $(MODEL) ## speed benchmark against a stock `rasa init` bot (about 15 min)
	$(PY) -m bench.run

bench-broker: $(MODEL) ## what Rasa's event broker (analytics) adds to a turn's p50, with and without it (about 10 min)
	$(PY) -m bench.broker

bench-workshop: install ## the workshop dashboard with 200 participants
	$(PY) -m bench.workshop_dashboard

bench-console: install ## the owner's console pages with 10,000 diagnostics and 100,000 events (SQLite; DATABASE=postgresql)
	$(PY) -m bench.console --database $(or $(DATABASE),sqlite)

workshop: install db ## open a workshop: make workshop TITLE="Atelier Lyon" [HOURS=4]
	$(PY) -m bot.workshops create --title "$(TITLE)" $(if $(HOURS),--hours $(HOURS))

purge: install ## delete what is older than RETENTION_DAYS (diagnostics, conversations, workshops)
	$(PY) -m bot.store.privacy purge

lock: ## re-pin requirements.lock from the virtualenv
	$(PY) -m pip freeze --all --exclude pip --exclude-editable > requirements.lock

clean: ## remove results, run files and the trained model
	rm -rf results .run models/alliance.tar.gz
