"""Production: refuses to start without a real SECRET_KEY and allowed hosts.

Documented variables (README, "Deploying"): SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL,
CSRF_TRUSTED_ORIGINS, optionally SECURE_SSL_REDIRECT (default on), SECURE_HSTS_SECONDS.
With them set, ``python manage.py check --deploy`` reports no warning
(tests/test_settings.py and tests/security/test_web_security.py).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, env_int, env_list

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names Tongxin is served at.")

# Behind nginx, which terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = True
# No script reads the CSRF cookie: every form, htmx's posts included, sends the token of the
# {% csrf_token %} field in the form.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# base.py's Content Security Policy, and every http: address a page names loaded over https.
CONTENT_SECURITY_POLICY = {
    **CONTENT_SECURITY_POLICY,  # noqa: F405
    "DIRECTIVES": {
        **CONTENT_SECURITY_POLICY["DIRECTIVES"],  # noqa: F405
        "upgrade-insecure-requests": True,
    },
}
# Uploaded files (photos, scanned agreements, imports waiting for confirmation) live under
# MEDIA_ROOT and are sent only by views that check who asks; nothing serves MEDIA_URL, and
# the web server must not either.

# The cache is shared by every server (README, "Two servers behind nginx"): a table in the
# database, made by ``python manage.py createcachetable``. What is cached (the compliance
# figures, outreach.compliance_cache and reports.figures_outreach) is keyed by the version
# of the data, which is in the database too, so the cache only saves work and is never
# stale; sharing it means a figure computed on one server is read on the others.
# TONGXIN_CACHE=local keeps a memory cache in each process instead (one server, or no table).
TONGXIN_CACHE = os.environ.get("TONGXIN_CACHE", "").strip().lower() or "database"
if TONGXIN_CACHE == "database":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tongxin_cache",
            # Keys carry the user's scope, the span and the day: room for a district's users.
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
elif TONGXIN_CACHE == "local":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tongxin",
        }
    }
else:
    raise ImproperlyConfigured(
        f"TONGXIN_CACHE must be database (shared by every server) or local, not {TONGXIN_CACHE!r}."
    )
