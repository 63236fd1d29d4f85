"""Remove a person's second factors, for someone who lost their phone or passkey.

    python manage.py mfa_reset USERNAME --reason "lost phone, identity checked by phone call"

Their other sessions end; on their next sign-in they are asked to add a second factor again
(when their role requires one). The removal is in the audit trail, with the reason.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ccdg.accounts.sessions import end_other_sessions
from ccdg.audit import audit_record


class Command(BaseCommand):
    help = "Remove a person's second factors (authenticator app, recovery codes, passkeys)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why, for the audit trail")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No account with the username {options['username']!r}.") from None
        with transaction.atomic():
            kinds = sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True))
            Authenticator.objects.filter(user=user).delete()
            sessions = end_other_sessions(user, reason="second factors reset")
            audit_record(
                actor=None,
                action="mfa.reset",
                obj=user,
                data={"removed": kinds, "reason": options["reason"], "sessions": sessions},
            )
        self.stdout.write(
            f"Removed {len(kinds)} second factor(s) of {user.username} "
            f"({', '.join(kinds) or 'none'}); ended {sessions} session(s)."
        )
