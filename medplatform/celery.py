import os

from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medplatform.settings")

app = Celery("medplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _connections_as_around_a_request(sender=None, **kwargs):
    """Before and after a task, what Django does before and after a request: a connection that
    failed or has outlived CONN_MAX_AGE is closed, a sound one is kept for the next task (with
    CELERY_DB_REUSE_MAX set, Celery's fixup no longer closes it every time). Never for a task run
    eagerly: that runs inside its caller, whose transaction may be open."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


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
