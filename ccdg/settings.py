"""Settings for the CCDG app: one module, driven by environment variables.

Two ways to run, one code path:

* embedded default (no environment variables): SQLite, Celery's broker and email
  all live in files under ``var/``; a secret key is generated there once;
* production: ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` and ``EMAIL_URL`` are set,
  and ``SECRET_KEY`` is required.

Every variable is listed in the README's configuration table.
"""

from __future__ import annotations

import ipaddress
import secrets
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

VAR_DIR = Path(env.str("CCDG_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Production is whatever runs on an external database; the embedded default is SQLite.
EMBEDDED = not env.str("DATABASE_URL", default="")

DEBUG = env.bool("CCDG_DEBUG", default=False)
TESTING = "pytest" in sys.modules


def _embedded_secret_key() -> str:
    """Generate the secret key once into var/, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
        warnings.warn(
            f"SECRET_KEY is not set: generated one into {path}. "
            "Set SECRET_KEY in the environment for production.",
            stacklevel=1,
        )
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    # Production (an external database, debug off) must bring its own key.
    if not EMBEDDED and not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DATABASE_URL is set (production). "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = _embedded_secret_key()

# Keys that encrypt case-note text (Fernet, newest first), kept apart from SECRET_KEY.
FIELD_KEYS = env.list("CCDG_FIELD_KEYS", default=[])
# The key of the personal codes that link anonymous answers over time (surveys/linking.py):
# set it to keep codes linking across a change of SECRET_KEY; derived from SECRET_KEY if unset.
LINK_CODE_KEY = env.str("CCDG_LINK_CODE_KEY", default="")
CASE_NOTE_MAX_CHARS = env.int("CCDG_CASE_NOTE_MAX_CHARS", default=10_000)

ALLOWED_HOSTS = env.list("CCDG_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CCDG_CSRF_TRUSTED_ORIGINS", default=[])
# Absolute address used in emails sent from background jobs (no request to read it from).
BASE_URL = env.str("CCDG_BASE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "csp",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    # The site's OpenID Connect provider: allauth's, with nonce and signature checks.
    "ccdg.accounts.oidc",
    # SAML 2.0 (python3-saml), with the site's provider class (ccdg/accounts/saml.py).
    "allauth.socialaccount.providers.saml",
    "allauth.mfa",
    "allauth.usersessions",
    "ccdg",
    "sessions_app",
    "surveys",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files keep their cache headers), before everything else: no
    # page or file the app makes is stored by a proxy or the browser (ccdg/middleware.py).
    "ccdg.middleware.PrivateNoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # allauth's sign-in stages (second factor) and the list of one's sessions (last seen).
    "allauth.account.middleware.AccountMiddleware",
    "ccdg.accounts.middleware.SessionSeenMiddleware",
    "ccdg.accounts.middleware.SessionIdleMiddleware",
    # Throttled sign-in and reset requests (429) go into the audit trail.
    "ccdg.accounts.middleware.ThrottleAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff, coordinators, report viewers and facilitators add a second factor first.
    "sessions_app.signin.second_factor.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised by the backend into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ccdg.urls"
WSGI_APPLICATION = "ccdg.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sessions_app.context_processors.navigation",
                "ccdg.accounts.context.sign_in",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
if EMBEDDED:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "ccdg.sqlite3",
            # The web server and the Celery worker write to the same file: wait for the lock
            # instead of failing, and take it at the start of a transaction.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
else:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CCDG_DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ---------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ccdg",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication ------------------------------------------------------------------------
# Sign-in, reset, second factors, single sign-on and the list of one's sessions are
# django-allauth's (docs/sign-in.md); django-axes locks a username at one client address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("CCDG_PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"
PASSWORD_RESET_TIMEOUT = env.int("CCDG_PASSWORD_RESET_HOURS", default=24) * 3600
INVITATION_DAYS = env.int("CCDG_INVITATION_DAYS", default=14)

# Repeated failed sign-ins lock a username at the client address they came from (5 in 15
# minutes): a hospital's staff often share one outgoing address, so one person's typos must
# not lock a department out, and a stranger's guesses must not lock the coordinator out.
AXES_FAILURE_LIMIT = env.int("CCDG_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CCDG_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "ccdg.accounts.limits.attempted_username"
# Failed sign-ins are logged with the address the audit trail records (TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "ccdg.audit.client_ip"
# Two more limits, counted in the cache (Redis in production), each a setting: failed
# sign-ins from one address across every username (a guesser trying many accounts), and
# failed sign-ins for one username from every address together (a slow, spread-out guesser).
SIGNIN_ADDRESS_FAILURES = env.int("CCDG_SIGNIN_ADDRESS_FAILURES", default=30)
SIGNIN_ADDRESS_MINUTES = env.int("CCDG_SIGNIN_ADDRESS_MINUTES", default=15)
SIGNIN_USERNAME_FAILURES = env.int("CCDG_SIGNIN_USERNAME_FAILURES", default=50)
SIGNIN_USERNAME_MINUTES = env.int("CCDG_SIGNIN_USERNAME_MINUTES", default=60)
# Password-reset requests: messages per address per hour, requests per client per hour.
PASSWORD_RESET_PER_ADDRESS_HOUR = env.int("CCDG_PASSWORD_RESET_PER_ADDRESS_HOUR", default=3)
PASSWORD_RESET_PER_CLIENT_HOUR = env.int("CCDG_PASSWORD_RESET_PER_CLIENT_HOUR", default=30)

ACCOUNT_ADAPTER = "ccdg.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "ccdg.accounts.forms.SignInForm",
    "reset_password": "ccdg.accounts.forms.QueuedResetPasswordForm",
}
# People sign in with their username or their email address; accounts come from invitations
# (the roster) or single sign-on, never from a sign-up page.
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CCDG] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if env.bool("CCDG_HTTPS", default=False) else "http"
ACCOUNT_RATE_LIMITS = {
    # Sign-in attempts of any outcome from one address (a department behind one address
    # signs in at the start of a shift: well above what a person types).
    "login": f"{env.int('CCDG_SIGNIN_ADDRESS_PER_MINUTE', default=60)}/m/ip",
    "login_failed": (
        f"{SIGNIN_ADDRESS_FAILURES}/{SIGNIN_ADDRESS_MINUTES * 60}s/ip,"
        f"{SIGNIN_USERNAME_FAILURES}/{SIGNIN_USERNAME_MINUTES * 60}s/key"
    ),
    "reset_password": (
        f"{PASSWORD_RESET_PER_CLIENT_HOUR}/h/ip,{PASSWORD_RESET_PER_ADDRESS_HOUR}/h/key"
    ),
}

# Second factors: an authenticator app (TOTP) with recovery codes, and passkeys (WebAuthn).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = env.str("CCDG_MFA_ISSUER", default="CCDG")
# Plain http on localhost is a secure context for browsers; allow it when not in production.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not env.bool("CCDG_HTTPS", default=False)
# Staff, coordinators, report viewers and facilitators must enrol a second factor (on by
# default in production, off by default in the embedded development setup).
MFA_REQUIRED = env.bool("CCDG_MFA_REQUIRED", default=not (EMBEDDED or DEBUG or TESTING))

# Single sign-on (docs/sign-in.md): one OpenID Connect provider from the environment. Its
# redirect URI is <CCDG_BASE_URL>/accounts/sso/<CCDG_OIDC_PROVIDER_ID>/login/callback/.
OIDC_ISSUER = env.str("CCDG_OIDC_ISSUER", default="")
OIDC_PROVIDER_ID = env.str("CCDG_OIDC_PROVIDER_ID", default="hospital")


def oidc_app(issuer: str, client_id: str, secret: str, **options: Any) -> dict[str, Any]:
    """allauth's description of one OpenID Connect client of this site."""
    return {
        "provider_id": options.get("provider_id", OIDC_PROVIDER_ID),
        "name": options.get("name", "your organisation's account"),
        "client_id": client_id,
        "secret": secret,
        "settings": {
            "server_url": issuer,
            "token_auth_method": options.get("token_auth_method", "client_secret_basic"),
            "oauth_pkce_enabled": True,
            "fetch_userinfo": True,
            "scope": options.get("scope", ["openid", "email", "profile"]),
        },
    }


SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, Any]] = {"ccdg_oidc": {"APPS": []}}
if OIDC_ISSUER:
    SOCIALACCOUNT_PROVIDERS["ccdg_oidc"]["APPS"].append(
        oidc_app(
            OIDC_ISSUER,
            env.str("CCDG_OIDC_CLIENT_ID"),
            env.str("CCDG_OIDC_CLIENT_SECRET", default=""),
            name=env.str("CCDG_OIDC_NAME", default="your organisation's account"),
            token_auth_method=env.str("CCDG_OIDC_TOKEN_AUTH_METHOD", default="client_secret_basic"),
            scope=env.list("CCDG_OIDC_SCOPES", default=["openid", "email", "profile"]),
        )
    )
