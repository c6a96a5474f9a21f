"""Print the daily breach report: every breach not closed, and those past the Board's 72-hour
deadline without a Board notice (also logged, by ids and deadlines only)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy.breaches import breach_report
from privacy.startup import verify_for_command


class Command(BaseCommand):
    help = "Print the breach register's open entries and flag those past the 72-hour Board deadline."

    def handle(self, *args, **options):
        verify_for_command()
        now = timezone.now()
        report = breach_report(now=now)
        self.stdout.write(f"breach report as of {now:%Y-%m-%d %H:%M} UTC: {len(report.open)} not closed")
        for breach in report.open:
            flag = "OVERDUE " if breach in report.overdue else ""
            self.stdout.write(
                f"  {flag}#{breach.pk} {breach.state}: detected {breach.detected_at:%Y-%m-%d %H:%M}, "
                f"Board deadline {breach.board_deadline:%Y-%m-%d %H:%M} UTC"
            )
        self.stdout.write(f"{len(report.overdue)} overdue for the Board's notice")
