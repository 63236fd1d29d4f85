from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from sessions_app.groups.models import (
    AssignmentConstraint,
    AssignmentRun,
    Facilitator,
    FacilitatorAssignment,
    Group,
)
from sessions_app.programs.models import Program
from sessions_app.roster.models import Clinician
from sessions_app.schedule.models import Room

User = get_user_model()


# --- Groups and assignment ---------------------------------------------------------------------


class AssignmentForm(forms.Form):
    KEEP, REBALANCE = "keep", "rebalance"

    mode = forms.ChoiceField(
        choices=AssignmentRun.Mode.choices,
        initial=AssignmentRun.Mode.FRESH,
        widget=forms.RadioSelect,
        help_text="Adding newcomers moves nobody who is already in a group, unless a rule "
        "needs it (the preview then says who moves and why).",
    )
    regroup = forms.ChoiceField(
        label="People already in a group",
        choices=[
            (KEEP, "Keep them in their current group as far as the rules and balance allow"),
            (REBALANCE, "Rebalance freely (may move many people)"),
        ],
        initial=KEEP,
        required=False,  # not given: keep (the default)
        widget=forms.RadioSelect,
        help_text="For a fresh assignment while groups already have members: keeping them "
        "moves someone only to fix a clear imbalance or to keep a rule.",
    )
    groups = forms.IntegerField(
        label="Number of groups",
        required=False,
        min_value=1,
        max_value=500,
        help_text="Leave empty to derive it from the target size.",
    )
    target_size = forms.IntegerField(
        label="Target group size", required=False, min_value=2, max_value=50, initial=10
    )
    min_size = forms.IntegerField(label="Smallest group", min_value=1, max_value=50, initial=8)
    max_size = forms.IntegerField(label="Largest group", min_value=1, max_value=50, initial=12)
    seed = forms.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        initial=0,
        help_text="Same seed, same input: same groups. Change it to see an alternative.",
    )

    def clean(self):
        data = super().clean()
        low, high = data.get("min_size"), data.get("max_size")
        if low is not None and high is not None and low > high:
            self.add_error("max_size", "Must be at least the smallest group size.")
        data["regroup"] = data.get("regroup") or self.KEEP
        if (
            data.get("mode") == AssignmentRun.Mode.FRESH
            and not data.get("groups")
            and not data.get("target_size")
        ):
            self.add_error("groups", "Give a number of groups or a target group size.")
        return data


class _IdListField(forms.Field):
    """Ids posted as repeated hidden inputs."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return sorted({int(v) for v in value or ()})
        except (TypeError, ValueError):
            raise forms.ValidationError("The list of people is not valid.") from None


class CommitForm(forms.Form):
    """Committing a preview. Once sessions have been held, the coordinator ticks a box that
    names the people who change group; their ids come with it, so that the service can check
    that they are still the ones the preview moves."""

    confirm_moves = forms.BooleanField(required=False)
    moved = _IdListField(required=False)

    def confirmed_moves(self) -> list[int] | None:
        return self.cleaned_data["moved"] if self.cleaned_data["confirm_moves"] else None


class MoveForm(forms.Form):
    clinician = forms.TypedChoiceField(
        coerce=int, label="Person", widget=forms.Select(attrs={"data-search": ""})
    )
    to = forms.ChoiceField(label="Move to")

    def __init__(self, *args, people, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].choices = [(c.pk, c.full_name) for c in people]
        self.fields["to"].choices = [(g["key"], g["name"]) for g in groups]


class ConstraintForm(forms.Form):
    kind = forms.ChoiceField(choices=AssignmentConstraint.Kind.choices, label="Rule")
    clinician = forms.ModelChoiceField(
        queryset=Clinician.objects.none(),
        label="Person",
        widget=forms.Select(attrs={"data-search": ""}),
    )
    other = forms.ModelChoiceField(
        queryset=Clinician.objects.none(),
        required=False,
        label="Other person",
        widget=forms.Select(attrs={"data-search": ""}),
        help_text="For “keep apart” and “keep together”.",
    )
    group = forms.ModelChoiceField(
        queryset=Group.objects.none(), required=False, help_text="For “pin to a group”."
    )
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        people = Clinician.objects.filter(program=program).exclude(status=Clinician.Status.INACTIVE)
        self.fields["clinician"].queryset = people
        self.fields["other"].queryset = people
        self.fields["group"].queryset = Group.objects.filter(program=program)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == AssignmentConstraint.Kind.PIN:
            if not data.get("group"):
                self.add_error("group", "Choose the group to pin this person to.")
            data["other"] = None
        elif kind:
            if not data.get("other"):
                self.add_error("other", "Choose the other person.")
            elif data.get("other") == data.get("clinician"):
                self.add_error("other", "Choose two different people.")
            data["group"] = None
        return data


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ["name", "default_room", "min_size", "max_size", "meeting_slot"]
        labels = {"min_size": "Smallest size", "max_size": "Largest size"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_room"].queryset = Room.objects.filter(
            program_id=self.instance.program_id
        )

    def clean(self):
        data = super().clean()
        low, high = data.get("min_size"), data.get("max_size")
        if low is not None and high is not None and low > high:
            self.add_error("max_size", "Must be at least the smallest size.")
        return data


class FacilitatorForm(forms.ModelForm):
    class Meta:
        model = Facilitator
        fields = ["name", "email", "background", "clinician", "active"]
        labels = {"clinician": "Also on the roster as", "active": "Available this year"}
        widgets = {"clinician": forms.Select(attrs={"data-search": ""})}

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program
        self.fields["clinician"].queryset = Clinician.objects.filter(program=program)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        others = Facilitator.objects.filter(program=self.program, email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("This email is already in the facilitator pool.")
        return email


class FacilitationForm(forms.Form):
    facilitator = forms.ModelChoiceField(
        queryset=Facilitator.objects.none(), widget=forms.Select(attrs={"data-search": ""})
    )
    role = forms.ChoiceField(choices=FacilitatorAssignment.Role.choices)

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = Facilitator.objects.filter(
            program=program, active=True
        )
