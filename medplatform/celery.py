import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medplatform.settings")

app = Celery("medplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_to_work_with_wrong_keys(**kwargs):
    _verify("celery worker")


@beat_init.connect
def _refuse_to_schedule_with_wrong_keys(**kwargs):
    _verify("celery beat")


def _verify(process: str) -> None:
    # Celery logs and swallows exceptions from signal handlers, so the check exits by itself.
    import django

    django.setup()  # a no-op when Celery's Django fixup has already set it up
    from privacy.startup import verify_or_exit

    verify_or_exit(process)
