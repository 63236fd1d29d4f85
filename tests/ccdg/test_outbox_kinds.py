"""The registry of message kinds: the apps' kinds are there with their labels; a code
registered twice is refused; a row whose kind no app registers fails alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from ccdg.models import OutboxMessage
from ccdg.outbox import kinds
from ccdg.outbox.sending import outbox_send_batch
from sessions_app.reminders import kinds as K
from surveys import outbox_kinds
from tests.factories import (
    ClinicianFactory,
    GroupFactory,
    OutboxMessageFactory,
    ProgramRoleFactory,
    SessionFactory,
)

S = OutboxMessage.Status


def test_the_apps_register_their_kinds_with_the_labels_the_pages_show():
    codes = [k.code for k in kinds.registered()]

    assert codes == [
        K.LAUNCH, K.LAUNCH_SECOND, K.SESSION_REMINDER, K.PRESENTER_REMINDER, K.NO_PRESENTER,
        K.NEXT_MEETING, K.SESSION_RESCHEDULED, K.SESSION_CANCELLED, K.BACKUP_ALERT,
        K.PRESENTER_PROMOTED, outbox_kinds.SURVEY_INVITATION, outbox_kinds.SURVEY_REMINDER,
    ]  # fmt: skip
    assert kinds.optional_codes() == {K.LAUNCH_SECOND, K.NEXT_MEETING, outbox_kinds.SURVEY_REMINDER}
    assert OutboxMessage(kind=K.NO_PRESENTER).kind_label == "No presenter yet (facilitators)"


def test_a_code_registered_by_another_kind_is_refused_and_the_first_stays():
    first = kinds.get(K.SESSION_REMINDER)
    impostor = kinds.MessageKind(
        code=K.SESSION_REMINDER, label="Another reminder", subject="{group}",
        load=first.load, context=first.context,
    )  # fmt: skip

    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        kinds.register(impostor)

    assert kinds.get(K.SESSION_REMINDER) is first


def test_registering_the_same_kinds_again_changes_nothing():
    before = kinds.registered()

    kinds.register(*before)  # what a second run of the apps' ready() does

    assert kinds.registered() == before


def test_a_code_longer_than_the_column_is_refused():
    first = kinds.get(K.SESSION_REMINDER)
    too_long = kinds.MessageKind(
        code="x" * 25, label="Too long", subject="", load=first.load, context=first.context
    )

    with pytest.raises(ImproperlyConfigured, match="1 to 24 characters"):
        kinds.register(too_long)

    assert "x" * 25 not in {k.code for k in kinds.registered()}


@pytest.mark.django_db
def test_a_row_of_a_kind_no_app_registers_fails_alone_and_the_batch_goes_on(program, mailoutbox):
    session = SessionFactory(
        group=GroupFactory(program=program), starts_at=timezone.now() + timedelta(days=6)
    )
    people = [ClinicianFactory(program=program) for _ in range(2)]
    unknown, known = (
        OutboxMessageFactory(
            program=program,
            kind=kind,
            object_id=session.pk,
            recipient_id=person.pk,
            email=person.email,
        )  # fmt: skip
        for kind, person in zip(("retired_kind", K.SESSION_REMINDER), people, strict=True)
    )

    result = outbox_send_batch(message_ids=[unknown.pk, known.pk])

    assert result.outcomes == {unknown.pk: "failed", known.pk: "sent"}
    unknown.refresh_from_db()
    assert (unknown.status, unknown.last_error) == (S.FAILED, "Unknown message kind: retired_kind")
    assert [m.to for m in mailoutbox] == [[people[1].email]]


@pytest.mark.django_db
def test_the_outbox_page_names_a_row_of_an_unknown_kind_by_its_code(client, program):
    row = OutboxMessageFactory(program=program, kind="retired_kind", status=S.FAILED)
    client.force_login(ProgramRoleFactory(program=program).user)

    page = client.get(reverse("outbox:outbox", kwargs={"slug": program.slug}) + "?tab=failed")
    preview = client.get(
        reverse("outbox:outbox_preview", kwargs={"slug": program.slug, "pk": row.pk})
    )

    assert "retired_kind" in page.content.decode()
    assert preview.status_code == 200
    assert "This message cannot be rendered: UnknownKind." in preview.content.decode()
