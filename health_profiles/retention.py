"""Retention of health-profile data: a share grant past its expiry is dead (access already ended
at `expires_at`); it is deleted. The consent events stay: they are the proof."""

from health_profiles.models import ShareGrant
from privacy import retention


def expired_share_grants(now, *, dry_run: bool = False) -> int:
    # Same boundary as the read selectors: a grant is active only while expires_at > now.
    expired = ShareGrant.objects.filter(expires_at__lte=now)
    return retention.delete_and_count(expired, dry_run=dry_run)
