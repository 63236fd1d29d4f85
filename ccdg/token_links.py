"""Links whose token is traded, on first use, for a short-lived signed cookie.

An e-mailed link (a survey, an invitation, an unsubscribe page) carries its secret in the
path, and paths are written to the access logs of the proxy and the app server and, through
the ``Referer`` header, to the logs of whatever the page loads. So the token address does one
thing: it checks the token, puts it in a signed cookie and redirects (303) to an address
without it. Every later request of the visit, the page, its forms and its redirects, works
from the cookie.

The cookie, not the database-backed session: what a session row holds and when it is written
can be read by whoever reads the database, and for an anonymous survey that would tie the
respondent to the moment of the answer. The cookie is signed (``SECRET_KEY``, a salt per
purpose), expires after ``max_age`` seconds without activity (each page renews it), is
``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS, and is sent only to the pages of its
``path``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect


@dataclass(frozen=True)
class TokenCookie:
    """Where one visit's token travels: the cookie's name, path, salt and lifetime."""

    name: str
    path: str
    salt: str
    max_age: int  # seconds without a request before the visit has to start from the link again

    def read(self, request: HttpRequest) -> str | None:
        """The token, or None when the cookie is missing, forged or expired."""
        return request.get_signed_cookie(
            self.name, default=None, salt=self.salt, max_age=self.max_age
        )

    def write(self, response: HttpResponse, request: HttpRequest, token: str) -> HttpResponse:
        """Set (or renew) the cookie on ``response``."""
        response.set_signed_cookie(
            self.name,
            token,
            salt=self.salt,
            max_age=self.max_age,
            path=self.path,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
        return response

    def forget(self, response: HttpResponse) -> HttpResponse:
        response.delete_cookie(self.name, path=self.path, samesite="Lax")
        return response


def token_exchange(request: HttpRequest, token: str, cookie: TokenCookie) -> HttpResponse:
    """Send the browser on to the cookie's page, the token now in the cookie only.

    303 so that a POST to the token address is followed by a GET of the page.
    """
    return cookie.write(HttpResponseRedirect(cookie.path, status=303), request, token)


def already_logged(response: HttpResponse) -> HttpResponse:
    """Keep Django's "Not Found: <path>" line out of the log for a refused token address.

    Django skips responses carrying this flag of its own; the log filter of
    ``ccdg.log_filters`` masks the token in any line that is still written.
    """
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's own flag
    return response
