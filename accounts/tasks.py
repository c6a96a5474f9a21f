"""Celery tasks of the accounts app: ids in, services do the work."""

from celery import shared_task

from accounts import credentials


@shared_task(name="accounts.tasks.send_password_reset")
def send_password_reset(user_id: str | None) -> None:
    # Published for known and unknown addresses alike (None): the request's path is the same.
    credentials.password_reset_send(user_id=user_id)
