# trailguard developer commands. `make drill` and `make test` work on a fresh clone:
# each installs what it needs into .venv (Python 3.13 where available, as Lambda runs).
# `make` or `make help` lists the targets: a target is listed by its `## ` comment.

SHELL := /bin/bash
PYTHON ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13 || command -v python3)
VENV := .venv
SAM_VENV := .sam-venv
# One stamp per set of requirements, named by the hash of the files that list it: the
# drill installs only what it runs with (seconds on a fresh clone), the test and lint
# targets the whole development set, which includes the drill's.
DRILL_REQUIREMENTS := requirements-drill.txt layers/trailguard/requirements.txt
DEV_REQUIREMENTS := requirements-dev.txt $(DRILL_REQUIREMENTS)
DRILL_STAMP := $(VENV)/.drill-installed-$(shell cat $(DRILL_REQUIREMENTS) | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(shell cat $(DEV_REQUIREMENTS) | sha1sum | cut -c1-12)
SAM := $(SAM_VENV)/bin/sam
# `make check-template` records that it passed: sha256sum of the files it checked, then its
# output. `make test` depends on that record, and tests/template/test_validate.py reads it
# instead of running the SAM CLI, cfn-lint and checkov a second time on the same files.
TEMPLATE_CHECKED := .template-check/passed
TEMPLATE_CHECKED_FILES := template.yaml forwarder/template.yaml $(sort $(wildcard companions/*/template.yaml)) scripts/check-template.sh scripts/sam_transform.py scripts/check_iam.py
CHECKOV_VENV := .checkov-venv
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_PYTHON ?= $(shell command -v python3.11 || command -v python3)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.DEFAULT_GOAL := help
.PHONY: help drill test reliability bench lint check-template build package package-target readme-destinations ci clean

help: ## List the targets (this text).
	@echo "trailguard: make TARGET [ARGS=...]"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
	  | sed -E 's/^([a-zA-Z_-]+):.*## (.*)$$/  \1\t\2/' | expand -t 18

# What makes a first `make drill` take seconds, not a minute: the interpreter's own pip
# installs into the virtualenv (pip >= 22.3: --python), so the virtualenv needs no pip of its
# own (ensurepip alone takes seconds), and without compiling every module of moto and botocore
# up front (--no-compile): the drill compiles only what it imports, once. Without such a pip,
# the virtualenv gets its own.
OUTER_PIP = $(shell $(PYTHON) -m pip --help 2>/dev/null | grep -q -- '--python <python>' && echo yes)
DRILL_PIP = $(if $(OUTER_PIP),$(PYTHON) -m pip --python $(VENV)/bin/python,$(VENV)/bin/python -m pip)

$(DRILL_STAMP): $(DRILL_REQUIREMENTS)
	@echo "drill: installing what it runs with into $(VENV) (boto3, moto, Powertools, PyYAML), once"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(if $(OUTER_PIP),--without-pip) $(VENV)
	@$(DRILL_PIP) install --quiet --quiet --disable-pip-version-check --no-compile \
	  -r requirements-drill.txt
	@rm -f $(VENV)/.drill-installed-*; touch $@

# The development set includes the drill's: once it is installed, the drill's stamp is too.
$(STAMP): $(DEV_REQUIREMENTS)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip --version >/dev/null 2>&1 || $(VENV)/bin/python -m ensurepip >/dev/null
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* $(VENV)/.drill-installed-*; touch $@ $(DRILL_STAMP)

# aws-sam-cli pins its own dependencies: it lives in its own virtualenv.
$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0

# checkov pins its own dependencies too.
$(CHECKOV):
	$(CHECKOV_PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==3.3.30

drill: $(DRILL_STAMP) ## The local drill: every attack against an embedded moto AWS (ARGS="--help").
	@$(VENV)/bin/python -m drill $(ARGS)

test: $(STAMP) $(TEMPLATE_CHECKED) ## The whole test suite (unit, functional under moto, template, drill).
	$(VENV)/bin/python -m pytest $(ARGS)

## Bad inputs over all six functions, duplicates across processes, faults: every figure counted
## from the AWS calls made. Rewrites the README's reliability section.
reliability: $(STAMP) ## Faults, bad inputs, duplicates across processes: prints the figures, writes them into README.md.
	$(VENV)/bin/python scripts/reliability.py --write-readme $(ARGS)

# Performance side by side: trailguard, the bare-boto3 minimum and Cloud Custodian, against a
# moto server on 127.0.0.1. Benchmark-only tools live in bench/work/ (git-ignored), each in
# its own virtualenv: moto[server] in one, Cloud Custodian (which pins its own boto3) in another.
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

bench: $(STAMP) $(BENCH_VENV)/.installed $(C7N_VENV)/.installed ## Performance against the bare-boto3 minimum and Cloud Custodian.
	$(VENV)/bin/python -m bench $(ARGS)

lint: $(STAMP) ## ruff and mypy (strict).
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check layers cli functions drill tests
	$(VENV)/bin/mypy layers/trailguard/trailguard cli/trailguard_cli functions drill

check-template: $(STAMP) $(SAM) $(CHECKOV) ## sam validate --lint, cfn-lint (SAM and transformed), checkov.
	@rm -f $(TEMPLATE_CHECKED); mkdir -p $(dir $(TEMPLATE_CHECKED))
	@sha256sum $(TEMPLATE_CHECKED_FILES) > $(TEMPLATE_CHECKED).hashes
	set -o pipefail; SAM=$(SAM) CFN_LINT=$(VENV)/bin/cfn-lint CHECKOV=$(CHECKOV) \
	  bash scripts/check-template.sh | tee $(TEMPLATE_CHECKED).output
	set -o pipefail; $(VENV)/bin/python scripts/check_iam.py --translator-python $(SAM_VENV)/bin/python \
	  | tee -a $(TEMPLATE_CHECKED).output
	@{ cat $(TEMPLATE_CHECKED).hashes; echo "--- check-template output"; \
	  cat $(TEMPLATE_CHECKED).output; } > $(TEMPLATE_CHECKED)
	@rm -f $(TEMPLATE_CHECKED).hashes $(TEMPLATE_CHECKED).output

# Checked once per change of the checked files: a fresh clone's `make test` checks first.
$(TEMPLATE_CHECKED): $(TEMPLATE_CHECKED_FILES)
	$(MAKE) --no-print-directory check-template

# sam build needs python3.13 on PATH (pyenv provides it here).
SAM_BUILD_DIR ?= .aws-sam/build
build: $(SAM) ## sam build: the layer (its Makefile) and the functions.
	PATH="$$(dirname $(PYTHON)):$$PATH" $(SAM) build --build-dir $(SAM_BUILD_DIR)

## A packaged template for CloudFormation, CfCT, StackSets or the Serverless Application
## Repository: sam build, then sam package uploads the artifacts and writes $(PACKAGED).
## sam package always uploads (there is no offline package): it needs credentials and
## S3_BUCKET=<bucket> [S3_PREFIX=<prefix>], or RESOLVE_S3=1 for SAM's managed bucket.
PACKAGED ?= .aws-sam/packaged.yaml
S3_PREFIX ?= trailguard
PACKAGE_TARGET = $(if $(S3_BUCKET),--s3-bucket $(S3_BUCKET) --s3-prefix $(S3_PREFIX),$(if $(RESOLVE_S3),--resolve-s3))

package-target:
	@test -n "$(PACKAGE_TARGET)" || { echo "make package: say where the artifacts go: S3_BUCKET=<bucket> [S3_PREFIX=<prefix>], or RESOLVE_S3=1" >&2; exit 2; }

package: package-target build ## sam build, then sam package (S3_BUCKET=<bucket> or RESOLVE_S3=1).
	$(SAM) package --template-file $(SAM_BUILD_DIR)/template.yaml $(PACKAGE_TARGET) --output-template-file $(PACKAGED)
	@echo "packaged template: $(PACKAGED)"

## README examples of one alert at every destination, rendered by the code.
readme-destinations: $(STAMP) ## README examples of one alert at every destination, rendered by the code.
	$(VENV)/bin/python scripts/destination_examples.py

ci: lint check-template test ## What CI runs (.ci/run also builds): lint, check-template, test.

clean: ## Remove the virtualenvs and every cache.
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache \
	  $(dir $(TEMPLATE_CHECKED))
