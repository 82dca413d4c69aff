"""Service cards on the household timeline: cards issued, lost, reissued and revoked, each use
of a member's card (merchant, service, benefit) and the household's surveys, what the user
may see, newest first, in a constant number of queries; and the buttons to record consent,
issue a card or record a survey where the user may.

The lead wires ``timeline_services`` in ``services/apps.py``; here the source and the
actions are put in place for one test at a time (``monkeypatch``), so no other test sees
them."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from residents import timeline
from residents.archiving import set_archived
from services import timeline_services
from services.cards import record_consent, revoke_card
from services.uses import record_use
from tests.factories import PersonFactory
from tests.services.test_survey_pages import make_survey


def days(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def use(card, item, merchant, n, value, user):
    made, _created = record_use(
        card=card,
        merchant=merchant,
        item=item,
        value_before=Decimal(value),
        user=user,
        used_on=days(n),
    )
    return made


def warm(user):
    user.has_perm("services.view_servicecard")  # the permission cache, once per request


def entries(household, user, **kwargs):
    warm(user)
    return timeline_services.entries(household, user, **kwargs)


@pytest.fixture
def wired(monkeypatch):
    """The household page with this module's source and buttons, for one test."""
    monkeypatch.setattr(timeline, "_SOURCES", [*timeline._SOURCES, timeline_services.entries])
    monkeypatch.setattr(timeline, "_ACTIONS", [*timeline._ACTIONS, timeline_services.actions])


def test_cards_and_uses_of_the_household_members(world, register, partners):
    staff = world.pingjiang_staff
    p = partners
    noodles = use(p.ma_card, p.noodles, p.lamian, 10, "30", staff)
    found = entries(register.ma_household, staff)
    assert [e.sort_key for e in found] == [
        (days(10), timeline_services.USE_RANK, noodles.pk),
        (days(180), timeline_services.CARD_RANK, p.ma_card.pk),
    ]
    used, issued = found
    assert used.title == "马记清真拉面馆 · 清真牛肉面"
    assert "马晓东" in used.detail and "30.00" in used.detail and "6.00" in used.detail
    assert used.url == reverse("services:use-detail", kwargs={"pk": noodles.pk})
    assert p.ma_card.display_number in issued.title and "马晓东" in issued.title
    assert issued.url == reverse("services:card-detail", kwargs={"pk": p.ma_card.pk})


def test_a_lost_card_its_reissue_and_a_revoked_card(world, register, partners):
    staff = world.pingjiang_staff
    p = partners
    before_loss = use(p.bai_card, p.noodles, p.lamian, 5, "30", staff)
    found = entries(register.bai_household, staff)
    keys = [e.sort_key for e in found]
    assert keys == [
        (days(5), timeline_services.USE_RANK, before_loss.pk),
        (days(20), timeline_services.STATUS_RANK, p.bai_lost.pk),
        (days(20), timeline_services.CARD_RANK, p.bai_card.pk),
        (days(180), timeline_services.CARD_RANK, p.bai_lost.pk),
    ]
    lost = found[1]
    assert p.bai_lost.display_number in lost.title and lost.badges
    assert p.bai_card.display_number in found[2].title and "白兰" in found[2].title
    revoke_card(p.ma_card, on=days(1), reason="本人撤回知情同意", user=staff)
    (revoked, *_rest) = entries(register.ma_household, staff)
    assert revoked.sort_key == (days(1), timeline_services.STATUS_RANK, p.ma_card.pk)
    assert revoked.detail == "本人撤回知情同意"


def test_voided_uses_and_archived_surveys_are_left_out(world, register, partners):
    staff = world.pingjiang_staff
    p = partners
    set_archived(use(p.ma_card, p.noodles, p.lamian, 3, "30", staff), True)
    set_archived(make_survey(register.ma_household, register.ma_xiaodong, on=days(2)), True)
    kinds = {e.sort_key[1] for e in entries(register.ma_household, staff)}
    assert kinds == {timeline_services.CARD_RANK}


def test_surveys_say_what_the_household_wants_and_offers(world, register, partners):
    survey = make_survey(
        register.ma_household,
        register.ma_xiaodong,
        on=days(4),
        wants=["medical", "housekeeping"],
        offers=["tailoring"],
    )
    liaison = world.pingjianglu_liaison
    found = entries(register.ma_household, liaison)
    # a liaison sees the survey, and nothing of cards or their uses
    assert [e.sort_key for e in found] == [(days(4), timeline_services.SURVEY_RANK, survey.pk)]
    assert found[0].url == reverse("services:survey-detail", kwargs={"pk": survey.pk})
    assert "、" in found[0].detail  # two categories wanted, listed


@pytest.mark.parametrize("who", ["canglang_staff", "daoqian_liaison"])
def test_another_street_sees_nothing(world, register, partners, who):
    make_survey(register.ma_household, register.ma_xiaodong, on=days(4), wants=["medical"])
    use(partners.ma_card, partners.noodles, partners.lamian, 10, "30", world.pingjiang_staff)
    assert entries(register.ma_household, getattr(world, who)) == []


