"""The site's URLs plus the page benchmark's two reference views:

* ``/bench/bare/``, the yardstick of the targets: a signed-in request through the same
  middleware (session, user, roles, CSP) that renders a trivial template;
* ``/bench/layout/<slug>/``, for information: the same request rendering the site's own layout
  (``base.html``: navigation, the program's menu) around an empty page, the part every real page
  shares, so that the table shows what a page costs beyond it."""

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from ccdg.urls import urlpatterns as site
from sessions_app import roles

BARE = (
    '<!doctype html><html lang="en"><head><title>Bare</title></head>'
    "<body><p>Signed in as {{ request.user.username }}.</p></body></html>"
)


def bare(request):
    template = engines["django"].from_string(BARE)
    return HttpResponse(template.render({}, request))


LAYOUT = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<p>Signed in.</p>{% endblock %}'
)


def layout(request, slug):
    program = roles.program_for_request(request, slug, "program.view")
    return HttpResponse(LAYOUT.render({"program": program}, request))


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/layout/<slug:slug>/", layout, name="bench_layout"),
    *site,
]
