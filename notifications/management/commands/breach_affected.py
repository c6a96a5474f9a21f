"""List the people a breach affects, from the audit trail of its window, and (with --send) queue
their notices through the outbox. Without --send nothing is written.

Who counts as affected is decided in `privacy.breaches` (AFFECTING_ACTIONS): a patient whose
visit reason or health-profile content the audit trail shows read or received in the window.
The listing names account ids and e-mail addresses only, never health data.
"""

from django.core.management.base import BaseCommand, CommandError

from notifications.breach_notices import breach_notices_create
from privacy.breaches import AFFECTING_ACTIONS, affected_patients
from privacy.models import BreachRecord
from privacy.startup import verify_for_command


class Command(BaseCommand):
    help = "List the people affected by a breach (from the audit trail of its window); --send queues their notices."

    def add_arguments(self, parser):
        parser.add_argument("breach_id", type=int)
        parser.add_argument("--send", action="store_true", help="queue one notice per affected person")

    def handle(self, *args, breach_id: int, send: bool, **options):
        verify_for_command()
        breach = BreachRecord.objects.filter(pk=breach_id).first()
        if breach is None:
            raise CommandError(f"no breach {breach_id} in the register")
        people = affected_patients(breach=breach)
        self.stdout.write(
            f"breach {breach.pk}: window {breach.window_start:%Y-%m-%d %H:%M} "
            f"to {breach.window_end:%Y-%m-%d %H:%M} UTC; "
            f"audit actions counted: {', '.join(sorted(AFFECTING_ACTIONS))}"
        )
        for person in people:
            note = "" if person.is_active else " (erased: no notice possible)"
            self.stdout.write(f"  {person.pk} {person.email}{note}")
        self.stdout.write(f"{len(people)} affected people")
        if not send:
            self.stdout.write("Dry listing: no notice was queued (use --send).")
            return
        notified, rows = breach_notices_create(breach=breach)
        self.stdout.write(f"queued notices for {len(notified)} people ({rows} outbox rows)")
