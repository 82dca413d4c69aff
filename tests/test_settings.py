"""Settings come from the environment; production refuses to start without a real key."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY"}
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "tongxin.gusu.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://tongxin.gusu.gov.cn",
}


# ``check --deploy`` without warnings: tests/security/test_web_security.py.


def test_production_refuses_to_start_without_secret_key():
    env = dict(PRODUCTION, SECRET_KEY="")
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_short_or_insecure_key():
    result = manage("check", **dict(PRODUCTION, SECRET_KEY="django-insecure-abc"))
    assert result.returncode != 0


def test_production_refuses_without_allowed_hosts():
    result = manage("check", **dict(PRODUCTION, ALLOWED_HOSTS=""))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_development_runs_with_nothing_set_on_sqlite():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.DEBUG)",
    )
    assert result.returncode == 0, result.stderr
    assert "sqlite3 True" in result.stdout


def test_database_url_selects_postgresql():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])",
        DATABASE_URL="postgres://tongxin:secret@db.example:5432/tongxin",
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout


def test_production_collects_the_static_files(tmp_path):
    """The manifest storage rewrites every URL a CSS or JS file names: a reference to a
    file that is not there (a vendored library's source map) fails the whole deployment."""
    result = manage("collectstatic", "--noinput", STATIC_ROOT=str(tmp_path), **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/bootstrap/bootstrap.min.*.css.gz"))
