"""Tests: SQLite in memory by default, PostgreSQL when DATABASE_URL is set."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "zh-hans"
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Tests of the demo's pages sign in as the seeded accounts, as `make run` does (Makefile);
# tests/network/test_signin_password_rules.py switches the forced change back on.
TONGXIN_DEMO_FORCE_PASSWORD_CHANGE = False
# django-axes stays on (and AxesStandaloneBackend first): the test client's login() gives
# authenticate() no request, so tests sign in with force_login() or through the login page.
