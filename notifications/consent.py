from privacy.models import ConsentEvent


def marketing_withdrawn(grant: ConsentEvent) -> dict:
    """Every marketing send checks the consent when it goes out; on withdrawal the marketing
    messages not yet sent are stopped as well, inside the withdrawal's transaction."""
    from notifications.services import marketing_notifications_cancel

    return {"marketing_notifications_stopped": marketing_notifications_cancel(recipient=grant.subject)}