# SAML 2.0: one identity provider, from its metadata address or from its entity id, sign-in
# address and certificate. Its pages are /accounts/saml/<CCDG_SAML_ORGANIZATION>/...; the
# service provider's metadata (to give the identity provider) is .../metadata/.
SAML_ORGANIZATION = env.str("CCDG_SAML_ORGANIZATION", default="hospital")


def saml_app(idp: dict[str, str], **options: Any) -> dict[str, Any]:
    """allauth's description of the site as a SAML service provider of ``idp`` (keys
    ``entity_id`` and either ``metadata_url`` or ``sso_url`` and ``x509cert``)."""
    settings: dict[str, Any] = {
        "idp": {k: v for k, v in idp.items() if v},
        "advanced": {
            "strict": True,
            # The assertion itself must be signed (a signed message around an unsigned
            # assertion is not enough), and unsolicited responses are refused.
            "want_assertion_signed": True,
            "reject_idp_initiated_sso": True,
            "want_attribute_statement": False,
        },
    }
    if options.get("sp_entity_id"):
        settings["sp"] = {"entity_id": options["sp_entity_id"]}
    if options.get("email_attribute"):
        settings["attribute_mapping"] = {
            "email": [options["email_attribute"]],
            "first_name": ["urn:oid:2.5.4.42",
                           "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"],
            "last_name": ["urn:oid:2.5.4.4",
                          "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"],
        }  # fmt: skip
    return {
        "name": options.get("name", "your organisation's account"),
        "client_id": options.get("organization", SAML_ORGANIZATION),
        "settings": settings,
    }