def test_newest_first_at_most_limit_and_before_a_day(world, register, partners):
    staff = world.pingjiang_staff
    p = partners
    for n in (1, 3, 3, 9, 20, 40):
        use(p.ma_card, p.noodles, p.lamian, n, "30", staff)
    make_survey(register.ma_household, register.ma_xiaodong, on=days(3), wants=["medical"])
    everything = entries(register.ma_household, staff, limit=100)
    assert [e.sort_key for e in everything] == sorted(
        (e.sort_key for e in everything), reverse=True
    )
    assert len(everything) == 8
    assert entries(register.ma_household, staff, limit=4) == everything[:4]
    older = entries(register.ma_household, staff, before=days(3), limit=100)
    assert older == [e for e in everything if e.on < days(3)]


def test_entries_cost_the_same_for_a_long_history(world, register, partners):
    staff = world.pingjiang_staff
    p = partners
    make_survey(register.ma_household, register.ma_xiaodong, on=days(2), wants=["medical"])

    def cost():
        warm(staff)
        with CaptureQueriesContext(connection) as queries:
            timeline_services.entries(register.ma_household, staff, limit=5)
        return len(queries)

    few = cost()
    assert few <= 5
    for n in range(1, 30):
        use(p.ma_card, p.noodles, p.lamian, n, "30", staff)
        make_survey(register.ma_household, register.ma_xiaodong, on=days(n), wants=["moving"])
    assert cost() == few


# ---------------------------------------------------------------- buttons


def labels(household, user):
    return [label for label, _url in timeline_services.actions(household, user)]


def test_staff_are_offered_consent_card_and_survey(world, register, partners):
    staff = world.pingjiang_staff
    found = dict(timeline_services.actions(register.ma_household, staff))
    urls = list(found.values())
    survey_url = reverse("services:survey-create") + f"?household={register.ma_household.pk}"
    consent_url = reverse("services:consent-person", kwargs={"pk": register.ma_wife.pk})
    assert urls == [survey_url, consent_url]  # 马晓东 holds a card; 哈丽娜 has not consented
    record_consent(register.ma_wife, given_on=days(1), form_reference="TY-9", user=staff)
    urls = [u for _label, u in timeline_services.actions(register.ma_household, staff)]
    issue_url = reverse("services:card-issue") + f"?person={register.ma_wife.pk}"
    assert urls == [survey_url, issue_url]


def test_one_button_per_kind_for_a_large_household(world, register, partners):
    staff = world.pingjiang_staff
    household = register.ma_household
    children = [
        PersonFactory(household=household, name=name, sex="F", relation="child")
        for name in ("马小燕", "马小梅", "马小兰")
    ]
    record_consent(children[2], given_on=days(1), form_reference="TY-7", user=staff)
    warm(staff)
    with CaptureQueriesContext(connection) as queries:
        found = timeline_services.actions(household, staff)
    assert len(queries) == 1
    members_url = reverse("services:card-issue") + f"?household={household.pk}"
    issue_url = reverse("services:card-issue") + f"?person={children[2].pk}"
    # 哈丽娜 and two daughters without consent: one button, counted, to the household's
    # members on the issue page; 马小兰 alone needs a card: her own page
    assert [url for _label, url in found][1:] == [members_url, issue_url]
    assert "3" in found[1][0] and "马小兰" in found[2][0]


def test_the_issue_page_lists_a_households_members_with_their_state(
    world, register, partners, login
):
    client = login(world.pingjiang_staff)
    url = reverse("services:card-issue")
    page = client.get(url, {"household": register.ma_household.pk})
    found = {p.name: (p.has_consent, p.active_cards) for p in page.context["found"]}
    assert found == {"马晓东": (True, 1), "哈丽娜": (False, 0)}
    # another sub-district's household, a huge or garbled id: nobody listed, no error
    for raw in (register.daoqian_household.pk, "99999999999999999999", "１２", "x"):
        page = client.get(url, {"household": raw})
        assert page.status_code == 200
        assert not page.context["found"]


def test_who_is_offered_what(world, register, partners):
    household = register.ma_household
    assert len(labels(household, world.pingjianglu_liaison)) == 1  # a survey only
    assert labels(household, world.bureau) == []  # the bureau records nothing
    assert labels(household, world.canglang_staff) == []
    assert labels(household, world.daoqian_liaison) == []
    assert len(labels(register.bai_household, world.pingjianglu_staff)) == 0
    assert len(labels(household, world.pingjianglu_staff)) == 2
    set_archived(household, True)
    assert labels(household, world.pingjiang_staff) == []


def test_the_household_page_shows_them(world, register, partners, login, wired):
    p = partners
    noodles = use(p.ma_card, p.noodles, p.lamian, 10, "30", world.pingjiang_staff)
    survey = make_survey(register.ma_household, register.ma_xiaodong, on=days(2), wants=["medical"])
    page = login(world.pingjiang_staff).get(
        reverse("residents:household-detail", kwargs={"pk": register.ma_household.pk})
    )
    assert page.status_code == 200
    text = page.content.decode()
    for name, pk in (
        ("use-detail", noodles.pk),
        ("card-detail", p.ma_card.pk),
        ("survey-detail", survey.pk),
    ):
        assert reverse(f"services:{name}", kwargs={"pk": pk}) in text
    assert reverse("services:survey-create") + f"?household={register.ma_household.pk}" in text
