"""A survey recipient's single-use link: its token (derived, never stored), the token's hash
(stored), the path and URL, and looking a link up. Below waves and the message kinds, which
both need links."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from django.conf import settings
from django.urls import reverse

from .models import SubmittedLink, WaveRecipient


def link_token(recipient: WaveRecipient) -> str:
    """The recipient's link token, the same every time (derived from the nonce)."""
    key = f"ccdg.survey-link:{settings.SECRET_KEY}".encode()
    digest = hmac.new(key, recipient.nonce.encode(), hashlib.sha256).hexdigest()
    return digest[:40]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_path(recipient: WaveRecipient) -> str:
    return reverse("survey_answer:answer", kwargs={"token": link_token(recipient)})


def link_url(recipient: WaveRecipient) -> str:
    return f"{settings.BASE_URL}{link_path(recipient)}"


def recipient_for_token(token: str) -> WaveRecipient | None:
    """The recipient whose link this is, or None. One indexed lookup either way."""
    if not token or len(token) > 100:
        return None
    return (
        WaveRecipient.objects.select_related(
            "wave__program", "wave__instrument", "wave__series_membership__series"
        )
        .filter(token_hash=token_hash(token))
        .first()
    )


def link_usable(recipient: WaveRecipient | None, now: datetime | None = None) -> bool:
    """Unknown, used and closed links are all refused the same way (see the answer views).

    A link is used when its recipient is marked as having answered, or (anonymous waves,
    before the next batch) when its "link used" marker exists.
    """
    return (
        recipient is not None
        and not recipient.responded
        and recipient.wave.is_open(now)
        and not SubmittedLink.objects.filter(marker=recipient.submitted_marker).exists()
    )
