"""The outbox's tables: reminder settings per program, the messages, opt-outs and unsubscribe
tokens. ``ccdg.models`` gathers them with the rest of the core's models."""

from __future__ import annotations

from django.db import models

from ccdg.outbox import kinds


class ReminderSettings(models.Model):
    """A program's reminder timings and its sending switch. Created on demand with the defaults
    (``ReminderSettings.for_program``): a program without a row uses them."""

    program = models.OneToOneField(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="reminder_settings"
    )
    launch_days = models.PositiveSmallIntegerField(
        default=30, help_text="The launch announcement goes out this many days before the "
        "program's first session."
    )  # fmt: skip
    second_launch_days = models.PositiveSmallIntegerField(
        default=7, help_text="A second announcement, this many days before the first session."
    )
    session_days = models.PositiveSmallIntegerField(
        default=7, help_text="Session reminders go out this many days before each session."
    )
    presenter_days = models.PositiveSmallIntegerField(
        default=3, help_text="Presenters are reminded this many days before their session."
    )
    no_presenter_days = models.PositiveSmallIntegerField(
        default=7, help_text="Facilitators hear that nobody presents yet this many days before."
    )
    paused = models.BooleanField(
        default=False, help_text="While paused, due messages wait in the outbox."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "reminder settings"

    def __str__(self) -> str:
        return f"Reminder settings of program #{self.program_id}"

    @classmethod
    def for_program(cls, program_id: int) -> ReminderSettings:
        """The saved settings, or unsaved defaults (the scan must not write them)."""
        return cls.objects.filter(program_id=program_id).first() or cls(program_id=program_id)


class OutboxMessage(models.Model):
    """One message to one person about one thing, once.

    The unique constraint on (kind, object, recipient, occurrence) is what makes a reminder
    go out at most once however many scans run, at once or again after a crash. Only ids,
    the address and delivery facts are stored: the text is rendered when it is sent.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        # No longer produced: an expired lease puts the row back to pending (migration 0007
        # moved the old ones back). Kept so old reports and audit entries still read.
        STUCK = "stuck", "Stuck in sending"

    class Recipient(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        FACILITATOR = "facilitator", "Facilitator"

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="outbox_messages"
    )
    # A message kind's code (``ccdg.outbox.kinds``): the apps register their kinds, so the
    # codes are not database choices and a new kind needs no migration of the core.
    kind = models.CharField(max_length=kinds.CODE_MAX_LENGTH)
    object_id = models.BigIntegerField()
    recipient_type = models.CharField(max_length=12, choices=Recipient.choices)
    recipient_id = models.BigIntegerField()
    email = models.CharField(max_length=254, help_text="The address when the row was made.")
    occurrence = models.CharField(max_length=80)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Exception class and SMTP code only: never the message or the server's full reply.
    last_error = models.CharField(max_length=200, blank=True)
    skip_reason = models.CharField(max_length=200, blank=True)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The claim's lease: who is sending the row ("host:pid:random", unique per claim) and until
    # when. An outcome counts only from the lease holder; an expired lease goes back to pending.
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The Message-ID header of every attempt (derived from the row, no personal data): a second
    # copy after a crash is recognisable as the same message.
    message_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "recipient_type", "recipient_id", "occurrence"],
                name="outbox_once_per_recipient_occurrence",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="outbox_status_due"),
            models.Index(fields=["program", "status"], name="outbox_program_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label} #{self.pk} ({self.get_status_display()})"

    @property
    def kind_label(self) -> str:
        """The label its kind registered (the code for a kind no app registers)."""
        return kinds.label(self.kind)


class OutboxOptOut(models.Model):
    """A person who asked for no optional messages from a program (changes still reach them)."""

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="outbox_opt_outs"
    )
    email = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "email"], name="optout_once_per_email"),
        ]

    def __str__(self) -> str:
        return f"Opt-out #{self.pk}"


class UnsubscribeToken(models.Model):
    """The one-click unsubscribe link of optional messages. Only a hash of the token is kept."""

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="unsubscribe_tokens"
    )
    email = models.CharField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Unsubscribe token #{self.pk}"
