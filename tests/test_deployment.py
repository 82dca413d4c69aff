"""Several servers work as one (README, "Two servers behind nginx"): production keeps its cache
in the database, where every server reads what another computed; TONGXIN_CACHE=local keeps a
memory cache per process instead. The servers themselves, nginx and a client signing in through
it are checked by ``python -m bench cluster`` (bench/cluster_bench.py), not here."""

import importlib
import sys
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from bench import cluster_bench
from outreach import compliance
from tests.outreach.test_compliance_cache import commit

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = "config.settings.production"
REPORT = reverse("outreach:compliance")
YEAR = {"year": "2025"}


@pytest.fixture
def production(monkeypatch):
    """``production(**env)``: the production settings module imported afresh with ``env``."""

    def load(**env):
        monkeypatch.setenv("SECRET_KEY", "k7Qm2-vXr9Lp4tWz8Yc1Nd6Hs3Jf0Ga5Bq2Ue7Ri4Oy9Tk1Mw6Pz3")
        monkeypatch.setenv("ALLOWED_HOSTS", "tongxin.gusu.gov.cn")
        monkeypatch.delenv("TONGXIN_CACHE", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        sys.modules.pop(PRODUCTION, None)
        try:
            return importlib.import_module(PRODUCTION)
        finally:
            sys.modules.pop(PRODUCTION, None)

    return load


def test_production_shares_its_cache_in_the_database_by_default(production):
    cache = production().CACHES["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert cache["LOCATION"] == "tongxin_cache"  # the table createcachetable makes


def test_production_keeps_a_memory_cache_per_process_when_asked(production):
    assert production(TONGXIN_CACHE="local").CACHES["default"]["BACKEND"] == (
        "django.core.cache.backends.locmem.LocMemCache"
    )
    assert production(TONGXIN_CACHE=" Database ").CACHES["default"]["LOCATION"] == ("tongxin_cache")


def test_production_refuses_a_cache_it_does_not_know(production):
    with pytest.raises(ImproperlyConfigured, match="TONGXIN_CACHE"):
        production(TONGXIN_CACHE="redis")


def test_development_and_tests_keep_the_memory_cache(settings):
    development = importlib.import_module("config.settings.development")
    assert not hasattr(development, "CACHES")  # Django's default: memory, per process
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def _figures(response):
    assert response.status_code == 200
    return {
        (figure.obligation.name, figure.unit.name): (figure.due, figure.done, figure.overdue)
        for figure in response.context["report"].figures
    }


def test_figures_computed_on_one_server_are_read_from_the_database_on_another(
    world, login, production, monkeypatch
):
    shared = production().CACHES
    with override_settings(CACHES=shared):
        call_command("createcachetable", verbosity=0)
        commit()  # the world's records count as committed: figures may be cached
        on_a = _figures(login(world.pingjiang_staff).get(REPORT, YEAR))
        assert on_a  # 平江街道's obligations and units, computed
        with connection.cursor() as cursor:
            cursor.execute("SELECT cache_key FROM tongxin_cache")
            keys = [key for (key,) in cursor.fetchall()]
        assert len(keys) == 1 and "outreach:compliance:" in keys[0]

        # Server B keeps nothing of A's in memory; it cannot compute the figures either.
        def cannot_compute(*args, **kwargs):
            raise AssertionError("the figures were computed again")

        monkeypatch.setattr(compliance, "household_counts", cannot_compute)
        assert _figures(login(world.pingjiang_staff).get(REPORT, YEAR)) == on_a

    # The same with a memory cache of its own (TONGXIN_CACHE=local): server B computes.
    with override_settings(CACHES=production(TONGXIN_CACHE="local").CACHES):
        caches["default"].clear()  # a process of its own: nothing in memory yet
        with pytest.raises(AssertionError, match="computed again"):
            login(world.pingjiang_staff).get(REPORT, YEAR)


def test_the_cluster_check_fills_in_forms_as_a_browser_sends_them():
    html = """
    <form method="post" action="/logout/"><input type="hidden" name="csrfmiddlewaretoken"
      value="nav"></form>
    <form method="post" enctype="multipart/form-data">
      <input type="hidden" name="csrfmiddlewaretoken" value="t0k3n">
      <select name="household"><option value="" selected>---------</option>
        <option value="17">平江路112号 马晓东</option></select>
      <input type="date" name="visited_on" value="2026-03-02">
      <select name="visitors" multiple><option value="6" selected>张敏</option>
        <option value="8" selected>李娜</option><option value="9">王伟</option></select>
      <input type="checkbox" name="is_dibao" value="on">
      <input type="checkbox" name="is_hardship" checked>
      <input type="text" name="old" value="x" disabled>
      <textarea name="learned">
马大姐说孙子下月入学</textarea>
      <input type="file" name="photos" multiple>
      <button type="submit" name="save">保存</button>
    </form>"""
    logout, visit = cluster_bench.forms_of(html)
    assert logout.action == "/logout/" and visit.action == ""
    assert visit.data(household="17") == [
        ("csrfmiddlewaretoken", "t0k3n"),
        ("visited_on", "2026-03-02"),
        ("visitors", "6"),
        ("visitors", "8"),
        ("is_hardship", "on"),
        ("learned", "马大姐说孙子下月入学"),
        ("household", "17"),
    ]
    assert visit.options["household"] == ["", "17"]
    assert visit.files == ["photos"]


def test_the_cluster_check_never_drops_a_database_not_made_for_it():
    with pytest.raises(SystemExit, match="cluster"):
        cluster_bench.fresh_database("postgres://tongxin:tongxin@127.0.0.1:5432/tongxin")


def test_the_nginx_template_has_every_placeholder_the_check_fills_in():
    text = cluster_bench.TEMPLATE.read_text(encoding="utf-8")
    for placeholder in ("@PREFIX@", "@PORT_A@", "@PORT_B@", "@PORT@"):
        assert placeholder in text
    assert "X-Forwarded-Proto $scheme" in text  # the production settings need it
    assert "location /media/ { return 404; }" in text
