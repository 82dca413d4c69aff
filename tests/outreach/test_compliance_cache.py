"""The compliance report's figures come from the cache when nothing they read has changed, and
never when something has: a new visit, an archived one, a member's ethnic group, a festival's
groups, a bulk import of the register — each shows on the very next request. Cached and
computed figures are the same, each user's scope has its own, and the page costs the same
number of queries whatever the size of the books, cached or not.

Each test runs inside one transaction; ``commit()`` does to the transaction's ``on_commit``
callbacks what a COMMIT does, so that the writes before it count as committed ones (figures
computed from writes not yet committed are never cached)."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from network.models import Area, LiaisonGroup
from outreach import compliance, compliance_cache
from outreach.models import ComplianceVersion, Festival, Meeting, Obligation, Visit
from residents.models import Ethnicity, Household, Person
from tests.factories import PersonFactory, _ethnicity
from tests.outreach.test_compliance_counts import books, visit  # noqa: F401
from tests.outreach.test_compliance_pages import grow

D = datetime.date
REPORT = reverse("outreach:compliance")
YEAR = {"year": "2025"}
LANTERN = "节庆走访：元宵节"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def commit():
    """What COMMIT does to the callbacks waiting for it; the test's transaction stays open."""
    callbacks, connection.run_on_commit = connection.run_on_commit, []
    for _savepoints, callback, _robust in callbacks:
        callback()


