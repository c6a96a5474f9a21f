# One way to run each thing; README.md names `make run` and `make test`.
# Every target installs first: a virtualenv in .venv with the hash-pinned requirements/dev.txt.
# The install is redone only when requirements/dev.txt changes (the stamp file below).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev.stamp

# The real-services run (see tests/conftest.py): PostgreSQL and Redis on 127.0.0.1.
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
SERVICES_REDIS_URL ?= redis://127.0.0.1:6379/11
SERVICES_TEST_DATABASE ?= test_medplatform_ci
SERVICES_ENV := DATABASE_URL=$(SERVICES_DATABASE_URL) REDIS_URL=$(SERVICES_REDIS_URL) \
	MEDPLATFORM_REQUIRE_SERVICES=1 TEST_DATABASE_NAME=$(SERVICES_TEST_DATABASE)
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

.PHONY: install run test test-embedded test-services lint format bench-doctors clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --require-hashes -r requirements/dev.txt
	touch $@

locale/%.mo: locale/%.po
	msgfmt --check-format -o $@ $<

install: $(STAMP) $(MO_FILES)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000/  (API docs: http://127.0.0.1:8000/api/docs/  admin: http://127.0.0.1:8000/admin/)"
	$(BIN)/python manage.py runserver --insecure 127.0.0.1:8000

test: install
	$(MAKE) --no-print-directory test-embedded
	$(MAKE) --no-print-directory test-services

test-embedded: install
	@echo "== embedded run: SQLite, in-process tasks =="
	@$(call pytest_strict,$(EMBEDDED_ENV),$(PYTEST_ARGS))

test-services: install
	@echo "== real-services run: PostgreSQL and Redis on 127.0.0.1 =="
	@$(call pytest_strict,$(SERVICES_ENV),--create-db $(PYTEST_ARGS))

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-doctors: install
	$(BIN)/python bench/doctors_bench.py

clean-venv:
	rm -rf $(VENV)
