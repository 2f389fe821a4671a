# Zhijia (职工之家): `make run` plays the whole system, `make test` checks it. `make help` lists the rest.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
INFRA := deploy/infra.sh
# Browser code the web service serves (jsQR, axe-core): fetched again only when the lock changes.
VENDOR_LOCK := services/web/frontend/package-lock.json
VENDOR_STAMP := services/web/vendor/.installed-$(shell sha1sum $(VENDOR_LOCK) | cut -c1-12)
# Addresses of the running Kafka and PostgreSQL, as the infra script prints them.
WITH_INFRA = eval "$$($(INFRA) env)" &&

.PHONY: help venv vendor browser infra-up infra-down infra-status up down run stop scenario test lint typecheck \
        unit integration contract screens test-faults token admin codes rotate-keys rebuild rebuild-reports seed-state deadletters partner-access irregular-ids clean \
        backup restore

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is required (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "cannot create a venv: install python3-venv"; exit 1; }
	@echo "installing Python dependencies into $(VENV) ..."
	@{ $(BIN)/pip install --disable-pip-version-check --upgrade pip && \
	   $(BIN)/pip install --disable-pip-version-check -e '.[dev]'; } > $(VENV)/pip.log 2>&1 \
	   || { tail -n 30 $(VENV)/pip.log; echo "pip install failed (full log: $(VENV)/pip.log)"; exit 1; }
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## create the virtualenv with pinned dependencies

$(VENDOR_STAMP): $(VENDOR_LOCK)
	@scripts/vendor.sh
	@rm -f services/web/vendor/.installed-* && touch $@

vendor: $(VENDOR_STAMP) ## the web pages' third-party JS (npm ci of services/web/frontend) into services/web/vendor/

browser: ## Debian's chromium for the browser tests (apt-get once when missing)
	@scripts/browser.sh

infra-up: ## start a real Kafka broker and a real PostgreSQL on this machine
	@$(INFRA) up

infra-down: ## stop Kafka and PostgreSQL
	@$(INFRA) down

infra-status: ## show whether Kafka and PostgreSQL run
	@$(INFRA) status

up: venv vendor infra-up ## start every service as its own process
	@$(WITH_INFRA) $(BIN)/python -m scripts.stack up

stop: ## stop the services (Kafka and PostgreSQL keep running)
	@$(BIN)/python -m scripts.stack down

down: stop infra-down ## stop the services, Kafka and PostgreSQL

scenario: ## play the demo scenario against running services
	@$(WITH_INFRA) $(BIN)/python -m scripts.scenario

run: up scenario ## everything: infra, services, a realistic scenario, member cards

lint: venv ## ruff
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

typecheck: venv ## mypy --strict
	@$(BIN)/mypy

unit: venv ## unit tests of the domain rules (no infrastructure)
	@$(BIN)/pytest tests/unit -q

integration: venv infra-up ## integration tests on the real broker and database
	@$(WITH_INFRA) scripts/pytest.sh tests/integration

contract: venv infra-up ## schemathesis on every service's OpenAPI as each role; numbers in .run/contract-report.json
	@$(WITH_INFRA) scripts/pytest.sh tests/contract -q

test: venv vendor browser lint typecheck infra-up ## lint, type check, unit, integration, browser, contract and fault-injection tests, the restore drill
	@$(WITH_INFRA) scripts/pytest.sh tests

screens: venv vendor browser infra-up ## the browser tests, refreshing the committed screenshots in docs/screens/
	@$(WITH_INFRA) SCREENS_DIR=docs/screens scripts/pytest.sh tests/browser -q

.PHONY: bench
bench: venv infra-up ## benchmarks on the real Kafka and PostgreSQL into bench/results/: make bench SIZE=tiny|small|medium|city
	@$(WITH_INFRA) $(BIN)/python -m bench --size $(or $(SIZE),small) $(BENCH_ARGS)

test-faults: venv infra-up ## the fault-injection suite and the restore drill (also part of make test); numbers in .run/fault-report.json
	@$(WITH_INFRA) scripts/pytest.sh tests/faults -q
	@cat .run/fault-report.json

backup: infra-up ## a base backup of PostgreSQL (its WAL is archived all along): docs/backup.md
	@$(INFRA) backup

restore: venv ## stop the services, restore PostgreSQL to TARGET='2026-12-02 17:30:00+00' (default: the archive's end), start them
	@$(BIN)/python -m scripts.stack down
	@$(INFRA) restore $(if $(TARGET),"$(TARGET)")
	@$(WITH_INFRA) $(BIN)/python -m scripts.stack up

