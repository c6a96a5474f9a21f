"""Celery tasks of the waitlist: no arguments, the service does the work."""

from celery import shared_task

from waitlist.services import offers_sweep


@shared_task(name="waitlist.tasks.sweep_offers", acks_late=True)
def sweep_offers() -> int:
    """Beat task: lapsed holds pass to the next in line. Returns the offers expired."""
    return offers_sweep()
