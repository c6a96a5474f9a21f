# One way to run each thing; README.md names `make run` and `make test`.
# Every target installs first: a virtualenv in .venv with the hash-pinned requirements/dev.txt
# (scripts/install.sh: uv when it can be had, pip otherwise; says what to install when it cannot).
# The install is redone only when requirements/dev.txt changes (the stamp file below).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev.stamp

# The real-services run (see tests/conftest.py): scripts/with_services.py starts a private
# PostgreSQL and Redis (temporary directory, free ports), exports DATABASE_URL and REDIS_URL, runs
# pytest and removes both. DATABASE_URL / REDIS_URL set in the environment (or on the make command
# line) are used instead of starting that service.
SERVICES_TEST_DATABASE ?= test_medplatform_ci
WITH_SERVICES := $(BIN)/python scripts/with_services.py
SERVICES_ENV := $(WITH_SERVICES) env MEDPLATFORM_REQUIRE_SERVICES=1 TEST_DATABASE_NAME=$(SERVICES_TEST_DATABASE)
# The embedded run must not pick up a developer's service variables by accident.
EMBEDDED_ENV := env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u MEDPLATFORM_REQUIRE_SERVICES \
	-u TEST_DATABASE_NAME -u MEDPLATFORM_ENV

# pytest exits 5 when it collected no test: that is a failure here, never a silent pass.
define pytest_strict
	$(1) $(BIN)/pytest $(2); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: treating that as a failure" >&2; exit 1; fi; \
	exit $$rc
endef

MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

.PHONY: install run test test-embedded test-services lint format bench bench-short bench-doctors clean-venv

$(STAMP): requirements/dev.txt
	@PYTHON=$(PYTHON) sh scripts/install.sh $(VENV) requirements/dev.txt
	@touch $@

# GNU msgfmt when gettext is installed; a standard-library fallback otherwise (scripts/msgfmt.py).
locale/%.mo: locale/%.po | $(STAMP)
	@$(BIN)/python scripts/msgfmt.py $<

install: $(STAMP) $(MO_FILES)

PORT ?= 8000

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://127.0.0.1:$(PORT)/  (API docs: http://127.0.0.1:$(PORT)/api/docs/  admin: http://127.0.0.1:$(PORT)/admin/)"
	$(BIN)/python manage.py runserver --insecure 127.0.0.1:$(PORT)

test: install
	$(MAKE) --no-print-directory test-embedded
	$(MAKE) --no-print-directory test-services

test-embedded: install
	@echo "== embedded run: SQLite, in-process tasks =="
	@$(call pytest_strict,$(EMBEDDED_ENV),$(PYTEST_ARGS))

test-services: install
	@echo "== real-services run: a private PostgreSQL and Redis of this run's own =="
	@# The FHIR export is checked by an independent R4 validator in Node (docs/fhir.md); this run
	@# must run it, so it installs it (the embedded run skips it where it is not installed).
	@sh scripts/install_fhir_validator.sh
	@# Spectral checks the OpenAPI schema (tests/test_schema_tools.py), openapi-typescript and tsc
	@# compile its types against real answers (tests/test_generated_clients.py); installed the same way.
	@sh scripts/install_openapi_tools.sh
	@# The portal's browser tests (tests/portal/test_browser.py) drive Debian's Chromium and inject
	@# axe-core: installed here when missing, like the validator.
	@sh scripts/install_browser_tools.sh
	@$(call pytest_strict,$(SERVICES_ENV),--create-db $(PYTEST_ARGS))

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every endpoint of issue 13 and a mixed day at 1, 8, 32 and 128 clients beside /healthz, on a
# private PostgreSQL and Redis (scripts/with_services.py); writes docs/performance.md's generated
# section and docs/performance/*.png. The short mode (CI) uses small data and 1 and 8 clients,
# writes nothing, and fails on any error, 5xx or double booking.
bench: install
	$(BIN)/python bench/run_all.py

bench-short: install
	$(BIN)/python bench/run_all.py --short

bench-doctors: install
	$(BIN)/python bench/doctors_bench.py

clean-venv:
	rm -rf $(VENV)