deadletters: venv ## list dead letters (CONSUMER=projector); replay: make deadletters ARGS="replay --offsets 0:12"
	@$(WITH_INFRA) $(BIN)/python -m scripts.deadletters $(or $(ARGS),list) --consumer $(or $(CONSUMER),projector)

partner-access: venv infra-up ## give a partner its Kafka login and ACLs: make partner-access PARTNER=<id> [PREFIX=] [PASSWORD_FILE=]
	@$(WITH_INFRA) $(BIN)/python -m scripts.partner_kafka_access grant $(or $(PARTNER),$(error set PARTNER=<partner_id>)) \
	  $(if $(PREFIX),--prefix $(PREFIX)) $(if $(PASSWORD_FILE),--password-file $(PASSWORD_FILE))

token: venv ## a dev token (development/tests only, refused with ZHIJIA_MODE=production; docs/auth.md): make token ROLE=cadre UNION=<uuid> [MINUTES=15]
	@$(BIN)/python -m scripts.token --role $(or $(ROLE),admin) \
	  $(if $(UNION),--union $(UNION)) $(if $(MEMBER),--member $(MEMBER)) \
	  $(if $(PARTNER),--partner $(PARTNER)) $(if $(COUNSEL),--counsel $(COUNSEL)) $(if $(MINUTES),--minutes $(MINUTES))

admin: venv infra-up ## the first admin account: make admin USERNAME=<name> (prints its password once)
	@$(WITH_INFRA) DATABASE_URL="$$($(BIN)/python -c 'import os; from scripts.stack import database_url; print(database_url(os.environ["POSTGRES_DSN"], "zhijia_identity"))')" \
	  $(BIN)/python -m services.identity.admin_cli $(or $(USERNAME),$(error set USERNAME=<name>))

codes: ## the one-time codes the development notifier sent (identity, IDENTITY_NOTIFIER=dev)
	@tail -n $(or $(N),20) .run/codes.log 2>/dev/null || echo "no codes sent yet (.run/codes.log)"

rotate-keys: venv ## rotate identity's signing keys (published now, signing after the lead): docs/identity.md
	@$(WITH_INFRA) DATABASE_URL="$$($(BIN)/python -c 'import os; from scripts.stack import database_url; print(database_url(os.environ["POSTGRES_DSN"], "zhijia_identity"))')" \
	  $(BIN)/python -c 'import os; from scripts.stack import service_secrets; os.environ.update(service_secrets("identity")); from services.identity.rotate_keys import main; main()'

rebuild: venv ## rebuild the card read model from the topics into a new generation and swap it in (no downtime)
	@$(WITH_INFRA) DATABASE_URL="$$($(BIN)/python -c 'import os; from scripts.stack import database_url; print(database_url(os.environ["POSTGRES_DSN"], "zhijia_projector"))')" \
	  $(BIN)/python -c 'import os; from scripts.stack import service_secrets; os.environ.update(service_secrets()); from services.projector.rebuild import main; main()'

rebuild-reports: venv ## rebuild the reports' read model from the topics into a new generation and swap it in (no downtime): docs/reports.md
	@$(WITH_INFRA) DATABASE_URL="$$($(BIN)/python -c 'import os; from scripts.stack import database_url; print(database_url(os.environ["POSTGRES_DSN"], "zhijia_reports"))')" \
	  $(BIN)/python -c 'import os; from scripts.stack import service_secrets; os.environ.update(service_secrets()); from services.reports.rebuild import main; main()'

seed-state: venv ## once after upgrading: fill a service's new state topic from its events topic (SERVICE=enrollment|relief|legal) [ARGS=--dry-run]
	@$(WITH_INFRA) $(BIN)/python -m scripts.seed_state --service $(or $(SERVICE),enrollment) $(ARGS)

irregular-ids: venv ## list members whose stored ID number breaks the 实名制 rule, masked (changes nothing): [UNION=<uuid>] [ARGS=--json]
	@$(WITH_INFRA) DATABASE_URL="$$($(BIN)/python -c 'import os; from scripts.stack import database_url; print(database_url(os.environ["POSTGRES_DSN"], "zhijia_enrollment"))')" \
	  $(BIN)/python -c 'import os, sys; from scripts.stack import service_secrets; os.environ.update(service_secrets()); from services.enrollment.irregular_ids import main; main(sys.argv[1:])' \
	  $(if $(UNION),--union $(UNION)) $(ARGS)

clean: ## remove the venv and local run state (not the infra cache)
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache
