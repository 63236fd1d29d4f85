"""``{% can "roster.manage" program as may_manage %}``: the same decisions as the views."""

from django import template

from sessions_app import roles

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, perm: str, program) -> bool:
    return roles.can(context["request"].user, perm, program)


@register.simple_tag(takes_context=True)
def can_run(context, session) -> bool:
    """``{% can_run session as may_run %}``: agenda, live view, attendance of this session."""
    return roles.can_run_session(context["request"].user, session)


@register.simple_tag(takes_context=True)
def reads_take_home(context, session) -> bool:
    return roles.session_may_view(context["request"].user, session)
