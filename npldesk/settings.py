"""Django settings for npldesk: the casework database and, later, the web app.

The database comes from the home (``NPLDESK_HOME``): SQLite in the home folder by default,
PostgreSQL (or any URL Django supports) through ``NPLDESK_DATABASE_URL`` or ``npldesk.toml``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

from npldesk.home import load_home

HOME = load_home(os.environ.get("NPLDESK_HOME"), must_exist=False)
BASE_DIR = Path(__file__).resolve().parent

# A development key when none is configured; `npldesk serve` in production must set one.
SECRET_KEY = os.environ.get("NPLDESK_SECRET_KEY", "npldesk-development-key-not-for-production")
DEBUG = os.environ.get("NPLDESK_DEBUG", "") == "1"
ALLOWED_HOSTS = [
    h for h in os.environ.get("NPLDESK_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "npldesk.casework",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "npldesk.urls"

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
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    config = dict(dj_database_url.parse(HOME.database_url, conn_max_age=0))
    if config.get("ENGINE") == "django.db.backends.sqlite3":
        # Casework is written by one server and short CLI commands; wait for a lock, not fail.
        configured: Any = config.get("OPTIONS") or {}
        options: dict[str, Any] = dict(configured)
        options["timeout"] = 20
        config["OPTIONS"] = options
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

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HOME.path / "static"
