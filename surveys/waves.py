"""Survey waves: who gets one, their single-use links, saving a draft and submitting.

Views, commands, the outbox and tests go through these functions. Rules:

* A wave needs at least one recipient and a closing date in the future, or it is refused.
* Each recipient's link token is derived from a random per-recipient nonce with the secret
  key; only a hash of the token is stored (so a copy of the database cannot answer for anyone)
  and the outbox can render the link again when it sends a reminder.
* A link answers once. Saving a draft keeps the answers (in a row keyed by a secret derived
  from the link, not on the recipient's row) until submission.
* In an anonymous wave the stored response has no reference to the recipient and its time is
  cut to the day. Submitting writes the response and an unattributable "link used" marker and
  never touches the recipient's row; :func:`respondents_record` later marks recipients as
  having answered in batches of at least *k* (the program's small-cell threshold), so that
  even a reader of the whole database cannot tell which of them wrote which response. See
  docs/surveys.md, "Anonymity".
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from ccdg.audit import audit_record
from sessions_app.models import (
    Attendance,
    Clinician,
    Group,
    GroupMembership,
    Program,
    Session,
)

from . import builtin, series
from .digest import responses_changed
from .links import link_path, link_token, link_url, link_usable, recipient_for_token, token_hash
from .models import (
    Instrument,
    Response,
    ResponseDraft,
    ResponsesDigest,
    SubmittedLink,
    Wave,
    WaveRecipient,
    submitted_marker,
)
from .outbox_kinds import survey_invitation_preview, survey_invitations_now, survey_reminders_now
from .responses import answers_clean, group_labels_for
from .services import builtin_instrument

logger = logging.getLogger(__name__)

A = Wave.Audience
MAX_LAST_SESSIONS = 52


# -- audience ------------------------------------------------------------------------------


def audience_clinicians(
    *,
    program: Program,
    audience: str,
    sessions: int | None = None,
    group: Group | None = None,
) -> list[Clinician]:
    """Who a wave for this audience goes to; never an inactive clinician."""
    active = Clinician.objects.filter(program=program).exclude(status=Clinician.Status.INACTIVE)
    if audience == A.GROUP:
        if group is None or group.program_id != program.pk:
            raise ValidationError({"audience_group": "Choose one of the program's groups."})
        ids = GroupMembership.objects.current().filter(group=group).values("clinician_id")
        return list(active.filter(pk__in=ids).order_by("last_name", "first_name", "pk"))
    if audience == A.ALL_ACTIVE:
        ids = (
            GroupMembership.objects.current().filter(group__program=program).values("clinician_id")
        )
        return list(active.filter(pk__in=ids).order_by("last_name", "first_name", "pk"))
    if audience == A.LAST_SESSIONS:
        if not sessions or sessions < 1 or sessions > MAX_LAST_SESSIONS:
            raise ValidationError(
                {"audience_sessions": f"Give a number of sessions from 1 to {MAX_LAST_SESSIONS}."}
            )
        held = list(
            Session.objects.filter(
                group__program=program,
                status=Session.Status.SCHEDULED,
                starts_at__lte=timezone.now(),
            )
            .order_by("-starts_at", "-pk")
            .values_list("pk", flat=True)[:sessions]
        )
        ids = Attendance.objects.filter(
            session_id__in=held,
            status__in=[Attendance.Status.PRESENT, Attendance.Status.GUEST],
        ).values("clinician_id")
        return list(active.filter(pk__in=ids).order_by("last_name", "first_name", "pk"))
    raise ValidationError({"audience": "Choose who receives the survey."})


# -- opening and managing waves -------------------------------------------------------------


# Slugs taken by the survey pages' own addresses (``surveys/new/``, ``surveys/paper/``).
RESERVED_SLUGS = frozenset({"new", "paper", "codebook", "series"})


def _unique_slug(program: Program, wanted: str) -> str:
    base = slugify(wanted)[:50] or "wave"
    if base in RESERVED_SLUGS:
        base = f"{base}-wave"
    slug, n = base, 2
    while Wave.objects.filter(program=program, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_slug(program: Program, slug: str) -> None:
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"“{slug}” is reserved; choose another slug."})
    if Wave.objects.filter(program=program, slug=slug).exists():
        raise ValidationError({"slug": f"The program already has a wave “{slug}”."})


def _instrument_and_slug(
    program: Program, instrument: Instrument | None, slug: str, name: str
) -> tuple[Instrument, str]:
    """The instrument (the built-in survey unless given) and a free slug (checked if given,
    else made from the name)."""
    if instrument is None:
        instrument = builtin_instrument()
    if slug:
        _check_slug(program, slug)
    else:
        slug = _unique_slug(program, name)
    return instrument, slug


def _wave_planned(
    *,
    program: Program,
    actor: Any,
    name: str,
    closes_at: datetime,
    audience: str,
    sessions: int | None,
    group: Group | None,
    mode: str,
    is_pilot: bool,
    instrument: Instrument | None,
    slug: str,
    reminder_days: int,
    now: datetime,
) -> tuple[Wave, list[Clinician]]:
    """The wave as it would open now (unsaved) and its recipients, after every check."""
    if closes_at is None or closes_at <= now:
        raise ValidationError({"closes_at": "The closing date must be in the future."})
    instrument, slug = _instrument_and_slug(program, instrument, slug, name)
    if not instrument.is_published:
        raise ValidationError({"instrument": "Only a published instrument can be sent."})
    people = audience_clinicians(program=program, audience=audience, sessions=sessions, group=group)
    if not people:
        raise ValidationError(
            {"audience": "Nobody matches this choice of recipients; the wave was not opened."}
        )
    wave = Wave(
        program=program,
        instrument=instrument,
        name=name,
        slug=slug,
        mode=mode,
        source=Wave.Source.ONLINE,
        is_pilot=is_pilot,
        audience=audience,
        audience_sessions=sessions if audience == A.LAST_SESSIONS else None,
        audience_group=group if audience == A.GROUP else None,
        opens_at=now,
        closes_at=closes_at,
        reminder_days=reminder_days,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return wave, people


@dataclass(frozen=True)
class WavePreview:
    """What opening a wave would do: how many people it reaches and the invitation they get."""

    wave: Wave  # unsaved
    recipients: int
    subject: str
    text: str
    # An anonymous wave with fewer recipients than the program's small-cell threshold can
    # never record a batch of respondents (docs/surveys.md, "Anonymity").
    below_k: bool


def wave_open_preview(
    *,
    program: Program,
    actor: Any,
    name: str,
    closes_at: datetime,
    audience: str,
    sessions: int | None = None,
    group: Group | None = None,
    mode: str = Wave.Mode.ANONYMOUS,
    is_pilot: bool = False,
    instrument: Instrument | None = None,
    slug: str = "",
    reminder_days: int = 3,
    now: datetime | None = None,
) -> WavePreview:
    """What :func:`wave_open` with the same arguments would send, without saving or sending
    anything: the number of recipients and the invitation, rendered by the outbox's own code
    with placeholders for each person's first name and link (they do not exist yet). Raises
    the same ``ValidationError`` as :func:`wave_open`. Names no recipient, whatever the mode."""

    wave, people = _wave_planned(
        program=program, actor=actor, name=name, closes_at=closes_at, audience=audience,
        sessions=sessions, group=group, mode=mode, is_pilot=is_pilot, instrument=instrument,
        slug=slug, reminder_days=reminder_days, now=now or timezone.now(),
    )  # fmt: skip
    rendered = survey_invitation_preview(wave=wave)
    return WavePreview(
        wave=wave,
        recipients=len(people),
        subject=rendered.subject,
        text=rendered.text,
        below_k=wave.is_anonymous and len(people) < program.small_cell_k,
    )


def wave_open(
    *,
    program: Program,
    actor: Any,
    name: str,
    closes_at: datetime,
    audience: str,
    sessions: int | None = None,
    group: Group | None = None,
    mode: str = Wave.Mode.ANONYMOUS,
    is_pilot: bool = False,
    instrument: Instrument | None = None,
    slug: str = "",
    reminder_days: int = 3,
    now: datetime | None = None,
) -> Wave:
    """Open an online wave now: one recipient row (and link) per person in the audience.

    Raises ``ValidationError`` (with field keys) for a closing date not in the future, an
    audience with nobody in it, a draft instrument, or a slug already in use.
    """
    now = now or timezone.now()
    wave, people = _wave_planned(
        program=program, actor=actor, name=name, closes_at=closes_at, audience=audience,
        sessions=sessions, group=group, mode=mode, is_pilot=is_pilot, instrument=instrument,
        slug=slug, reminder_days=reminder_days, now=now,
    )  # fmt: skip
    with transaction.atomic():
        wave.save()
        rows = []
        for c in people:
            rec = WaveRecipient(wave=wave, clinician=c, email=c.email, nonce=secrets.token_hex(16))
            rec.token_hash = token_hash(link_token(rec))
            rows.append(rec)
        WaveRecipient.objects.bulk_create(rows, batch_size=500)
        audit_record(
            actor=actor, action="survey.wave_open", obj=wave, program_id=program.pk,
            data={"recipients": len(rows), "mode": mode, "pilot": is_pilot},
        )  # fmt: skip

    survey_invitations_now(wave)
    return wave


def paper_wave_create(
    *,
    program: Program,
    actor: Any,
    name: str,
    distributed: int | None,
    slug: str = "",
    mode: str = Wave.Mode.ANONYMOUS,
    is_pilot: bool = False,
    instrument: Instrument | None = None,
    handed_out_on: datetime | None = None,
) -> Wave:
    """A wave of paper forms handed out in a session, typed in or imported afterwards."""
    if distributed is not None and distributed < 0:
        raise ValidationError({"distributed": "The number of forms handed out cannot be negative."})
    instrument, slug = _instrument_and_slug(program, instrument, slug, name)
    with transaction.atomic():
        wave = Wave.objects.create(
            program=program,
            instrument=instrument,
            name=name,
            slug=slug,
            mode=mode,
            source=Wave.Source.PAPER,
            is_pilot=is_pilot,
            opens_at=handed_out_on or timezone.now(),
            distributed_count=distributed,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor, action="survey.paper_wave_create", obj=wave, program_id=program.pk,
            data={"distributed": distributed, "pilot": is_pilot},
        )  # fmt: skip
    return wave


def wave_close(*, wave: Wave, actor: Any, now: datetime | None = None) -> Wave:
    now = now or timezone.now()
    if wave.is_paper:
        raise ValidationError("A paper wave has no links to close.")
    if not wave.is_open(now):
        raise ValidationError("The wave is already closed.")
    Wave.objects.filter(pk=wave.pk).update(closed_at=now)
    wave.closed_at = now
    audit_record(actor=actor, action="survey.wave_close", obj=wave, program_id=wave.program_id)
    return wave


def wave_extend(
    *, wave: Wave, actor: Any, closes_at: datetime, now: datetime | None = None
) -> Wave:
    """Move the closing date (and reopen a wave that closed on its date, not one closed early)."""
    now = now or timezone.now()
    if wave.is_paper:
        raise ValidationError("A paper wave has no closing date.")
    if wave.closed_at is not None:
        raise ValidationError("The wave was closed by hand and stays closed.")
    if closes_at is None or closes_at <= now:
        raise ValidationError({"closes_at": "The closing date must be in the future."})
    Wave.objects.filter(pk=wave.pk).update(closes_at=closes_at)
    wave.closes_at = closes_at
    audit_record(
        actor=actor, action="survey.wave_extend", obj=wave, program_id=wave.program_id,
        data={"closes_at": closes_at.isoformat()},
    )  # fmt: skip
    return wave


def wave_set_pilot(*, wave: Wave, actor: Any, is_pilot: bool) -> Wave:
    Wave.objects.filter(pk=wave.pk).update(is_pilot=is_pilot)
    wave.is_pilot = is_pilot
    audit_record(
        actor=actor, action="survey.wave_pilot", obj=wave, program_id=wave.program_id,
        data={"pilot": is_pilot},
    )  # fmt: skip
    return wave


def wave_remind_now(*, wave: Wave, actor: Any, now: datetime | None = None) -> int:
    """Queue a reminder now for everyone who has not answered; returns how many."""
    now = now or timezone.now()
    if not wave.is_open(now):
        raise ValidationError("The wave is closed: there is nobody left to remind.")

    n = survey_reminders_now(wave, now=now)
    audit_record(
        actor=actor, action="survey.wave_remind", obj=wave, program_id=wave.program_id,
        data={"recipients": n},
    )  # fmt: skip
    return n


# -- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveFigures:
    distributed: int
    returned: int
    excluded: int
    saved_drafts: int

    @property
    def analysed(self) -> int:
        return self.returned - self.excluded

    @property
    def rate(self) -> float | None:
        """Returned / distributed, or None when nothing was distributed."""
        return self.returned / self.distributed if self.distributed else None


def _count_of(model, **filters) -> Coalesce:
    """A correlated ``COUNT(*)`` of ``model`` rows of the outer wave: each count reads its own
    table once through its index, so the work grows with recipients + responses."""
    counted = (
        model.objects.filter(wave=OuterRef("pk"), **filters)
        .order_by()
        .values("wave")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def waves_with_figures(queryset):
    """Annotate waves with the counts :func:`figures` reads: one query for any number.

    One subquery per count, never joins: two joins (recipients and responses) multiply into
    recipients x responses rows before ``COUNT(DISTINCT)`` removes them again (millions of
    rows, seconds, for a wave of a few thousand)."""
    return queryset.annotate(
        n_recipients=_count_of(WaveRecipient),
        n_drafts=_count_of(ResponseDraft),
        # The running totals kept with the responses digest; counted for a wave without one.
        n_returned=Coalesce(_kept("returned"), _count_of(Response)),
        n_excluded=Coalesce(_kept("excluded"), _count_of(Response, excluded_reason__gt="")),
    )


def _kept(total: str) -> Subquery:
    return Subquery(
        ResponsesDigest.objects.filter(wave=OuterRef("pk")).values(total)[:1],
        output_field=IntegerField(),
    )


def figures(wave: Wave) -> WaveFigures:
    """Distributed, returned, excluded (and analysed, rate). Uses the annotations of
    :func:`waves_with_figures` when present, else counts."""
    if not hasattr(wave, "n_returned"):
        wave = waves_with_figures(Wave.objects.filter(pk=wave.pk)).get()
    if wave.is_paper:
        distributed = wave.distributed_count or 0
        # A paper wave with more forms returned than handed out was miscounted: say so in
        # the figures rather than print a rate over 100%.
        distributed = max(distributed, wave.n_returned) if wave.distributed_count else 0
    else:
        distributed = wave.n_recipients
    return WaveFigures(
        distributed=distributed,
        returned=wave.n_returned,
        excluded=wave.n_excluded,
        saved_drafts=wave.n_drafts,
    )


# -- answering ----------------------------------------------------------------------------


class LinkRefused(Exception):
    """The link cannot be used (unknown, used or closed): one reason for all three."""


def draft_save(
    *, recipient: WaveRecipient, answers: dict[str, str], page: int, now: datetime | None = None
) -> WaveRecipient:
    """Keep answers given so far (merged into the draft) and the page reached.

    The recipient's row is only read, never locked or written: in an anonymous wave a lock
    would leave the saving transaction's id on it (PostgreSQL's ``xmax``).
    """
    now = now or timezone.now()
    key = recipient.draft_key
    for attempt in range(2):
        try:
            with transaction.atomic():
                fresh = WaveRecipient.objects.select_related("wave").get(pk=recipient.pk)
                if not link_usable(fresh, now):
                    raise LinkRefused()
                row = ResponseDraft.objects.select_for_update().filter(key=key).first()
                draft = dict(row.answers) if row else {}
                draft.update(answers)
                # Answers cleared by the respondent go from the draft, so resume shows them blank.
                draft = {k: v for k, v in draft.items() if v not in ("", None)}
                if row is None:
                    row = ResponseDraft(wave_id=fresh.wave_id, key=key)
                row.answers, row.page, row.saved_at = draft, page, now
                row.save()
            break
        except IntegrityError:  # the first save of this draft raced another: read it again
            if attempt:
                raise
    recipient.__dict__["saved_draft"] = row
    return recipient


def response_submit(
    *, recipient: WaveRecipient, answers: dict[str, str], now: datetime | None = None
) -> Response:
    """Submit through a link: once only. Raises ``LinkRefused`` or ``ValidationError``."""
    now = now or timezone.now()
    # A wave's mode is fixed when it opens: the recipient at hand tells which path to take.
    if recipient.wave.is_anonymous:
        return _anonymous_submit(recipient=recipient, answers=answers, now=now)
    with transaction.atomic():
        locked = (
            WaveRecipient.objects.select_related("wave__instrument", "wave__program")
            .select_for_update()
            .get(pk=recipient.pk)
        )
        if not link_usable(locked, now):
            raise LinkRefused()
        wave = locked.wave
        clean, hashed = _clean_submission(wave, locked, answers)
        response = Response.objects.create(
            wave=wave,
            recipient=locked,
            link_hash=hashed,
            source=Response.Source.ONLINE,
            answers=clean,
            submitted_at=now,
        )
        responses_changed(wave_id=wave.pk, added=[(clean, "")])
        locked.responded, locked.responded_at = True, now
        locked.save(update_fields=["responded", "responded_at"])
        ResponseDraft.objects.filter(key=locked.draft_key).delete()
    return response


def _clean_submission(
    wave: Wave, recipient: WaveRecipient, answers: dict[str, str]
) -> tuple[dict, str]:
    """(the clean answers, the keyed hash of the personal code or "")."""
    merged = {**recipient.draft, **answers}
    hashed, merged = series.link_hash_of(wave, merged)
    return answers_clean(wave.instrument, merged, group_labels=group_labels_for(wave)), hashed


def _anonymous_submit(
    *, recipient: WaveRecipient, answers: dict[str, str], now: datetime
) -> Response:
    """The response, its "link used" marker and the end of the draft, in one transaction that
    reads the recipient's row but neither writes nor locks it (no shared transaction id, no
    ``xmax``). The unique marker makes a second submission through the same link fail."""
    with transaction.atomic():
        fresh = WaveRecipient.objects.select_related("wave__instrument", "wave__program").get(
            pk=recipient.pk
        )
        if not link_usable(fresh, now):
            raise LinkRefused()
        wave = fresh.wave
        clean, hashed = _clean_submission(wave, fresh, answers)
        try:
            with transaction.atomic():
                SubmittedLink.objects.create(wave=wave, marker=fresh.submitted_marker)
        except IntegrityError as exc:  # the same link, submitted twice at once
            raise LinkRefused() from exc
        response = Response.objects.create(
            wave=wave,
            recipient=None,
            source=Response.Source.ONLINE,
            answers=clean,
            link_hash=hashed,
            submitted_at=datetime(now.year, now.month, now.day, tzinfo=UTC),
        )
        responses_changed(wave_id=wave.pk, added=[(clean, "")])
        ResponseDraft.objects.filter(key=fresh.draft_key).delete()
    return response


def respondents_record(*, wave: Wave) -> int:
    """Mark the recipients of an anonymous wave whose links were used, once at least *k* are
    waiting; returns how many were marked (0 while fewer than *k* wait).

    One UPDATE marks the whole batch: the rows share one transaction id and are rewritten in
    the table's scan order, which depends on when the wave was opened, not on when anyone
    answered. The markers of the batch are deleted with it, so that afterwards not even the
    secret key ties a response's transaction to a person. Idempotent; safe to run twice.
    """
    if not wave.is_anonymous or wave.is_paper:
        return 0
    markers = set(SubmittedLink.objects.filter(wave=wave).values_list("marker", flat=True))
    if not markers:
        return 0
    waiting = [
        (pk, marker)
        for pk, nonce in WaveRecipient.objects.filter(wave=wave, responded=False).values_list(
            "pk", "nonce"
        )
        if (marker := submitted_marker(nonce)) in markers
    ]
    k = wave.program.small_cell_k
    if len(waiting) < k:
        return 0
    secrets.SystemRandom().shuffle(waiting)
    with transaction.atomic():
        marked = WaveRecipient.objects.filter(
            pk__in=[pk for pk, _ in waiting], responded=False
        ).update(responded=True)
        SubmittedLink.objects.filter(marker__in=[m for _, m in waiting]).delete()
    logger.info("survey wave %s: %s respondents recorded as a batch", wave.pk, marked)
    return marked


def drafts_of_closed_waves_delete(*, now: datetime | None = None) -> int:
    """Saved answers that can no longer be submitted (the wave closed) are not kept."""
    now = now or timezone.now()
    closed = Q(wave__closed_at__isnull=False) | Q(wave__closes_at__lte=now)
    deleted, _ = ResponseDraft.objects.filter(closed).delete()
    return deleted


def respondents_record_all() -> int:
    """:func:`respondents_record` for every wave with used links not yet recorded."""
    waves = Wave.objects.filter(pk__in=SubmittedLink.objects.values("wave_id")).select_related(
        "program"
    )
    return sum(respondents_record(wave=wave) for wave in waves)


def default_closing(now: datetime | None = None) -> datetime:
    """Two weeks from now, at the end of that day in the server's time zone."""
    now = timezone.localtime(now or timezone.now())
    end = (now + timedelta(days=14)).replace(hour=23, minute=59, second=0, microsecond=0)
    return end


def builtin_paper_wave(*, program: Program, slug: str, distributed: int | None, actor: Any) -> Wave:
    """The paper wave ``slug`` of the program, created with the built-in instrument if new."""
    wave = Wave.objects.filter(program=program, slug=slug).first()
    if wave is not None:
        return wave
    try:
        return paper_wave_create(
            program=program,
            actor=actor,
            name=slug.replace("-", " ").capitalize(),
            slug=slug,
            distributed=distributed,
        )
    except IntegrityError as exc:  # created by someone else in the meantime
        raise ValidationError(f"The wave “{slug}” was created meanwhile; run again.") from exc


__all__ = [
    "LinkRefused",
    "WaveFigures",
    "WavePreview",
    "audience_clinicians",
    "builtin",
    "default_closing",
    "draft_save",
    "drafts_of_closed_waves_delete",
    "figures",
    "link_path",
    "link_token",
    "link_url",
    "link_usable",
    "paper_wave_create",
    "recipient_for_token",
    "respondents_record",
    "respondents_record_all",
    "response_submit",
    "wave_close",
    "wave_extend",
    "wave_open",
    "wave_open_preview",
    "wave_remind_now",
    "wave_set_pilot",
    "waves_with_figures",
]
