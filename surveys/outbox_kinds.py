"""The survey's outbox messages: the invitation when an online wave opens and the reminder
before it closes, to those who have not answered (docs/surveys.md, docs/reminders.md).
Registered with the core's outbox in ``SurveysConfig.ready``.

A row's ``object_id`` is the wave; its recipient a clinician with a personal link.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from django.utils import timezone

from ccdg.models import OutboxMessage, ReminderSettings
from ccdg.outbox.kinds import Content, MessageKind, register
from ccdg.outbox.rendering import (
    FIRST_NAME,
    PERSONAL_LINK,
    Lookups,
    Rendered,
    render_message,
)
from ccdg.outbox.scan import Due, Recipient, rows_for_event, useful_from
from sessions_app.models import Clinician, Program
from sessions_app.reminders.rendering import Addressees
from surveys.links import link_url
from surveys.models import Wave, WaveRecipient

SURVEY_INVITATION = "survey_invitation"
SURVEY_REMINDER = "survey_reminder"
SURVEY_KINDS = (SURVEY_INVITATION, SURVEY_REMINDER)


# -- Who and when ----------------------------------------------------------------------------


def survey_recipients(wave: Wave) -> list[Recipient]:
    """Recipients of a wave who have not answered yet (nor left the program)."""
    return _survey_recipients([wave.pk])[wave.pk]


def _survey_recipients(wave_ids) -> dict[int, list[Recipient]]:
    out: dict[int, list[Recipient]] = {pk: [] for pk in wave_ids}
    rows = (
        WaveRecipient.objects.filter(wave_id__in=wave_ids, responded=False)
        .exclude(clinician__status=Clinician.Status.INACTIVE)
        .order_by("pk")
        .values_list("wave_id", "clinician_id", "email")
    )
    for wave_id, cid, email in rows:
        out[wave_id].append(Recipient(OutboxMessage.Recipient.CLINICIAN, cid, email))
    return out


def survey_due(
    *, program: Program, reminder_settings: ReminderSettings, now: datetime, until: datetime
):
    """The invitation when an online wave opens; one reminder ``reminder_days`` before it
    closes, to those who have not answered."""
    waves = Wave.objects.filter(
        program=program,
        source=Wave.Source.ONLINE,
        closed_at__isnull=True,
        opens_at__lte=until,
        closes_at__gt=now,
    ).order_by("opens_at", "pk")
    todo = []
    for wave in waves:
        due_invite = wave.opens_at
        due_remind = wave.closes_at - timedelta(days=wave.reminder_days)
        if due_invite > useful_from(now):
            todo.append((wave, SURVEY_INVITATION, "invite", due_invite))
        # Useful as long as the wave is open: no look-back limit.
        if wave.reminder_days and wave.opens_at < due_remind <= until:
            todo.append((wave, SURVEY_REMINDER, "reminder", due_remind))
    if not todo:
        return
    recipients = _survey_recipients({wave.pk for wave, *_ in todo})
    for wave, kind, occurrence, due in todo:
        yield Due(kind, wave.pk, occurrence, due, recipients[wave.pk], target=wave)


def survey_invitations_now(wave: Wave) -> int:
    """The invitations of a wave just opened: rows now, tasks after commit."""
    recipients = survey_recipients(wave)
    rows_for_event(
        program_id=wave.program_id, kind=SURVEY_INVITATION, object_id=wave.pk,
        recipients=recipients, occurrence="invite",
    )  # fmt: skip
    return len(recipients)


def survey_reminders_now(wave: Wave, *, now: datetime) -> int:
    """A reminder the coordinator sends by hand, to those who have not answered yet."""
    recipients = survey_recipients(wave)
    rows_for_event(
        program_id=wave.program_id, kind=SURVEY_REMINDER, object_id=wave.pk,
        recipients=recipients, occurrence=f"reminder:{now.astimezone(UTC):%Y%m%dT%H%M%S}",
    )  # fmt: skip
    return len(recipients)


# -- What it says ----------------------------------------------------------------------------


@dataclass
class SurveyLookups(Addressees):
    """What the survey messages of a batch read: programs, first names, and each recipient's
    link (``WaveRecipient``, with its wave)."""

    links: dict[tuple[int, int], WaveRecipient] = field(default_factory=dict)

    @classmethod
    def load(cls, rows: list[OutboxMessage]) -> SurveyLookups:
        clinicians, facilitators = cls.names(rows)
        return cls(
            programs=cls.programs_of(rows, {}),
            clinicians=clinicians,
            facilitators=facilitators,
            links={
                (w.wave_id, w.clinician_id): w
                for w in WaveRecipient.objects.select_related("wave").filter(
                    wave_id__in={r.object_id for r in rows},
                    clinician_id__in={r.recipient_id for r in rows},
                )
            },
        )

    def link(self, row: OutboxMessage) -> WaveRecipient | None:
        return self.links.get((row.object_id, row.recipient_id))


def survey_context(
    row: OutboxMessage, lookups: SurveyLookups, *, personal_links: bool, attachments: bool
) -> Content:
    """The wave, the recipient's own link and the closing date."""
    program = lookups.program_of(row)
    tz = program.tz
    context = lookups.base_context(row, program)
    link = lookups.link(row)
    if link is None:
        raise ValueError("The survey link of this message no longer exists.")
    closes = timezone.localtime(link.wave.closes_at, tz)
    context.update(
        wave=link.wave,
        survey_url=link_url(link) if personal_links else PERSONAL_LINK,
        closes=closes,
        tz_name=str(tz),
        anonymous=link.wave.is_anonymous,
    )
    when = f"{closes:%a %b} {closes.day}"
    return Content(context=context, subject_fields={"program": program.name, "when": when})


def survey_recheck(row: OutboxMessage, lookups: SurveyLookups, now: datetime) -> str:
    link = lookups.link(row)
    if link is None or not link.wave.is_open(now):
        return "The survey had closed."
    if link.responded:
        return "The person had already answered."
    return ""


def survey_describe(due: Due, tz: tzinfo) -> str:
    return f"Survey “{due.target.name}”"


def survey_invitation_preview(*, wave: Wave) -> Rendered:
    """The invitation of a wave not opened yet (``wave`` unsaved), as every recipient will read
    it but for their first name and their own link, which do not exist yet (placeholders)."""
    row = OutboxMessage(
        program_id=wave.program_id, kind=SURVEY_INVITATION, object_id=0,
        recipient_type=OutboxMessage.Recipient.CLINICIAN, recipient_id=0, email="",
    )  # fmt: skip
    survey = SurveyLookups(
        programs={wave.program_id: wave.program}, clinicians={0: FIRST_NAME}, facilitators={},
        links={(0, 0): WaveRecipient(wave=wave)},
    )  # fmt: skip
    lookups = Lookups(loaded={SurveyLookups.load: survey}, opted_out=set(), tokens={})
    return render_message(row, lookups, attachments=False, personal_links=False)


_common: dict[str, Any] = dict(
    load=SurveyLookups.load,
    context=survey_context,
    recheck=survey_recheck,
    describe=survey_describe,
    due=survey_due,
)

KINDS = (
    MessageKind(
        code=SURVEY_INVITATION,
        label="Survey invitation",
        subject="{program}: a short survey about your group",
        **_common,
    ),
    MessageKind(
        code=SURVEY_REMINDER,
        label="Survey reminder (to those who have not answered)",
        subject="Reminder: the {program} survey closes {when}",
        optional=True,
        **_common,
    ),
)


def kinds_register() -> None:
    register(*KINDS)
