# wirewatch — one command each: `make demo`, `make test`. Everything installs itself into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared

.PHONY: install browser demo test lint unit integration bench fuzz lock build clean

# Byte-compile our package as pip does for the installed ones (an editable install is not, and
# with PYTHONDONTWRITEBYTECODE set every command would compile it again: ~0.2 s each).
install: $(STAMP)
	@$(BIN)/python -m compileall -q layers/wirewatch/wirewatch >/dev/null

$(STAMP): requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian's chromium for the digest rendering test; installed when we are root on Debian, else that test skips.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium not installed: the headless rendering test will skip"

demo: install
	$(BIN)/python -m demo

# Static checks: style, types (each handler on its own: every function's file is app.py), the template twice.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MYPYPATH=layers/wirewatch $(BIN)/mypy -p wirewatch
	for handler in functions/*/app.py; do $(BIN)/mypy $$handler || exit 1; done
	$(BIN)/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 $(BIN)/sam validate --region us-east-1 --lint
	SAM_CLI_TELEMETRY=0 $(BIN)/sam validate --region us-east-1

test: lint browser
	$(BIN)/pytest -q -p no:cacheprovider tests

unit: install
	$(BIN)/pytest -q tests/unit

integration: install
	$(BIN)/pytest -q tests/integration

bench: install
	$(BIN)/python -m bench

lock:
	rm -rf /tmp/wirewatch-lock && $(PYTHON) -m venv /tmp/wirewatch-lock
	/tmp/wirewatch-lock/bin/pip install --quiet -r requirements-dev.in
	( echo '# Frozen from requirements-dev.in by `make lock`; `make install` installs exactly these.'; \
	  /tmp/wirewatch-lock/bin/pip freeze ) > requirements-dev.txt

# sam build (no Docker) needs python3.12 on the PATH; under pyenv, pick an installed 3.12.
build: install
	SAM_CLI_TELEMETRY=0 PYENV_VERSION="$$(pyenv versions --bare 2>/dev/null | grep -m1 '^3\.12')" $(BIN)/sam build

clean:
	rm -rf $(VENV) .aws-sam out