SOCIALACCOUNT_PROVIDERS["saml"] = {
    "provider_class": "ccdg.accounts.saml.SiteSAMLProvider",
    "APPS": [],
}
if env.str("CCDG_SAML_IDP_ENTITY_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["saml"]["APPS"].append(
        saml_app(
            {
                "entity_id": env.str("CCDG_SAML_IDP_ENTITY_ID"),
                "metadata_url": env.str("CCDG_SAML_IDP_METADATA_URL", default=""),
                "sso_url": env.str("CCDG_SAML_IDP_SSO_URL", default=""),
                "x509cert": env.str("CCDG_SAML_IDP_X509CERT", default=""),
            },
            name=env.str("CCDG_SAML_NAME", default="your organisation's account"),
            sp_entity_id=env.str("CCDG_SAML_SP_ENTITY_ID", default=""),
            email_attribute=env.str("CCDG_SAML_EMAIL_ATTRIBUTE", default=""),
        )
    )
SOCIALACCOUNT_ADAPTER = "sessions_app.signin.sso.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
# Which claim holds the address; whether the provider's addresses are verified without an
# email_verified claim (Entra ID); which domains may sign in (none named: any).
SSO_EMAIL_CLAIM = env.str("CCDG_SSO_EMAIL_CLAIM", default="email")
SSO_EMAILS_VERIFIED = env.bool("CCDG_SSO_EMAILS_VERIFIED", default=False)
SSO_ALLOWED_DOMAINS = [d.lower() for d in env.list("CCDG_SSO_ALLOWED_DOMAINS", default=[])]
# Trust the provider's second factor (its ID token's amr or acr) instead of asking for ours.
SSO_TRUST_MFA = env.bool("CCDG_SSO_TRUST_MFA", default=False)
SSO_MFA_AMR = env.list("CCDG_SSO_MFA_AMR", default=["mfa"])
SSO_MFA_ACR = env.list("CCDG_SSO_MFA_ACR", default=[])

