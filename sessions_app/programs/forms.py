from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from sessions_app.programs.models import SMALL_CELL_K_DEFAULT, Program, ProgramRole

User = get_user_model()


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "name",
            "department",
            "institution",
            "academic_year",
            "timezone",
            "locale",
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
            "locale": "Country",
            "eligible_clinicians": "Eligible clinicians in the department",
            "sessions_per_year_min": "Fewest sessions a year",
            "sessions_per_year_max": "Most sessions a year",
            "physicians_only": "Physicians only (traditional Balint)",
            "small_cell_k": "Small-cell threshold (k)",
            "small_cell_k_reason": "Reason for a threshold below 5",
        }
        help_texts = {
            "timezone": "Sessions are shown in this time zone, e.g. America/New_York.",
            "locale": "The printed documents use its paper (US Letter in the United States and "
            "Canada, A4 elsewhere) and the pages write dates its way (Dec 8, 2026 in the United "
            "States and Canada, 8 Dec 2026 elsewhere).",
            "small_cell_k": "Survey results never break out a group or category with fewer "
            f"respondents than this: its count shows as “< k”. {SMALL_CELL_K_DEFAULT} unless "
            "there is a reason to go lower (at least 2).",
            "small_cell_k_reason": f"Required below {SMALL_CELL_K_DEFAULT}: it is shown next to "
            "the survey figures and kept in the audit trail.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page always sends a country (a select without a blank choice); a form sent without
        # one (a page opened before the setting existed, a script) keeps the program's.
        self.fields["locale"].required = False

    def clean_locale(self) -> str:
        return self.cleaned_data.get("locale") or self.instance.locale or Program.Locale.US

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


class RoleGrantForm(forms.Form):
    """Give someone with an account a role in the program, found by e-mail or username.

    A coordinator finds the people of their own program (its roster, its facilitator pool,
    its role holders); site staff find any account. A coordinator cannot learn from this form
    whether someone elsewhere has an account."""

    def __init__(self, *args: Any, program: Program, anyone: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.program, self.anyone = program, anyone

    def candidates(self) -> Any:
        users = User.objects.filter(is_active=True)
        if self.anyone:
            return users
        p = self.program
        return users.filter(
            Q(clinicians__program=p) | Q(facilitator_roles__program=p) | Q(program_roles__program=p)
        ).distinct()

    person = forms.CharField(
        label="E-mail address or username",
        max_length=254,
        help_text="The person needs an account: one from an invitation, or from signing in "
        "once through your organisation's sign-in.",
    )
    role = forms.ChoiceField(label="Role", choices=ProgramRole.Role.choices)

    def clean_person(self) -> object:
        wanted = self.cleaned_data["person"].strip()
        field = "email__iexact" if "@" in wanted else "username__iexact"
        found = list(self.candidates().filter(**{field: wanted})[:2])
        if not found:
            where = "" if self.anyone else " in this program"
            raise forms.ValidationError(
                f"No active account{where} has the {'address' if '@' in wanted else 'username'} "
                f"“{wanted}”. Add them to the roster or the facilitator pool and invite them, "
                "or ask site staff."
            )
        if len(found) > 1:
            raise forms.ValidationError(
                "More than one account has this address: give the username instead."
            )
        return found[0]


class ProgramCreateForm(ProgramForm):
    """A new program (site staff), with its address and, optionally, its first coordinator."""

    coordinator = forms.CharField(
        label="First coordinator (e-mail address or username)",
        required=False,
        max_length=254,
        help_text="An existing account; leave empty to appoint one later on the Team page.",
    )

    class Meta(ProgramForm.Meta):
        fields = ["name", "slug", *ProgramForm.Meta.fields[1:]]
        labels = {**ProgramForm.Meta.labels, "slug": "Address"}
        help_texts = {
            **ProgramForm.Meta.help_texts,
            "slug": "Letters, digits and hyphens: the program's pages are /programs/<address>/.",
        }

    def clean_coordinator(self) -> Any:
        wanted = self.cleaned_data["coordinator"].strip()
        if not wanted:
            return None
        picker = RoleGrantForm(data={"person": wanted, "role": "coordinator"}, program=None,
                               anyone=True)  # fmt: skip
        if not picker.is_valid():
            raise forms.ValidationError(picker.errors["person"])
        return picker.cleaned_data["person"]
