"""``{% identifier_rule %}``: the patient-identifier rule in the words of ``ccdg.phi.RULE``."""

from django import template

from ccdg import phi

register = template.Library()


@register.simple_tag
def identifier_rule() -> str:
    return phi.RULE
