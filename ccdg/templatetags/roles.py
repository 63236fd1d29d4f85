"""``{% can "roster.manage" program as may_manage %}``: the same decisions as the views."""

from django import template

from ccdg import roles

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, perm: str, program) -> bool:
    return roles.can(context["request"].user, perm, program)
