"""The built-in agendas, "CCDG 60 minutes", "CCDG 60 minutes, two cases" and "Balint 90
minutes", as data.

Migrations 0004 and 0011 create them; :func:`ensure_builtin_agendas` puts them back if they were
removed (a database flushed by tests, or a mistaken delete in the admin).
"""

from __future__ import annotations

NO_SOLVING = (
    "Keep listeners from solving the presenter's problem and from “me too” stories; bring "
    "the focus back to the presenter's case and relationship."
)

TWO_CASES = "CCDG 60 minutes, two cases"

AGENDAS = {
    ("CCDG 60 minutes", 60): [
        (
            0,
            "Check-in and ground rules",
            "Welcome everyone. Review the ground rules: what is said here stays here; patients "
            "are described only by age, gender and first name or initials; we do not solve the "
            "presenter's problem.",
        ),
        (
            5,
            "Case presentation",
            "The presenter tells the case (about 10 minutes), usually without notes: a patient "
            "they find difficult or uncomfortable. Keep technical and medical details to a "
            "minimum.",
        ),
        (
            15,
            "Interpretation of the clinician-patient relationship",
            "Go around the room one by one: each listener offers a reflection on the relationship. "
            + NO_SOLVING,
        ),
        (30, "Open discussion", "Open the discussion to everyone. " + NO_SOLVING),
        (
            55,
            "Wrap-up and close",
            "Alert the group to the approaching end, gather last comments and take-home points, "
            "and remind everyone of the next meeting's date and room.",
        ),
    ],
    # Two cases in one hour, for a session with a preselected theme: each case gets its own
    # presentation and go-around, shorter than in the one-case agenda.
    (TWO_CASES, 60): [
        (
            0,
            "Check-in and ground rules",
            "Welcome everyone, name the session's theme, and review the ground rules (what is "
            "said here stays here; patients by age, gender and first name or initials only; we "
            "do not solve the presenter's problem). Say that two cases will each have about "
            "25 minutes.",
        ),
        (
            3,
            "First case: presentation",
            "The first presenter tells the case (about 5 minutes), without notes. Keep technical "
            "and medical details to a minimum.",
        ),
        (
            8,
            "First case: go-around",
            "One by one, each listener offers a reflection on the relationship. " + NO_SOLVING,
        ),
        (
            20,
            "First case: discussion",
            "A short open discussion; close it on time and thank the presenter.",
        ),
        (
            29,
            "Second case: presentation",
            "The second presenter tells the case (about 5 minutes), without notes.",
        ),
        (
            34,
            "Second case: go-around",
            "One by one, each listener offers a reflection on the relationship. " + NO_SOLVING,
        ),
        (
            46,
            "Second case: discussion",
            "A short open discussion; what the two cases share, if the theme invites it.",
        ),
        (
            55,
            "Wrap-up and close",
            "Alert the group to the approaching end, gather last comments and take-home points, "
            "and remind everyone of the next meeting's date, room and theme.",
        ),
    ],
    ("Balint 90 minutes", 90): [
        (
            0,
            "Check-in and ground rules",
            "Welcome everyone and review the ground rules (confidentiality; age, gender and first "
            "name or initials only).",
        ),
        (
            5,
            "Case presentation",
            "The presenter tells the case from memory: a patient relationship that troubles them.",
        ),
        (20, "Factual questions", "Brief questions of fact only, no interpretation yet."),
        (
            30,
            "Group reflection, presenter listening",
            "The presenter sits back and listens while the group reflects on the relationship. "
            + NO_SOLVING,
        ),
        (65, "Presenter rejoins", "Invite the presenter back to say what struck them."),
        (
            80,
            "Wrap-up and close",
            "Alert the group to the approaching end, gather last comments and remind everyone of "
            "the next meeting.",
        ),
    ],
}


def ensure_builtin_agendas(template_model, segment_model) -> None:
    """Create the built-in agendas that are missing. Takes the model classes so that the
    migration can pass its historical models."""
    for (name, duration), segments in AGENDAS.items():
        template, _ = template_model.objects.get_or_create(
            program=None, name=name, defaults={"duration_minutes": duration, "built_in": True}
        )
        if not template.segments.exists():
            for start, title, guidance in segments:
                segment_model.objects.create(
                    template=template, start_minute=start, title=title, guidance=guidance
                )
