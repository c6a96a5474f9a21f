"""Celery tasks of privacy. No arguments, nothing personal in or out: ids and counts only."""

from celery import shared_task
from django.utils import timezone

from privacy.breaches import breach_report
from privacy.retention import destruction_run


@shared_task(name="privacy.tasks.run_destruction", acks_late=True)
def run_destruction() -> dict:
    """Beat task (daily): the periodic destruction run."""
    run = destruction_run(now=timezone.now())
    return {"run": run.pk, "counts": run.counts, "errors": run.errors}


@shared_task(name="privacy.tasks.breach_report", acks_late=True)
def breach_report_task() -> dict:
    """Beat task (daily): flag breaches past the Board's 72-hour deadline (logged, ids only)."""
    return breach_report(now=timezone.now()).as_dict()
