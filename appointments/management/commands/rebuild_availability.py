"""Rebuild the availability index from scratch, or with --check compare it with a recomputation
and report every difference (exit status 1 when there is any), changing nothing."""

from django.core.management.base import BaseCommand, CommandError

from appointments import availability_index

SHOWN = 50


class Command(BaseCommand):
    help = (
        "Recompute the availability index (appointments.DayAvailability) for every doctor; with "
        "--check, compare it with a recomputation instead and exit non-zero on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare only; change nothing")

    def handle(self, *args, check: bool = False, **options):
        if not check:
            rows = availability_index.rebuild()
            self.stdout.write(f"availability index rebuilt: {rows} rows")
            return
        found = availability_index.differences()
        if not found:
            self.stdout.write("availability index exact: no differences")
            return
        for difference in found[:SHOWN]:
            self.stdout.write(str(difference))
        if len(found) > SHOWN:
            self.stdout.write(f"... and {len(found) - SHOWN} more")
        raise CommandError(f"availability index differs from a recomputation in {len(found)} rows")