# "Last seen" is kept by ccdg.accounts.middleware.SessionSeenMiddleware every five minutes.
USERSESSIONS_TRACK_ACTIVITY = False

# Local passwords: on by default; a site that signs everyone in through its identity provider
# turns them off, and then only the break-glass staff accounts listed here may use one.
LOCAL_PASSWORDS = env.bool("CCDG_LOCAL_PASSWORDS", default=True)
BREAK_GLASS_USERS = [u.lower() for u in env.list("CCDG_BREAK_GLASS_USERS", default=[])]

# --- Sessions and cookies ------------------------------------------------------------------
SESSION_IDLE_MINUTES = env.int("CCDG_SESSION_IDLE_MINUTES", default=30)
# An idle timeout: ccdg.accounts.middleware.SessionIdleMiddleware pushes the expiry back at
# most once a minute, so a page read in between writes nothing.
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

HTTPS = env.bool("CCDG_HTTPS", default=False)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("CCDG_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("CCDG_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("CCDG_HSTS_PRELOAD", default=True)
    if env.bool("CCDG_BEHIND_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The client address in the audit trail and the sign-in log (docs/operations.md, "Behind a
# reverse proxy"). X-Forwarded-For is written by whoever sends the request: only the entries
# appended by the operator's own proxies are believed, so the app must be told how many there
# are (0: the connection's address only), and may be told the addresses the nearest one
# connects from (a request from anywhere else is taken at its connection's address).
TRUSTED_PROXY_COUNT = env.int("CCDG_TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("CCDG_TRUSTED_PROXY_COUNT must be 0 or more.")
TRUSTED_PROXIES = env.list("CCDG_TRUSTED_PROXIES", default=[])
for _network in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"CCDG_TRUSTED_PROXIES: {_network!r} is not an IP address or network "
            "(e.g. 10.0.0.2 or 10.0.0.0/24)."
        ) from None

# Content Security Policy: our own origin only, no inline script or style, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws its form controls' icons with data: SVGs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("CCDG_TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("CCDG_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploads (roster CSVs) stay in memory up to this size, then spill to a temp file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
ROSTER_IMPORT_MAX_BYTES = env.int("CCDG_ROSTER_IMPORT_MAX_BYTES", default=2 * 1024 * 1024)
ROSTER_IMPORT_MAX_ROWS = env.int("CCDG_ROSTER_IMPORT_MAX_ROWS", default=5000)
SURVEY_IMPORT_MAX_BYTES = env.int("CCDG_SURVEY_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
SURVEY_IMPORT_MAX_ROWS = env.int("CCDG_SURVEY_IMPORT_MAX_ROWS", default=50_000)
# Analysis runs: silence after which a run shows as interrupted; seconds an exact Fisher test
# may take before its p-value is estimated by Monte Carlo (docs/statistics.md).
ANALYSIS_STALE_MINUTES = env.int("CCDG_ANALYSIS_STALE_MINUTES", default=15)
ANALYSIS_FISHER_BUDGET = env.float("CCDG_ANALYSIS_FISHER_BUDGET", default=60.0)
# Exports built in the background: how long their download link works.
EXPORT_LINK_HOURS = env.int("CCDG_EXPORT_LINK_HOURS", default=24)

# --- Email -----------------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str("CCDG_FROM_EMAIL", default="CCDG program <ccdg@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ----------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    _queue = VAR_DIR / "celery" / "queue"
    _processed = VAR_DIR / "celery" / "processed"
    _control = VAR_DIR / "celery" / "control"
    for _folder in (_queue, _processed, _control):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_processed),
        "control_folder": str(_control),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CCDG_CELERY_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged after it ran, so a worker killed mid-task does not lose it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The outbox (docs/reminders.md): retries of a refused or unreachable SMTP server, with
# exponential backoff from this many seconds; a claimed row's lease (longer than the SMTP
# timeout: when it expires without an outcome the scan puts the row back to pending); the
# scan's interval; an enqueued row still pending after the lost limit is enqueued again (its
# task was lost with the broker): about one scan interval, so recovery takes minutes.
OUTBOX_MAX_ATTEMPTS = env.int("CCDG_OUTBOX_MAX_ATTEMPTS", default=5)
OUTBOX_RETRY_BACKOFF = env.int("CCDG_OUTBOX_RETRY_BACKOFF", default=60)
OUTBOX_LEASE_SECONDS = env.int("CCDG_OUTBOX_LEASE_SECONDS", default=120)
OUTBOX_SCAN_SECONDS = env.int("CCDG_OUTBOX_SCAN_SECONDS", default=60)
OUTBOX_LOST_SECONDS = env.int("CCDG_OUTBOX_LOST_SECONDS", default=90)
# Rows one send task claims, renders and sends over one SMTP connection (docs/reminders.md).
OUTBOX_BATCH_SIZE = env.int("CCDG_OUTBOX_BATCH_SIZE", default=50)
# Each SMTP socket operation gives up after this long (Django's default is to wait forever),
# well inside the lease, so a worker does not still talk to the server after its lease expired.
EMAIL_TIMEOUT = vars().get("EMAIL_TIMEOUT") or env.int("CCDG_EMAIL_TIMEOUT", default=30)

CELERY_BEAT_SCHEDULE = {
    "housekeeping": {
        "task": "ccdg.housekeeping",
        "schedule": timedelta(hours=1),
    },
    "casenote-retention": {
        "task": "sessions_app.casenote_retention",
        "schedule": timedelta(minutes=15),
    },
    "reminders-scan": {
        "task": "ccdg.reminders_scan",
        "schedule": timedelta(seconds=OUTBOX_SCAN_SECONDS),
    },
    # Anonymous waves: who has answered is recorded in batches of at least k (docs/surveys.md).
    "survey-respondents": {
        "task": "surveys.respondents_record",
        "schedule": timedelta(minutes=10),
    },
    # Verifies the audit chain and logs its head ("audit chain head id=... hash=...") for
    # keeping outside the database (docs/operations.md).
    "audit-checkpoint": {
        "task": "ccdg.audit_checkpoint",
        "schedule": timedelta(days=1),
    },
}

# --- Forms -----------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Logging ---------------------------------------------------------------------------------
# Django writes request paths (4xx/5xx, CSRF refusals, runserver's request lines); a survey,
# invitation, unsubscribe, calendar or password-reset token in a path is masked first
# (ccdg/log_filters.py). django.server keeps Django's own handler and format.
_MASKED = {"filters": ["mask_tokens"]}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_tokens": {"()": "ccdg.log_filters.MaskTokens"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", **_MASKED},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env.str("CCDG_LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.request": _MASKED,
        "django.security.csrf": _MASKED,
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            **_MASKED,
        },
    },
}
