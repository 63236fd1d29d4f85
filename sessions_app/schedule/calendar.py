"""iCalendar output: one event per session, with a stable UID and a SEQUENCE that grows with
every change, so calendar programs update (or cancel) the event they already have.

What goes into an event is what a calendar on a phone may show to anyone looking at it: the
group, the time, the room, the agenda and whether a presenter is confirmed. Never a working
title or anything else about a case.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone
from icalendar import Calendar, Event

from sessions_app.programs.models import Program
from sessions_app.schedule.models import Session

PRODID = "-//CCDG//Clinical case discussion groups//EN"


def program_short(program: Program) -> str:
    return program.name


def event_summary(session: Session) -> str:
    return f"{program_short(session.group.program)} — {session.group.name}"


def event_location(session: Session) -> str:
    """The room; an online session's meeting link (calendars open it); a hybrid one's both."""
    room = session.room
    place = ""
    if room is not None:
        place = f"{room.name}, {room.location}" if room.location else room.name
    if session.mode == Session.Mode.ONLINE and session.meeting_url:
        return session.meeting_url
    if session.mode == Session.Mode.HYBRID and session.meeting_url:
        return f"{place} and online: {session.meeting_url}" if place else session.meeting_url
    return place


def event_description(session: Session) -> str:
    """The agenda (clock times in the program's zone) and whether someone presents."""
    program = session.group.program
    lines = []
    if session.status == Session.Status.CANCELLED:
        lines += ["Cancelled.", ""]
    if session.is_online and session.meeting_url:
        lines += [f"{session.get_mode_display()}. Join the meeting: {session.meeting_url}", ""]
    if session.theme:
        lines += [f"Theme: {session.theme}", ""]
    segments = list(session.segments.all())
    if segments:
        lines.append(f"Agenda ({session.agenda_name or 'session'}):")
        for segment in segments:
            clock = program.local(session.starts_at + timedelta(minutes=segment.start_minute))
            lines.append(f"{clock:%H:%M} {segment.title}")
        lines.append("")
    confirmed = getattr(session, "presenter_confirmed", None)
    if confirmed is None:
        confirmed = session.presentations.filter(status="confirmed").exists()
    lines.append("Presenter: confirmed" if confirmed else "Presenter: not yet confirmed")
    return "\n".join(lines)


def session_event(session: Session, *, url: str = "") -> Event:
    start = session.group.program.local(session.starts_at)
    event = Event()
    event.add("uid", f"{session.uid}@ccdg")
    event.add("sequence", session.sequence)
    event.add("dtstamp", session.updated_at or timezone.now())
    event.add("last-modified", session.updated_at or timezone.now())
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=session.duration_minutes))
    event.add("summary", event_summary(session))
    location = event_location(session)
    if location:
        event.add("location", location)
    cancelled = session.status == Session.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("description", event_description(session))
    if url:
        event.add("url", url)
    return event


def calendar_bytes(sessions: Iterable[Session], *, name: str, url_for=None) -> bytes:
    """A VCALENDAR with one VEVENT per session and the VTIMEZONEs they use."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    for session in sessions:
        cal.add_component(session_event(session, url=url_for(session) if url_for else ""))
    cal.add_missing_timezones()
    return cal.to_ical()
