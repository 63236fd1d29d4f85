"""Forms of the qualitative coding pages. They parse input; :mod:`analysis.coding.services`
decides."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from analysis.coding import selectors
from analysis.coding.models import Theme
from surveys.models import Wave


class ThemeForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="Short, for example “Feeling less alone”.")
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="When the theme applies, and when it does not: the reviewers code by it.",
    )
    order = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=32767,
        help_text="Position in the codebook. Leave empty to put a new theme last.",
    )


class ReviewersForm(forms.Form):
    first = forms.ModelChoiceField(
        queryset=None, label="Reviewer 1", widget=forms.Select(attrs={"data-search": ""})
    )
    second = forms.ModelChoiceField(
        queryset=None, label="Reviewer 2", widget=forms.Select(attrs={"data-search": ""})
    )

    def __init__(self, *args, wave: Wave, **kwargs):
        super().__init__(*args, **kwargs)
        eligible = selectors.eligible_reviewers(wave)
        for name in ("first", "second"):
            self.fields[name].queryset = eligible
            self.fields[name].label_from_instance = _person
        self.fields[
            "second"
        ].help_text = "Coordinators and report viewers of the program. The two code independently."

    def clean(self):
        data = super().clean()
        first, second = data.get("first"), data.get("second")
        if first is not None and first == second:
            self.add_error("second", "The two reviewers must be different people.")
        return data


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


class ThemesChoiceForm(forms.Form):
    """Choosing the themes of one item; "no theme applies" must be said explicitly, so that a
    forgotten tick is not saved as a code."""

    item = forms.CharField(widget=forms.HiddenInput)
    themes = forms.ModelMultipleChoiceField(
        queryset=Theme.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    no_theme = forms.BooleanField(required=False, label="No theme applies")

    def __init__(self, *args, wave: Wave, themes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.wave = wave
        queryset = Theme.objects.filter(wave=wave)
        self.fields["themes"].queryset = queryset
        if themes is not None:
            # The page has already read the themes: reuse them for the checkboxes.
            self.fields["themes"].choices = [(t.pk, t.name) for t in themes]

    def clean_item(self):
        key = selectors.parse_item_key(self.cleaned_data["item"])
        if key is None:
            raise ValidationError("This answer is not one of the survey's open answers.")
        return key

    def clean(self):
        data = super().clean()
        chosen = data.get("themes")
        if "themes" in self.errors:
            return data
        if chosen and data.get("no_theme"):
            raise ValidationError(
                "Either choose themes or tick “No theme applies”, not both.", code="both"
            )
        if not chosen and not data.get("no_theme"):
            raise ValidationError(
                "Choose at least one theme, or tick “No theme applies”.", code="none"
            )
        return data
