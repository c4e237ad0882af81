"""Django settings for npldesk: the casework database and, later, the web app.

The database comes from the home (``NPLDESK_HOME``): SQLite in the home folder by default,
PostgreSQL (or any URL Django supports) through ``NPLDESK_DATABASE_URL`` or ``npldesk.toml``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import dj_database_url

from npldesk.core.errors import UsageError
from npldesk.core.system import owner_only_files
from npldesk.home import SECRET_KEY_NAME, load_home

# The web app, the worker and manage.py start here: what they create is their owner's only.
owner_only_files()

HOME = load_home(os.environ.get("NPLDESK_HOME"), must_exist=False)
BASE_DIR = Path(__file__).resolve().parent

DEBUG = os.environ.get("NPLDESK_DEBUG", "") == "1"
TESTING = "pytest" in sys.modules
# Known to all, so refused for a real home (below).
DEVELOPMENT_SECRET_KEY = "npldesk-development-key-not-for-production"  # noqa: S105


def _secret_key() -> str:
    """``NPLDESK_SECRET_KEY``, else the home's ``secret.key`` (written by ``npldesk init``).

    The development key is refused for a real home (initialised, not DEBUG, not a test run):
    anyone who knows it could forge sessions and sign-in links.
    """
    key = os.environ.get("NPLDESK_SECRET_KEY", "").strip() or HOME.secret_key()
    if key and key != DEVELOPMENT_SECRET_KEY:
        return key
    if HOME.initialised and not DEBUG and not TESTING:
        raise UsageError(
            f"the home {HOME.path} has no secret key ({HOME.path / SECRET_KEY_NAME}) and "
            "NPLDESK_SECRET_KEY is not set: run `npldesk init` on the home to write one "
            "(or set NPLDESK_SECRET_KEY); npldesk does not run a real home on the development key"
        )
    return DEVELOPMENT_SECRET_KEY


SECRET_KEY = _secret_key()
# The names the server answers to: NPLDESK_ALLOWED_HOSTS, else ``[web] hosts`` of the home.
_HOSTS = os.environ.get("NPLDESK_ALLOWED_HOSTS") or ",".join(
    HOME.config.get("web", {}).get("hosts", ["localhost", "127.0.0.1"])
)
ALLOWED_HOSTS = [h.strip() for h in _HOSTS.split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    # django-ninja's static Swagger UI: the API's docs page without a CDN.
    "ninja",
    "npldesk.casework",
    "npldesk.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The app serves its own static files (no CDN, no reverse proxy needed in a branch).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "npldesk.web.middleware.SessionRenewalMiddleware",
    # Every page needs a signed-in person, but the few marked with ``login_not_required``.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "npldesk.web.middleware.PersonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "npldesk.urls"
# An upload over the home's limit is refused before it is read (the tape page, the API).
FILE_UPLOAD_HANDLERS = [
    "npldesk.web.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "npldesk.web.roles.navigation",
                "npldesk.web.inbox.views.unread",
            ],
        },
    },
]
# Forms render through Jinja2's copies of Django's form templates: the same markup, and the
# case page's forms (most of its time on the Django engine) in a fraction of the time.
FORM_RENDERER = "django.forms.renderers.Jinja2"


def _database() -> dict[str, Any]:
    config = dict(dj_database_url.parse(HOME.database_url, conn_max_age=0))
    if config.get("ENGINE") == "django.db.backends.sqlite3":
        # Casework is written by one server and short CLI commands; wait for a lock, not fail.
        configured: Any = config.get("OPTIONS") or {}
        options: dict[str, Any] = dict(configured)
        options["timeout"] = 20
        # The web workers and the job worker write at once: a transaction takes the write lock
        # when it begins, so it waits for the other (up to the timeout) instead of failing when
        # a read inside it turns into a write ("database is locked" at once, as SQLite does).
        options["transaction_mode"] = "IMMEDIATE"
        config["OPTIONS"] = options
    elif config.get("ENGINE") == "django.db.backends.postgresql":
        # A server's threads keep their connection between requests (a new one is a PostgreSQL
        # backend process and Django's session setup, every request); checked before reuse, so
        # a restarted database costs one failed check, not a failed request.
        config["CONN_MAX_AGE"] = 300
        config["CONN_HEALTH_CHECKS"] = True
    # Several test runs against one PostgreSQL server each need their own test database.
    test_name = os.environ.get("NPLDESK_TEST_DATABASE_NAME")
    if test_name:
        config["TEST"] = {"NAME": test_name}
    return config


DATABASES = {"default": _database()}

# `npldesk demo` creates about a hundred people in one run and sets this switch for its own
# process only: their first hashes use fewer PBKDF2 rounds (npldesk/demo/hashers.py), which
# Django's default hasher accepts and re-hashes at its full count at each first sign-in.
if os.environ.get("NPLDESK_DEMO_FAST_HASHING") == "1":
    from django.conf import global_settings

    PASSWORD_HASHERS = [
        "npldesk.demo.hashers.DemoPasswordHasher",
        *global_settings.PASSWORD_HASHERS,
    ]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = HOME.language if HOME.initialised else "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# npldesk's own words (scripts/messages.py keeps the catalogues in step with the code).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Figures are computed once per month-end and shared by the workers (npldesk/web/figures/source.py):
# a file cache under the home; a test run keeps its cache in memory.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        if TESTING
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(HOME.path / "cache"),
        }
    )
}

STATIC_URL = "static/"
STATIC_ROOT = HOME.path / "static"
# Static files are served from the apps' own folders by WhiteNoise, without a collect step.
WHITENOISE_USE_FINDERS = True

# -- sign-in, sessions and headers (the web app) ---------------------------------------------

AUTHENTICATION_BACKENDS = [
    # Throttling and lockout of failed sign-ins first, then the ordinary password check.
    "axes.backends.AxesStandaloneBackend",
    # Django's password check; a signed-in login is read with its person (one query).
    "npldesk.web.accounts.backends.StaffBackend",
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
# Five failed sign-ins for one username from one address lock them out for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/accounts/locked_out.html"
AXES_VERBOSE = False
# A session ends after 30 minutes without a request: a signed-in request renews it when it was
# last renewed a minute or more before (npldesk.web.middleware.SessionRenewalMiddleware), not
# every request (a session write and a commit per page).
SESSION_COOKIE_AGE = 30 * 60
SESSION_RENEWAL_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Scripts come from the app only; ECharts sets element styles from script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}
_TLS = bool(HOME.config.get("web", {}).get("tls", False))
SESSION_COOKIE_SECURE = _TLS
CSRF_COOKIE_SECURE = _TLS
SECURE_SSL_REDIRECT = _TLS
SECURE_HSTS_SECONDS = 31_536_000 if _TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _TLS
SECURE_HSTS_PRELOAD = _TLS

# The API's limits (docs/api.md), from ``[api]`` of the home's npldesk.toml: calls a minute per
# token (429 with Retry-After beyond), and the largest request body read (413 beyond; uploads of
# files through the web pages are bounded separately).
_API = HOME.config.get("api", {})
NPLDESK_API_RATE_PER_MINUTE = int(_API.get("rate_per_minute", 600))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(_API.get("max_body_bytes", 2_621_440))
