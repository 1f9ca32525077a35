# The two commands a newcomer needs: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_PASSWORD ?= demo-password
PYTEST_ARGS ?=

export FLASK_APP := wsgi
# make run serves plain http on this machine: cookies cannot require HTTPS there.
run: export BOOKING_SESSION_COOKIE_SECURE ?= false
run: export BOOKING_REMEMBER_COOKIE_SECURE ?= false
# Links in e-mails and calendar files lead here (never to the Host a request names); the server answers to
# its host and to this machine's own names. Listening on every interface, the links name this machine.
LINK_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
run: export BOOKING_BASE_URL ?= http://$(LINK_HOST):$(PORT)
run: export BOOKING_TRUSTED_HOSTS ?= localhost 127.0.0.1

.PHONY: run test install test-tools migrate clean mutation

run: install instance/config.py
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --password '$(DEMO_PASSWORD)' --if-empty
	@echo
	@echo "  Demo logins (password: $(DEMO_PASSWORD), or the one the demo was first seeded with)"
	@echo "    admin    admin@demo.test"
	@echo "    staff    staff1@demo.test ... staff6@demo.test"
	@echo "    patient  patient1@demo.test ... patient12@demo.test"
	@echo "  Serving $$BOOKING_BASE_URL"
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install test-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Test tools from npm (tests/js: the W3C HTML checker), installed when npm is here and they are missing or
# older than the lock file; never their install scripts (vnu-jar's would download a Java). Without npm the
# tests that need them skip, and fail in CI.
TEST_TOOLS := tests/js/node_modules/.package-lock.json
test-tools:
	@if [ ! $(TEST_TOOLS) -nt tests/js/package-lock.json ] && command -v npm >/dev/null; then \
	  npm ci --prefix tests/js --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null && touch $(TEST_TOOLS) \
	  || { echo "npm ci in tests/js failed: the tests that need its tools skip (and fail in CI)"; [ "$$CI" != true ]; }; fi

install: $(STAMP)

# Mutation run over the core (bench/mutation.py, mutmut from the `mutation` extra): not part of make test.
# MODULE=booking/services/booking.py runs one module of bench/mutation.toml.
MODULE ?=
mutation: install
	@$(BIN)/python -c 'import mutmut' 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	$(BIN)/python bench/mutation.py $(MODULE)

# Python 3.11 or newer; an old or broken .venv is made again.
NEW_ENOUGH := import sys; sys.exit(sys.version_info < (3, 11))

$(STAMP): pyproject.toml
	@$(PYTHON) -c '$(NEW_ENOUGH)' 2>/dev/null || { echo "Python 3.11 or newer is needed: run make PYTHON=python3.12 (or another)"; exit 1; }
	@$(BIN)/python -c '$(NEW_ENOUGH)' 2>/dev/null || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# A local secret key, made once; instance/ is never committed.
instance/config.py:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print('SECRET_KEY = %r' % secrets.token_urlsafe(48))" > $@

migrate: install
	$(BIN)/flask db upgrade

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