def get(client, params=YEAR):
    """(queries, figures) of one request of the report: figures by (obligation name, unit
    name) → (due, done, overdue, current done, current due)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(REPORT, params)
    assert response.status_code == 200
    return len(queries), table(response.context["report"].figures)


def table(figures):
    return {
        (f.obligation.name, f.unit.name): (
            f.due,
            f.done,
            f.overdue,
            f.current_done if f.current else None,
            f.current_due if f.current else None,
        )
        for f in figures
    }


def computed(user, **span):
    """The figures computed afresh, without the cache."""
    today = timezone.localdate()
    context = compliance.build_context(
        user, span=compliance.report_span(today, **span), today=today
    )
    assert context.version is None
    return table(compliance.report_figures(context))


def test_the_next_request_is_served_from_the_cache_with_the_same_figures(world, books, login):  # noqa: F811
    commit()
    client = login(world.pingjiang_staff)
    first_queries, first = get(client)
    again_queries, again = get(client)
    assert again_queries < first_queries  # no figure query the second time
    assert again == first == computed(world.pingjiang_staff, year=2025)
    # the whole of 2025 has ended: counted by hand in test_compliance_counts' books
    assert again[(LANTERN, "干将社区")] == (1, 0, 1, None, None)
    assert again[("困难户走访", "平江路社区")] == (8, 3, 5, None, None)
    assert again[("联络员会议", "平江街道")] == (4, 2, 2, None, None)


def test_each_change_shows_on_the_very_next_request(world, books, register, login):  # noqa: F811
    commit()
    client = login(world.pingjiang_staff)
    lantern = Festival.objects.get(name="元宵节")
    assert get(client)[1][(LANTERN, "干将社区")] == (1, 0, 1, None, None)
    cached_queries, _ = get(client)

    # a festival visit to 白兰's household, within the window
    new = visit(register.bai_household, D(2025, 2, 14), "festival", lantern)
    commit()
    assert get(client)[1][(LANTERN, "干将社区")] == (1, 1, 0, None, None)
    assert get(client)[0] == cached_queries  # cached again at the new version

    # archived: it no longer counts
    new.archived_at = timezone.now()
    new.save()
    commit()
    assert get(client)[1][(LANTERN, "干将社区")] == (1, 0, 1, None, None)

    # 白兰 recorded as Han: her household has no minority member any more
    register.bai_lan.ethnicity = _ethnicity("01")
    register.bai_lan.save()
    commit()
    assert get(client)[1][(LANTERN, "干将社区")] == (0, 0, 0, None, None)

    # 元宵节 kept by the Uyghur only (a change of the festival's groups, m2m)
    assert get(client)[1][(LANTERN, "平江路社区")] == (1, 1, 0, None, None)
    lantern.ethnicities.add(_ethnicity("05"))  # Uyghur: 马's household is Hui
    commit()
    assert get(client)[1][(LANTERN, "平江路社区")] == (0, 0, 0, None, None)

    # a new obligation
    Obligation.objects.create(
        name="节庆走访：开斋节",
        kind="festival_visits",
        festival=Festival.objects.get(name="开斋节"),
        unit="community",
        period="year",
    )
    commit()
    assert ("节庆走访：开斋节", "平江路社区") in get(client)[1]


def test_a_bulk_import_of_the_register_shows_without_signals(world, books, login):  # noqa: F811
    """The ledger import writes persons with bulk_create (no post_save), with history rows."""
    commit()
    client = login(world.pingjiang_staff)
    assert get(client)[1][(LANTERN, "平江路社区")] == (1, 1, 0, None, None)
    zhou = books.zhou  # 周's household: Han only, so not due for festivals
    wife = PersonFactory.build(household=zhou, name="马桂兰", sex="F", ethnicity=_ethnicity("03"))
    wife.community_id = zhou.community_id
    wife.fill_search_fields()
    bulk_create_with_history([wife], Person)
    assert not compliance_cache.uncommitted_bump()  # no signal: the version row is as it was
    assert get(client)[1][(LANTERN, "平江路社区")] == (2, 1, 1, None, None)


def test_uncommitted_writes_are_computed_not_cached(world, books, register, login):  # noqa: F811
    commit()
    client = login(world.pingjiang_staff)
    lantern = Festival.objects.get(name="元宵节")
    assert get(client)[1][(LANTERN, "干将社区")] == (1, 0, 1, None, None)
    cached_queries, _ = get(client)
    try:
        with transaction.atomic():
            visit(register.bai_household, D(2025, 2, 14), "festival", lantern)
            assert compliance_cache.uncommitted_bump()
            queries, figures = get(client)
            assert figures[(LANTERN, "干将社区")] == (1, 1, 0, None, None)
            assert queries > cached_queries
            assert get(client)[0] == queries  # and again: nothing was cached
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert not compliance_cache.uncommitted_bump()
    queries, figures = get(client)
    assert figures[(LANTERN, "干将社区")] == (1, 0, 1, None, None)
    assert queries == cached_queries  # the version is the committed one again: cached


def test_each_scope_and_area_has_its_own_figures(world, books, login):  # noqa: F811
    commit()
    pingjiang = get(login(world.pingjiang_staff))[1]
    assert ("联络员会议", "平江街道") in pingjiang
    canglang = get(login(world.canglang_staff))[1]
    assert {unit for _, unit in canglang} == {"沧浪街道", "道前社区", world.daoqian_group.name}
    community = get(login(world.pingjianglu_staff))[1]
    assert "平江街道" not in {unit for _, unit in community}
    ganjiang = get(login(world.pingjiang_staff), {**YEAR, "area": world.ganjiang.pk})[1]
    assert {unit for _, unit in ganjiang} == {"干将社区", world.ganjiang_group.name}
    assert get(login(world.pingjiang_staff))[1] == pingjiang


def test_queries_do_not_grow_with_the_books_cached_or_not(world, books, register, login):  # noqa: F811
    client = login(world.pingjiang_staff)

    def counts():
        commit()
        cache.clear()
        cold, _ = get(client)
        warm, _ = get(client)
        return cold, warm

    counts()  # the permission and content-type caches
    small = counts()
    grow(world, 25)
    large = counts()
    assert small == large
    assert large[1] < large[0]


def test_every_model_the_figures_read_bumps_the_version(world, register):
    def version():
        return ComplianceVersion.objects.get(pk=compliance_cache.VERSION_PK).n

    lantern = Festival.objects.get(name="元宵节")
    changes = [
        lambda: visit(register.ma_household, D(2025, 2, 10), "care"),
        lambda: Meeting.objects.create(kind="liaison", held_on=D(2025, 3, 1), area=world.pingjiang),
        lambda: Household.objects.get(pk=register.bai_household.pk).save(),
        lambda: Person.objects.get(pk=register.bai_lan.pk).save(),
        lambda: Obligation.objects.filter(name=LANTERN).first().save(),
        lambda: lantern.save(),
        lambda: lantern.ethnicities.add(_ethnicity("03")),
        lambda: lantern.ethnicities.clear(),
        lambda: Ethnicity.objects.get(code="03").save(),
        lambda: Area.objects.get(pk=world.ganjiang.pk).save(),
        lambda: LiaisonGroup.objects.get(pk=world.ganjiang_group.pk).save(),
        lambda: Visit.objects.filter(household=register.ma_household).first().delete(),
    ]
    for change in changes:
        before = version()
        change()
        assert version() > before, change


def test_cached_numbers_missing_a_unit_are_computed_afresh(world, books, login):  # noqa: F811
    # a unit added by a change that committed while the cached numbers' request was under
    # way (both requests read the version before it): never a 500, the figures computed
    commit()
    today = timezone.localdate()
    span = compliance.report_span(today, year=2025)
    context = compliance.build_context(world.pingjiang_staff, span=span, today=today, cached=True)
    assert context.version is not None
    cache.set(compliance_cache.report_key(context), {}, compliance_cache.TIMEOUT)
    _, figures = get(login(world.pingjiang_staff))
    assert figures == computed(world.pingjiang_staff, year=2025)
    assert figures[(LANTERN, "干将社区")][0] > 0
