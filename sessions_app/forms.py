from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation

from .models import (
    SMALL_CELL_K_DEFAULT,
    AssignmentConstraint,
    AssignmentRun,
    Clinician,
    Discipline,
    Facilitator,
    FacilitatorAssignment,
    Group,
    Program,
    Room,
)

User = get_user_model()


class ClinicianForm(forms.ModelForm):
    class Meta:
        model = Clinician
        fields = [
            "first_name",
            "last_name",
            "email",
            "discipline",
            "gender",
            "years_at_institution",
            "patient_care_halfdays",
        ]
        help_texts = {
            "patient_care_halfdays": "7 or more is full-time clinical work.",
        }

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        others = Clinician.objects.filter(program=self.program, email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("A clinician with this email is already on the roster.")
        return email


class RosterFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    discipline = forms.ChoiceField(
        required=False,
        choices=[("", "All disciplines"), *Discipline.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "All statuses"), *Clinician.Status.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="Roster CSV file",
        help_text="UTF-8 CSV with a header line. See the column list below.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.ROSTER_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
                f"{limit / 1_048_576:.1f} MB. A roster needs one row per clinician."
            )
        return upload


class DeactivateForm(forms.Form):
    reason = forms.CharField(
        required=False, max_length=200, help_text="Optional, for example “left the department”."
    )


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "name",
            "department",
            "institution",
            "academic_year",
            "timezone",
            "eligible_clinicians",
            "sessions_per_year_min",
            "sessions_per_year_max",
            "format",
            "physicians_only",
            "small_cell_k",
            "small_cell_k_reason",
        ]
        labels = {
            "timezone": "Time zone",
            "eligible_clinicians": "Eligible clinicians in the department",
            "sessions_per_year_min": "Fewest sessions a year",
            "sessions_per_year_max": "Most sessions a year",
            "physicians_only": "Physicians only (traditional Balint)",
            "small_cell_k": "Small-cell threshold (k)",
            "small_cell_k_reason": "Reason for a threshold below 5",
        }
        help_texts = {
            "timezone": "Sessions are shown in this time zone, e.g. America/New_York.",
            "small_cell_k": "Survey results never break out a group or category with fewer "
            f"respondents than this: its count shows as “< k”. {SMALL_CELL_K_DEFAULT} unless "
            "there is a reason to go lower (at least 2).",
            "small_cell_k_reason": f"Required below {SMALL_CELL_K_DEFAULT}: it is shown next to "
            "the survey figures and kept in the audit trail.",
        }

    def clean(self):
        data = super().clean()
        low, high = data.get("sessions_per_year_min"), data.get("sessions_per_year_max")
        if low is not None and high is not None and low > high:
            self.add_error("sessions_per_year_max", "Must be at least the minimum.")
        k = data.get("small_cell_k")
        reason = (data.get("small_cell_k_reason") or "").strip()
        if k is not None and k < SMALL_CELL_K_DEFAULT:
            if not reason:
                self.add_error(
                    "small_cell_k_reason",
                    f"Give the reason for lowering the small-cell threshold below "
                    f"{SMALL_CELL_K_DEFAULT} (to {k}): it is shown next to the survey figures "
                    "and kept in the audit trail.",
                )
            data["small_cell_k_reason"] = reason
        elif k is not None:
            # At the standard threshold or above there is nothing to justify.
            data["small_cell_k_reason"] = ""
        return data


class InvitationAcceptForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        help_text="Letters, digits and @ . + - _ only. You will sign in with it.",
        validators=[User.username_validator],
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, clinician: Clinician, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinician = clinician

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("This username is taken; choose another.")
        return username

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            probe = User(
                username=data.get("username", ""),
                email=self.clinician.email,
                first_name=self.clinician.first_name,
                last_name=self.clinician.last_name,
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


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
    clinician = forms.TypedChoiceField(coerce=int, label="Person")
    to = forms.ChoiceField(label="Move to")

    def __init__(self, *args, people, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].choices = [(c.pk, c.full_name) for c in people]
        self.fields["to"].choices = [(g["key"], g["name"]) for g in groups]


class ConstraintForm(forms.Form):
    kind = forms.ChoiceField(choices=AssignmentConstraint.Kind.choices, label="Rule")
    clinician = forms.ModelChoiceField(queryset=Clinician.objects.none(), label="Person")
    other = forms.ModelChoiceField(
        queryset=Clinician.objects.none(),
        required=False,
        label="Other person",
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
    facilitator = forms.ModelChoiceField(queryset=Facilitator.objects.none())
    role = forms.ChoiceField(choices=FacilitatorAssignment.Role.choices)

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = Facilitator.objects.filter(
            program=program, active=True
        )
