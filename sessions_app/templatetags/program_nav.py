"""``{% program_nav program as nav %}``: a program's pages in a few sections (Plan, Run,
Evaluate, Administer), each page shown only to whom its view lets in, the current page and
section marked; and the breadcrumb trail to the current page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import template
from django.urls import reverse

from sessions_app import roles

register = template.Library()


@dataclass
class Page:
    label: str
    url: str
    active: bool


@dataclass
class Section:
    label: str
    pages: list[Page] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(p.active for p in self.pages)


# (section, label, URL name, permission or None for everyone, what marks it current: URL
# names or namespaces, or parts of URL names)
PAGES: list[tuple[str, str, str, str | None, tuple[str, ...]]] = [
    ("Plan", "Roster", "sessions_app:roster_list", "roster.view", ("roster", "clinician")),
    ("Plan", "Groups", "sessions_app:group_list", None, ("group", "assignment", "constraint")),
    ("Plan", "Facilitators", "sessions_app:facilitator_list", "facilitators.manage",
     ("facilitator", "facilitation")),
    ("Plan", "Sessions", "sessions_app:session_list", None,
     ("session_list", "session_detail", "session_coverage", "session_reschedule",
      "session_cancel", "schedule", "room", "blackout", "refreshment")),
    ("Plan", "Agendas", "sessions_app:agenda_list", "sessions.manage", ("agenda_",)),
    ("Run", "My sessions", "sessions_app:my_sessions", None, ("my_sessions",)),
    ("Run", "Presenters", "sessions_app:presenter_turns", "presenters.manage",
     ("presenter_turns",)),
    ("Run", "Attendance", "sessions_app:attendance_figures", "attendance.view",
     ("attendance", "credit")),
    ("Run", "Case notes", "sessions_app:case_note_list", None, ("case_note", "confidentiality")),
    ("Run", "Outbox", "outbox:outbox", "sessions.manage", ("ns:outbox",)),
    ("Evaluate", "Surveys", "surveys:wave_list", "surveys.view", ("ns:surveys",)),
    ("Evaluate", "Reports", "reports:index", "reports.view", ("ns:reports",)),
    ("Administer", "Team", "sessions_app:program_team", "program.edit", ("program_team",)),
    ("Administer", "Settings", "sessions_app:program_edit", "program.edit", ("program_edit",)),
]  # fmt: skip


def _current(match: Any, marks: tuple[str, ...]) -> bool:
    if match is None:
        return False
    name = match.url_name or ""
    for mark in marks:
        if mark.startswith("ns:"):
            if match.namespace == mark[3:]:
                return True
        elif mark in name:
            return True
    return False


@register.simple_tag(takes_context=True)
def program_nav(context: Any, program: Any) -> list[Section]:
    request = context["request"]
    user, match = request.user, request.resolver_match
    sections: dict[str, Section] = {}
    for section, label, name, perm, marks in PAGES:
        if perm is not None and not roles.can(user, perm, program):
            continue
        page = Page(label, reverse(name, args=[program.slug]), _current(match, marks))
        sections.setdefault(section, Section(section)).pages.append(page)
    return list(sections.values())


@register.simple_tag(takes_context=True)
def program_breadcrumbs(context: Any, program: Any, nav: list[Section]) -> list[Page]:
    """Home › the program › the current page's section page (when the current page is one
    below it, e.g. a session under Sessions)."""
    trail = [
        Page("Home", reverse("home"), False),
        Page(program.name, program.get_absolute_url(), False),
    ]
    request = context["request"]
    for section in nav:
        for page in section.pages:
            if page.active and page.url != request.path:
                trail.append(page)
    return trail
