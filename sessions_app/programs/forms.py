from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from sessions_app.programs.models import SMALL_CELL_K_DEFAULT, Program

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
