"""The registry of message kinds: what the outbox engine asks of each kind (docs/reminders.md).

The core stores a kind as a plain code on each row (``OutboxMessage.kind``, no database
choices) and knows nothing of sessions or surveys. The app that owns a kind registers it in
its ``AppConfig.ready()`` with the functions that do the kind's work: which messages are due,
what the batch of rows of the kind needs fetched, the template context, a re-check when the
row is sent, and a line for the forecast. A row whose code nobody registered fails on its own
when it is sent (``UnknownKind``); the rest of its batch goes out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from ccdg.registry import Registry

if TYPE_CHECKING:  # the models module reads labels from here: no import at run time
    from ccdg.outbox.models import OutboxMessage

    from .scan import Due


class UnknownKind(LookupError):
    """A row's kind that no installed app registered (its app was removed, or a typo)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"No message kind {code!r} is registered.")
        self.code = code


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass
class Content:
    """What a kind contributes to one message: its template context, the fields its subject
    line is formatted with, and an attachment (a session's ``.ics``)."""

    context: dict[str, Any]
    subject_fields: dict[str, str] = field(default_factory=dict)
    attachment: Attachment | None = None


# (program, reminder settings, now, until) -> the messages due by ``until``; see scan.Due.
DueFinder = Callable[..., Iterable["Due"]]
# The rows of a batch whose kinds share this loader -> what rendering and the re-check read
# for them (fetched once for the batch, a fixed number of queries).
Loader = Callable[[list["OutboxMessage"]], Any]
# (row, what its loader fetched, personal_links=..., attachments=...) -> Content. Raises when
# the message cannot be written (what it is about is gone).
ContextBuilder = Callable[..., Content]
# (row, what its loader fetched, now) -> why the row is no longer worth sending ("" if it is).
Recheck = Callable[["OutboxMessage", Any, datetime], str]
# (due, the program's time zone) -> what the message is about, for the forecast.
Describe = Callable[["Due", tzinfo], str]


@dataclass(frozen=True)
class MessageKind:
    """One kind of message.

    ``subject`` is a ``str.format`` pattern filled with the ``subject_fields`` the context
    builder returns. The text and HTML bodies are ``emails/outbox/<code>.txt`` and ``.html``.
    ``optional``: a person may opt out of it (its messages carry an unsubscribe link and are
    skipped for whoever unsubscribed); others (a change, a cancellation) always go out.
    ``due``: how the due-scan finds its messages; None for a kind written only when something
    happens (``scan.rows_for_event``). Kinds that are found together share one ``due``
    function, and kinds that read the same things share one ``load`` function: each is
    called once per scan or batch, with all their rows.
    """

    code: str
    label: str
    subject: str
    load: Loader
    context: ContextBuilder
    optional: bool = False
    due: DueFinder | None = None
    recheck: Recheck | None = None
    describe: Describe | None = None

    @property
    def templates(self) -> tuple[str, str]:
        return f"emails/outbox/{self.code}.txt", f"emails/outbox/{self.code}.html"


# The width of ``OutboxMessage.kind``.
CODE_MAX_LENGTH = 24
_kinds: Registry[MessageKind] = Registry("message kind")


def register(*kinds: MessageKind) -> None:
    """Add kinds (from an app's ``ready()``). A code registered by another kind is an error;
    the same kind again (``ready()`` run twice) changes nothing."""
    max_length = CODE_MAX_LENGTH
    for kind in kinds:
        if not kind.code or len(kind.code) > max_length:
            raise ImproperlyConfigured(
                f"A message kind's code has 1 to {max_length} characters: {kind.code!r}."
            )
        _kinds.add(kind.code, kind)


def get(code: str) -> MessageKind:
    kind = _kinds.get(code)
    if kind is None:
        raise UnknownKind(code)
    return kind


def label(code: str) -> str:
    """The kind's label; the code itself for a kind no app registers (any more)."""
    kind = _kinds.get(code)
    return kind.label if kind is not None else code


def registered() -> list[MessageKind]:
    """Every kind, in the order the apps registered them."""
    return list(_kinds.values())


def optional_codes() -> frozenset[str]:
    return frozenset(k.code for k in _kinds.values() if k.optional)


def due_finders() -> list[DueFinder]:
    """Each distinct ``due`` function once, in registration order."""
    return list(dict.fromkeys(k.due for k in _kinds.values() if k.due is not None))
