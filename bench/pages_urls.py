"""The site's URLs plus ``/bench/bare/``: the page benchmark's yardstick, a signed-in request
through the same middleware (session, user, roles, CSP) that renders a trivial template."""

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from ccdg.urls import urlpatterns as site

BARE = (
    '<!doctype html><html lang="en"><head><title>Bare</title></head>'
    "<body><p>Signed in as {{ request.user.username }}.</p></body></html>"
)


def bare(request):
    template = engines["django"].from_string(BARE)
    return HttpResponse(template.render({}, request))


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *site]
