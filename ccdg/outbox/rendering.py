"""What a message says: subject, plain text, HTML and an attachment, from its kind.

The engine's part is the same for every kind: fetch for a whole batch what its kinds read
(``Lookups``), ask the row's kind for its context (``kinds.MessageKind.context``), add the
unsubscribe link of an optional message, and render ``emails/outbox/<kind>.txt``/``.html``.
What a message about a session or a survey says is written by the app that owns the kind.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from ccdg.outbox.models import OutboxMessage, OutboxOptOut, UnsubscribeToken

from . import kinds
from .kinds import Attachment


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    attachment: Attachment | None
    headers: dict[str, str]

    @property
    def ics(self) -> bytes | None:
        """A session's calendar entry, when the message carries one."""
        if self.attachment is None or not self.attachment.mimetype.startswith("text/calendar"):
            return None
        return self.attachment.content

    def email(self, *, to: str) -> EmailMultiAlternatives:
        message = EmailMultiAlternatives(
            subject=self.subject, body=self.text, to=[to], headers=self.headers
        )
        message.attach_alternative(self.html, "text/html")
        if self.attachment is not None:
            a = self.attachment
            message.attach(a.filename, a.content, a.mimetype)
        return message


def unsubscribe_token_value(*, program_id: int, email: str) -> str:
    """The same token for a person and program every time (derived with the secret key)."""
    key = f"ccdg.outbox.unsubscribe:{settings.SECRET_KEY}".encode()
    return hmac.new(key, f"{program_id}:{email.lower()}".encode(), hashlib.sha256).hexdigest()


def unsubscribe_token(*, program_id: int, email: str) -> str:
    """The person's token for the program; only its hash is stored, so a copy of the database
    cannot unsubscribe anyone."""
    token = unsubscribe_token_value(program_id=program_id, email=email)
    UnsubscribeToken.objects.get_or_create(
        token_hash=token_hash(token), defaults={"program_id": program_id, "email": email.lower()}
    )
    return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def absolute_url(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


# What a preview shows in place of what is each recipient's own: the links (a personal survey
# link answers in that person's name) and, before a wave opens, the first name.
PERSONAL_LINK = "[the recipient's own link]"
UNSUBSCRIBE_LINK = "[the recipient's own unsubscribe link]"
FIRST_NAME = "[first name]"


def _kind_or_none(row: OutboxMessage) -> kinds.MessageKind | None:
    try:
        return kinds.get(row.kind)
    except kinds.UnknownKind:
        return None  # that row fails when it is rendered; the others are fetched for


@dataclass
class Lookups:
    """Everything rendering and the staleness check read, fetched for a whole batch of rows
    with a fixed number of queries (not a few per message): what each kind's loader fetches
    for the batch's rows of its kinds (``loaded``, by loader), the opt-outs, and the
    unsubscribe tokens of the optional messages (stored with one INSERT)."""

    loaded: dict[Any, Any]
    opted_out: set[tuple[int, str]]
    tokens: dict[tuple[int, str], str]  # (program id, email) -> unsubscribe token

    @classmethod
    def load(cls, rows: list[OutboxMessage], *, tokens: bool = True) -> Lookups:
        """``tokens=False``: no unsubscribe tokens (a preview that shows no personal link
        needs none, and must not store them)."""
        by_loader: dict[Any, list[OutboxMessage]] = defaultdict(list)
        optional = []
        for r in rows:
            kind = _kind_or_none(r)
            if kind is None:
                continue
            by_loader[kind.load].append(r)
            if kind.optional:
                optional.append(r)
        opted_out = set()
        if optional:
            opted_out = set(
                OutboxOptOut.objects.filter(
                    program_id__in={r.program_id for r in optional},
                    email__in={r.email.lower() for r in optional},
                ).values_list("program_id", "email")
            )
        made = {
            (r.program_id, r.email.lower()): unsubscribe_token_value(
                program_id=r.program_id, email=r.email
            )
            for r in (optional if tokens else [])
        }
        if made:
            UnsubscribeToken.objects.bulk_create(
                [
                    UnsubscribeToken(token_hash=token_hash(t), program_id=p, email=e)
                    for (p, e), t in made.items()
                ],
                ignore_conflicts=True,
            )
        return cls(
            loaded={load: load(kind_rows) for load, kind_rows in by_loader.items()},
            opted_out=opted_out,
            tokens=made,
        )

    def of(self, row: OutboxMessage) -> Any:
        """What the loader of the row's kind fetched (raises ``UnknownKind``)."""
        return self.loaded[kinds.get(row.kind).load]

    def opted_out_of(self, row: OutboxMessage) -> bool:
        return (row.program_id, row.email.lower()) in self.opted_out


def render_message(
    row: OutboxMessage,
    lookups: Lookups | None = None,
    *,
    attachments: bool = True,
    personal_links: bool = True,
) -> Rendered:
    """Render ``row`` as its recipient will read it. Raises on a template error, a kind no app
    registers (``kinds.UnknownKind``), or what the message is about being gone.

    ``lookups``: what a batch fetched for all its rows (``Lookups.load``); without it, fetched
    for this row alone. A preview may leave out the attachment (``attachments=False``) and
    show placeholders for the recipient's own links (``personal_links=False``); the text is
    otherwise the one sent.
    """
    kind = kinds.get(row.kind)
    lookups = lookups or Lookups.load([row])
    content = kind.context(
        row, lookups.of(row), personal_links=personal_links, attachments=attachments
    )
    context = {"row": row, "kind": row.kind, "optional": kind.optional, **content.context}
    headers: dict[str, str] = {}
    if kind.optional:
        if personal_links:
            key = (row.program_id, row.email.lower())
            token = lookups.tokens.get(key) or unsubscribe_token(
                program_id=row.program_id, email=row.email
            )
            link = absolute_url(reverse("outbox:unsubscribe", kwargs={"token": token}))
        else:
            link = UNSUBSCRIBE_LINK
        context["unsubscribe_url"] = link
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    subject = kind.subject.format(**content.subject_fields)
    text_template, html_template = kind.templates
    return Rendered(
        subject=subject,
        text=render_to_string(text_template, context),
        html=render_to_string(html_template, context),
        attachment=content.attachment if attachments else None,
        headers=headers,
    )


def rendering_warm_up() -> None:
    """Do now what the first message a process renders would otherwise wait for: import the
    URLconf (``reverse`` of the first link imports every app's views, a few seconds) and
    compile the templates of every registered kind into the cached template loader.

    Celery calls it when a worker process starts (``ccdg.celery_app``), so the first batch
    after a deployment or a worker restart goes out as fast as the next ones."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the property imports the URLconf
    for kind in kinds.registered():
        for name in kind.templates:
            # A missing or broken template fails its rows when they are rendered, as without
            # the warm-up; it must not stop the worker from starting.
            with contextlib.suppress(TemplateDoesNotExist, TemplateSyntaxError):
                get_template(name)


__all__ = [
    "FIRST_NAME",
    "PERSONAL_LINK",
    "UNSUBSCRIBE_LINK",
    "Lookups",
    "Rendered",
    "absolute_url",
    "render_message",
    "rendering_warm_up",
    "token_hash",
    "unsubscribe_token",
    "unsubscribe_token_value",
]
