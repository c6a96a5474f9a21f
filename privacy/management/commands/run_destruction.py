"""Run the periodic destruction now, or count what it would delete (`--dry-run`)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from privacy.retention import destruction_run
from privacy.startup import verify_for_command


class Command(BaseCommand):
    help = "Delete what has outlived its retention period and log the run (--dry-run: count only)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")

    def handle(self, *args, dry_run=False, **options):
        verify_for_command()
        run = destruction_run(now=timezone.now(), dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for name, count in sorted(run.counts.items()):
            self.stdout.write(f"{name}: {verb} {count}")
        for name, error in sorted(run.errors.items()):
            self.stderr.write(f"{name}: failed ({error})")
        if not dry_run:
            self.stdout.write(f"destruction run {run.pk} recorded")
        if run.errors:
            raise CommandError(f"{len(run.errors)} retention rule(s) failed")
