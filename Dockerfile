# The image that docker-compose.yml runs for migrate, web, worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=medplatform.settings

WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/base.txt

COPY . .
# Static files (admin, Swagger UI) are collected into the image; whitenoise serves them.
RUN MEDPLATFORM_VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var
RUN useradd --system --home-dir /srv/medplatform medplatform \
    && mkdir -p /srv/medplatform/run /srv/medplatform/media \
    && chown -R medplatform /srv/medplatform

USER medplatform
# The processes run from a writable directory of their own (celery beat keeps its schedule file
# in the working directory); the code is found through PYTHONPATH.
WORKDIR /srv/medplatform/run
EXPOSE 8000
