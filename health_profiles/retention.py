"""Retention of health-profile data: a share grant that has ended is dead (access already ended
at its end) and is deleted: one past its own expiry, and one given "until N days after my last
visit" once that end has passed (health_profiles.selectors.shares_with_end; a visit booked before
the end moves it). The consent events stay: they are the proof, with their own period.

Health-profile entries have no period of their own: they are kept while the storage consent is in
force and deleted by its withdrawal (and by erasure, which withdraws it)."""

from health_profiles.models import ShareGrant
from health_profiles.selectors import shares_with_end
from privacy import retention


def expired_share_grants(now, *, dry_run: bool = False) -> int:
    # Same boundary as the read selectors: a grant is active only while its end is after now.
    ended = list(shares_with_end().filter(ends_at__lte=now).values_list("pk", flat=True))
    return retention.delete_and_count(ShareGrant.objects.filter(pk__in=ended), dry_run=dry_run)
