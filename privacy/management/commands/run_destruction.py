"""Run the periodic destruction now, or show the plan (`--dry-run`: per rule the kind of data, its
period, the cutoff and how many rows would go; nothing is deleted and no run is recorded)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from privacy.retention import destruction_plan, destruction_run
from privacy.startup import verify_for_command


class Command(BaseCommand):
    help = "Delete what has outlived its retention period and log the run (--dry-run: show the plan only)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="show what would be deleted; delete nothing")

    def handle(self, *args, dry_run=False, **options):
        verify_for_command()
        now = timezone.now()
        if dry_run:
            self.stdout.write(f"destruction plan as of {now.isoformat()} (dry run: nothing is deleted)")
            failed = 0
            for step in destruction_plan(now=now):
                if step["error"]:
                    failed += 1
                    self.stderr.write(f"{step['rule']}: failed ({step['error']})")
                    continue
                count = "event-driven, no periodic run" if step["count"] is None else f"would delete {step['count']}"
                self.stdout.write(
                    f"{step['rule']}: {count} | kind: {step['kind']} | period: {step['period']}"
                    f" | cutoff: {step['cutoff'] or '-'}"
                )
            if failed:
                raise CommandError(f"{failed} retention rule(s) failed")
            return
        run = destruction_run(now=now)
        for name, count in sorted(run.counts.items()):
            self.stdout.write(f"{name}: deleted {count}")
        for name, error in sorted(run.errors.items()):
            self.stderr.write(f"{name}: failed ({error})")
        self.stdout.write(f"destruction run {run.pk} recorded")
        if run.errors:
            raise CommandError(f"{len(run.errors)} retention rule(s) failed")
