# Tongxin — the two commands of the README, and a few helpers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test e2e install messages lint bench clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

# Compile translations when gettext's msgfmt is present; the committed .mo files are used otherwise.
messages: $(STAMP)
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(BIN)/python manage.py compilemessages --ignore=.venv --verbosity 0; \
	else \
		echo "msgfmt not found (apt-get install gettext): using the committed translations"; \
	fi

# Set up and serve on SQLite with the demo district (loaded once; re-running keeps data).
# The demo accounts keep their printed password: no forced change at first sign-in.
run: export TONGXIN_DEMO_FORCE_PASSWORD_CHANGE = false
run: messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The whole test suite: SQLite by default, PostgreSQL when DATABASE_URL points at one.
test: $(STAMP)
	$(BIN)/python -m pytest

# The browser tests: Playwright driving Debian's chromium (apt-get install chromium
# fonts-noto-cjk) through the demo served by gunicorn; screenshots in build/e2e-screenshots.
e2e: $(STAMP)
	$(BIN)/python -m pytest -m e2e tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# Every benchmark on PostgreSQL, rewriting docs/performance.md (bench/README.md).
# make bench SIZE=small: a quick run on 1,000 persons.
SIZE ?= full
bench: $(STAMP)
	@$(BIN)/python -c "import locust" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[test,bench]"
	$(BIN)/python -m bench --size $(SIZE)

clean-venv:
	rm -rf $(VENV)
