"""Groups, their memberships over time, facilitators and their assignments, and the
assignment runs and rules that produce groups."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


def current_membership_q(prefix: str = "") -> Q:
    """Memberships still running (no ``left_on``): on GroupMembership, or with a prefix such as
    ``"memberships__"`` inside a filter on a related model (kept in the same ``filter()`` call as
    the other conditions on the membership, so they all speak of one row)."""
    return Q(**{f"{prefix}left_on__isnull": True})


def current_facilitation_q(prefix: str = "") -> Q:
    """Facilitator assignments still running (no ``ends_on``); ``prefix`` as above."""
    return Q(**{f"{prefix}ends_on__isnull": True})


class GroupMembershipQuerySet(models.QuerySet):
    def current(self) -> GroupMembershipQuerySet:
        """The memberships not closed: the clinician's group today and from now on."""
        return self.filter(current_membership_q())


class FacilitatorAssignmentQuerySet(models.QuerySet):
    def current(self) -> FacilitatorAssignmentQuerySet:
        """The assignments not ended: who facilitates the group now."""
        return self.filter(current_facilitation_q())


class Facilitator(models.Model):
    """A member of the program's facilitator pool."""

    class Background(models.TextChoices):
        CLINICIAN_EDUCATOR = "clinician_educator", "Clinician-educator"
        PSYCHOLOGIST = "psychologist", "Psychologist"
        PSYCHIATRIST = "psychiatrist", "Psychiatrist"
        CLINICIAN_INVESTIGATOR = "clinician_investigator", "Clinician-investigator"
        OTHER = "other", "Other"

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.PROTECT, related_name="facilitators"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilitator_roles",
    )
    clinician = models.ForeignKey(
        "Clinician",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilitator_roles",
        help_text="Their own roster entry, when the facilitator is also a clinician here: "
        "they are never placed as a member of a group they facilitate.",
    )
    name = models.CharField(max_length=200)
    email = models.EmailField()
    background = models.CharField(max_length=30, choices=Background.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "program", Lower("email"), name="facilitator_unique_email_per_program"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    """One of a program's parallel discussion groups: small, stable through the year."""

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.PROTECT, related_name="groups"
    )
    name = models.CharField(max_length=100)
    default_room = models.ForeignKey(
        "sessions_app.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    min_size = models.PositiveSmallIntegerField(default=8)
    max_size = models.PositiveSmallIntegerField(default=12)
    meeting_slot = models.CharField(
        max_length=60,
        blank=True,
        help_text="When this group meets, if not at the program's common time "
        "(for example “Thu 12:00”). Members must be available then.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="group_unique_name"),
            models.CheckConstraint(
                condition=models.Q(min_size__lte=models.F("max_size"), min_size__gte=1),
                name="group_size_bounds",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def _facilitators(self, role: str) -> list[Any]:
        # From the current assignments prefetched as ``current_facilitations`` (group_list).
        found = getattr(self, "current_facilitations", [])
        return [f.facilitator for f in found if f.role == role]

    @property
    def leads(self) -> list[Any]:
        return self._facilitators("lead")

    @property
    def backups(self) -> list[Any]:
        return self._facilitators("backup")


class GroupMembership(models.Model):
    """A clinician's membership of a group; ``left_on`` closes it, the row stays as history."""

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="memberships")
    clinician = models.ForeignKey(
        "sessions_app.Clinician", on_delete=models.PROTECT, related_name="memberships"
    )
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    objects = GroupMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["joined_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinician"],
                condition=models.Q(left_on__isnull=True),
                name="membership_one_current_group",
            ),
            # left_on is the first day no longer a member; the same day as joined_on is a
            # membership that never took effect. Overlaps are refused by a PostgreSQL trigger
            # (migration 0007).
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=True)
                | models.Q(left_on__gte=models.F("joined_on")),
                name="membership_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinician} in {self.group}"


class FacilitatorAssignment(models.Model):
    """A facilitator leading or backing up a group for a term."""

    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        BACKUP = "backup", "Backup"

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="facilitations")
    facilitator = models.ForeignKey(
        Facilitator, on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)

    objects = FacilitatorAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["group", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "role"],
                condition=models.Q(ends_on__isnull=True, role="lead"),
                name="facilitation_one_current_lead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facilitator} ({self.get_role_display()}) for {self.group}"


class AssignmentConstraint(models.Model):
    """A rule the group assignment must keep: a pin, or a pair kept apart or together."""

    class Kind(models.TextChoices):
        PIN = "pin", "Pin to a group"
        APART = "apart", "Keep apart"
        TOGETHER = "together", "Keep together"

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="assignment_constraints"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    clinician = models.ForeignKey(
        "sessions_app.Clinician", on_delete=models.CASCADE, related_name="+"
    )
    other = models.ForeignKey(
        "sessions_app.Clinician", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="pins"
    )
    note = models.CharField(
        max_length=200, blank=True, help_text="Why, for example “supervisor and supervisee”."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="pin", group__isnull=False, other__isnull=True)
                    | models.Q(
                        kind__in=["apart", "together"], group__isnull=True, other__isnull=False
                    )
                ),
                name="assignmentconstraint_shape",
            ),
            models.CheckConstraint(
                condition=~models.Q(clinician=models.F("other")),
                name="assignmentconstraint_two_people",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.PIN:
            return f"{self.clinician} pinned to {self.group}"
        verb = "apart from" if self.kind == self.Kind.APART else "together with"
        return f"{self.clinician} {verb} {self.other}"


class AssignmentRun(models.Model):
    """One computed assignment of the program's participants to groups.

    A run starts as a preview; the coordinator may move people in it, then commits it (the
    memberships change) or discards it. Runs are kept as the history of assignments.
    """

    class Mode(models.TextChoices):
        FRESH = "fresh", "Fresh assignment of everyone"
        ADD_NEWCOMERS = "add_newcomers", "Add newcomers to the current groups"

    class Status(models.TextChoices):
        PREVIEW = "preview", "Preview"
        COMMITTED = "committed", "Committed"
        DISCARDED = "discarded", "Discarded"
        SUPERSEDED = "superseded", "Superseded"

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="assignment_runs"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.FRESH)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PREVIEW)
    params = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    moves = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Assignment #{self.pk} ({self.get_status_display()})"
