from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from .audit import audit_chain_head, audit_last_checkpoint
from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "created_at", "action", "actor", "program_id", "object_type", "object_id", "chain_seq"
    )  # fmt: skip
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_id", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)

    # The trail is append-only, in the admin too.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The head of the hash chain, to copy somewhere outside the database, and the result
        # of the last daily verification (templates/admin/ccdg/auditevent/change_list.html).
        extra_context = {
            **(extra_context or {}),
            "chain_head": audit_chain_head(),
            "last_checkpoint": audit_last_checkpoint(),
        }
        return super().changelist_view(request, extra_context=extra_context)


def _unregister_sign_in_tables() -> None:
    """django-allauth's tables stay out of the admin: addresses and single-sign-on settings
    come from the roster and the environment, tokens are not stored, and a person's second
    factors and sessions are theirs to manage (staff reset a lost second factor with
    ``manage.py mfa_reset``, which is audited; docs/sign-in.md)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
    from allauth.usersessions.models import UserSession

    for model in (EmailAddress, Authenticator, SocialAccount, SocialApp, SocialToken, UserSession):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_sign_in_tables()
