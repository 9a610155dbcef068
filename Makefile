# trailguard developer commands. `make drill` and `make test` work on a fresh clone:
# each installs what it needs into .venv (Python 3.13 where available, as Lambda runs).

SHELL := /bin/bash
PYTHON ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13 || command -v python3)
VENV := .venv
SAM_VENV := .sam-venv
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/trailguard/requirements.txt | sha1sum | cut -c1-12)
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .checkov-venv
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_PYTHON ?= $(shell command -v python3.11 || command -v python3)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: drill test reliability cost bench lint check-template build ci clean

$(STAMP): requirements-dev.txt layers/trailguard/requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*; touch $@

# aws-sam-cli pins its own dependencies: it lives in its own virtualenv.
$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0

# checkov pins its own dependencies too.
$(CHECKOV):
	$(CHECKOV_PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==3.3.30

## The local drill: every attack against an embedded moto AWS, no account needed.
drill: $(STAMP)
	$(VENV)/bin/python -m drill $(ARGS)

## The whole test suite.
test: $(STAMP)
	$(VENV)/bin/python -m pytest

## Faults injected, bad inputs tried, duplicates sent, repairs, alerts lost.
reliability: $(STAMP)
	$(VENV)/bin/python scripts/reliability.py

## The reconciler's monthly cost (invocations, API calls, events added to the trail),
## measured on the drill's world and written into README.md.
cost: $(STAMP)
	$(VENV)/bin/python scripts/cost.py

## Performance side by side: trailguard, the bare-boto3 minimum and Cloud Custodian, against a
## moto server on 127.0.0.1. Benchmark-only tools live in bench/work/ (git-ignored), each in
## its own virtualenv: moto[server] in one, Cloud Custodian (which pins its own boto3) in another.
BENCH_VENV := bench/work/venv
C7N_VENV := bench/work/c7n-venv

$(BENCH_VENV)/.installed: bench/requirements.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

$(C7N_VENV)/.installed: bench/requirements-c7n.txt
	test -x $(C7N_VENV)/bin/python || $(PYTHON) -m venv $(C7N_VENV)
	$(C7N_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements-c7n.txt
	touch $@

bench: $(STAMP) $(BENCH_VENV)/.installed $(C7N_VENV)/.installed
	$(VENV)/bin/python -m bench $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check layers cli functions drill tests
	$(VENV)/bin/mypy layers/trailguard/trailguard cli/trailguard_cli functions drill

check-template: $(STAMP) $(SAM) $(CHECKOV)
	SAM=$(SAM) CFN_LINT=$(VENV)/bin/cfn-lint CHECKOV=$(CHECKOV) bash scripts/check-template.sh

## sam build needs python3.13 on PATH (pyenv provides it here).
build: $(SAM)
	PATH="$$(dirname $(PYTHON)):$$PATH" $(SAM) build

ci: lint check-template test

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
