# The two commands: `make demo` runs the portal on embedded defaults, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: demo test test-fast lint venv browser

demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py rundemo --port $(PORT)

# A throwaway secret key for the run when none is set (required once DEBUG is off).
PYTEST = export DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')}"; \
	$(BIN)/python manage.py collectstatic --noinput -v0 && $(BIN)/python -m pytest

test: $(STAMP) browser
	$(PYTEST) $(PYTEST_ARGS)

# The tests that need no browser, worker, identity provider or deliberate wait: under a minute.
test-fast: $(STAMP)
	$(PYTEST) -m "not browser and not worker and not idp and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (set PYTHON=python3.12, say)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

# Browser tests drive Debian's Chromium; Playwright never downloads a browser of its own. The
# SAML tests need PHP and SimpleSAMLphp (the script is idempotent and quick when all is there).
browser:
	@scripts/install-system-packages
