"""gunicorn's access log without secret tokens.

``gunicorn ccdg.wsgi --access-logfile - --logger-class ccdg.gunicorn_logging.TokenMaskingLogger``
writes the usual access log lines, with the token of a survey, invitation, unsubscribe,
calendar feed or password-reset address replaced by ``[token]`` in every field (request line,
path, referrer, headers): ``"GET /calendar/[token].ics HTTP/1.1" 200``. See
docs/operations.md, "Keeping tokens out of logs".
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from ccdg.log_filters import mask_tokens


class TokenMaskingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_tokens(v) if isinstance(v, str) else v for key, v in atoms.items()}
