# `make run` installs what is missing, builds the spaCy pipeline, loads the
# database, trains when the training data changed, and starts the assistant.
# `make test` runs every test. See README.md.

SHELL := /bin/bash
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
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Rasa 3.6 needs Python 3.10; the default python3 may be newer.
PYTHON310 ?= $(shell for p in python3.10 $$(ls -d /root/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10 2>/dev/null); do $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && echo $$p && break; done)

.PHONY: run test install spacy train db lint unit validate stories conversation browser-deps crossval bench bench-workshop workshop lock clean \
	run-prod production bench-prod

run: install $(SPACY_MODEL) $(MODEL) db
	$(PY) -m bot.stack run

test: install $(SPACY_MODEL) $(MODEL) db browser-deps lint validate unit stories conversation production

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6 refuses newer versions)"; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25"
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip check
	touch $@

$(SPACY_MODEL): bot/spacy_model.py | install
	$(PY) -m bot.spacy_model

spacy: $(SPACY_MODEL)

$(MODEL): $(TRAINING_DATA) $(SPACY_MODEL) | install
	$(RASA) train --config config.yml --domain domain.yml --data data/rasa --out models --fixed-model-name alliance

train: $(MODEL)

db: install
	$(PY) -m bot.loader

# Static security scan of our own code. Skipped checks, each explained in README.md (« Security »):
# B404/B603 (we start our own processes with fixed argument lists), B311 (random numbers for simulated users).
BANDIT := $(VENV)/bin/bandit -q -r bot actions bench --skip B404,B603,B311

lint: install
	$(RUFF) bot actions tests bench
	$(BANDIT)

validate: install
	$(RASA) data validate --config config.yml --domain domain.yml --data data/rasa

unit: install
	$(PY) -m pytest -q tests/unit

stories: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out results/stories

# One pytest run, so that the REST and browser tests share one running stack.
conversation: $(MODEL) browser-deps
	$(PY) -m pytest -q tests/conversation tests/nlu tests/knowledge tests/browser

browser-deps: $(CHROMIUM) $(AXE)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver

# Production mode (bot/production.py): N Rasa servers behind nginx, PostgreSQL and Redis; settings from .env.
run-prod: install $(SPACY_MODEL) $(MODEL) $(NGINX)
	$(PY) -m bot.production run

$(NGINX):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx

# The real topology (two Rasa servers, PostgreSQL, Redis, nginx) on its own ports and throw-away databases.
production: $(MODEL) $(NGINX)
	$(PY) -m pytest -q tests/production

bench-prod: $(MODEL) $(NGINX)
	$(PY) -m bench.production

$(AXE): tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

crossval: $(SPACY_MODEL)
	$(PY) -m bench.crossval

bench: $(MODEL)
	$(PY) -m bench.run

bench-workshop: install
	$(PY) -m bench.workshop_dashboard

# Open a workshop from the command line: make workshop TITLE="Atelier Lyon" [HOURS=4]
workshop: install db
	$(PY) -m bot.workshops create --title "$(TITLE)" $(if $(HOURS),--hours $(HOURS))

lock:
	$(PY) -m pip freeze --all --exclude pip --exclude-editable > requirements.lock

clean:
	rm -rf results .run models/alliance.tar.gz
