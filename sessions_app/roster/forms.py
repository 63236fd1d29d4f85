from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation

from sessions_app.programs.models import Program
from sessions_app.roster.models import CLINICIAN_FIELDS, Clinician, Discipline, Invitation

User = get_user_model()


class ClinicianForm(forms.ModelForm):
    class Meta:
        model = Clinician
        fields = list(CLINICIAN_FIELDS)
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

    def __init__(self, *args, invitation: Invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation

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
                email=self.invitation.email,
                first_name=self.invitation.first_name,
                last_name=self.invitation.last_name,
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class RoleInviteForm(forms.Form):
    """Invite someone with no account and no entry in the program to a role in it."""

    name = forms.CharField(label="Name", max_length=200)
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(
        label="Role",
        choices=[("coordinator", "Coordinator"), ("report_viewer", "Report viewer")],
    )
