"""The card list: scoped, filtered by area, scheme, status as shown today (an active card past
its date is "expired"), issue dates and number or holder; constant queries; the logged xlsx
export without ID numbers."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from network.models import ExportLog
from services.cards import with_check_digit
from services.models import CardScheme, CardStatus, Consent, ServiceCard
from services.selectors_cards import usable_on
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

LIST = reverse("services:card-list")
EXPORT = reverse("services:card-export")
CONSENTS = reverse("services:consent-list")


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture
def expired(partners):
    """马晓东's card, past its date but never marked otherwise."""
    today = timezone.localdate()
    ServiceCard.objects.filter(pk=partners.ma_card.pk).update(valid_until=today - days(1))
    partners.ma_card.refresh_from_db()
    return partners.ma_card


def numbers(client, **params):
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {card.number for card in response.context["page"]}


def test_each_sees_the_cards_of_their_areas(world, partners, login):
    p = partners
    pingjiang = {p.ma_card.number, p.bai_lost.number, p.bai_card.number}
    assert numbers(login(world.pingjiang_staff)) == pingjiang
    assert numbers(login(world.pingjianglu_staff)) == {p.ma_card.number}
    assert numbers(login(world.canglang_staff)) == {p.ayt_card.number}
    assert numbers(login(world.bureau)) == pingjiang | {p.ayt_card.number}


def test_the_status_filter_tells_expired_from_active(world, partners, expired, login):
    client = login(world.pingjiang_staff)
    assert numbers(client, status="expired") == {expired.number}
    assert numbers(client, status="active") == {partners.bai_card.number}
    assert numbers(client, status="lost") == {partners.bai_lost.number}
    assert numbers(client, status="revoked") == set()
    rows = {c.number: c.effective for c in client.get(LIST).context["page"]}
    assert rows[expired.number] == "expired"


def test_filters_by_area_scheme_dates_and_search(world, partners, login):
    p = partners
    client = login(world.pingjiang_staff)
    assert numbers(client, area=world.pingjianglu.pk) == {p.ma_card.number}
    assert numbers(client, area=world.north_zone.pk) == {p.ma_card.number}
    assert numbers(client, scheme=CardScheme.SANYOU) == set()
    recent = (timezone.localdate() - days(30)).isoformat()
    assert numbers(client, issued_from=recent) == {p.bai_card.number}
    assert numbers(client, issued_to=recent) == {p.ma_card.number, p.bai_lost.number}
    assert numbers(client, q="白兰") == {p.bai_lost.number, p.bai_card.number}
    assert numbers(client, q="mxd") == {p.ma_card.number}
    assert numbers(client, q=p.ma_card.display_number) == {p.ma_card.number}
    full_width = p.bai_card.number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert numbers(client, q=full_width) == {p.bai_card.number}


@pytest.mark.parametrize(
    "params",
    [
        {"status": "stolen"},
        {"area": "99999999999999999999"},
        {"area": "x"},
        {"issued_from": "2026-02-30"},
        {"q": "\x00"},
        {"scheme": "\x00"},
        {"page": "999"},
    ],
)
def test_a_filter_that_does_not_fit_is_dropped(world, partners, login, params):
    assert len(numbers(login(world.pingjiang_staff), **params)) == 3


def test_an_area_out_of_scope_is_dropped_not_shown(world, partners, login):
    client = login(world.pingjiang_staff)
    assert numbers(client, area=world.daoqian.pk) == numbers(client)


def make_cards(household, community_code: str, count: int, offset: int):
    """``count`` more residents of ``household``, each with a consent and an active card."""
    today = timezone.localdate()
    for i in range(count):
        person = PersonFactory(household=household, name=f"马{offset + i}号")
        Consent.objects.create(person=person, given_on=today - days(10))
        ServiceCard.objects.create(
            number=with_check_digit(f"{community_code}{900000 + offset + i:06d}"),
            holder=person,
            issuing_area=household.community.subdistrict(),
            issued_on=today - days(5),
            valid_until=today + days(300),
        )


@pytest.mark.parametrize(
    ("url", "params"),
    [(LIST, {}), (LIST, {"status": "active", "q": "马"}), (CONSENTS, {"state": "current"})],
)
def test_the_lists_take_the_same_number_of_queries_whatever_their_size(
    world, partners, register, login, url, params
):
    client = login(world.pingjiang_staff)
    client.get(url, params)  # warm up (session, scope)
    make_cards(register.ma_household, "001", 2, 0)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, params).status_code == 200
    make_cards(register.ma_household, "001", 25, 100)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) >= 25
    assert len(large) == len(small)


def test_the_export_is_logged_and_holds_no_id_numbers(world, partners, register, login):
    response = login(world.pingjiang_staff).get(EXPORT, {"area": world.ganjiang.pk})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 3  # header, 白兰's lost card and its replacement
    cells = [str(cell) for row in rows for cell in row if cell is not None]
    assert partners.bai_card.display_number in cells
    assert "白兰" in cells
    assert not any(register.bai_lan.id_number in cell for cell in cells)
    log = ExportLog.objects.get()
    assert log.exporter == "services.cards"
    assert log.row_count == 2
    assert log.area == world.ganjiang
    assert log.user == world.pingjiang_staff


def test_the_export_needs_the_export_permission(world, partners, login):
    assert login(world.pingjianglu_liaison).get(EXPORT).status_code == 403
    assert not ExportLog.objects.exists()


def test_the_list_offers_only_active_cards_for_the_print_sheet(world, partners, login):
    page = login(world.pingjiang_staff).get(LIST).content.decode()
    assert f'name="card" value="{partners.bai_card.pk}"' in page
    assert f'name="card" value="{partners.bai_lost.pk}"' not in page
    assert partners.bai_lost.status == CardStatus.LOST


def test_the_status_filter_and_shown_status_follow_the_cards_own_rules(
    world, partners, expired, login
):
    """One definition of "expired": the filter, the badge, ServiceCard.effective_status and
    the till's refusal (services.uses.refuse_card) agree on every card, also on the last day
    of a card's term."""
    today = timezone.localdate()
    ServiceCard.objects.filter(pk=partners.bai_card.pk).update(valid_until=today)
    client = login(world.bureau)
    cards = {c.number: c for c in ServiceCard.objects.all()}
    shown = {c.number: c.effective for c in client.get(LIST).context["page"]}
    for status in ("active", "expired", "lost", "revoked"):
        filtered = numbers(client, status=status)
        assert filtered == {n for n, c in cards.items() if c.effective_status(today) == status}
        assert all(shown[n] == status for n in filtered)
    for number, card in cards.items():
        assert usable_on(card, today) is (shown[number] == "active"), number
    assert shown[expired.number] == "expired" and shown[partners.bai_card.number] == "active"


def test_the_search_looks_up_names_and_addresses_never_id_numbers(world, partners, register, login):
    client = login(world.pingjiang_staff)
    assert numbers(client, q=register.ma_household.address) == {partners.ma_card.number}
    assert numbers(client, q="ma xiao") == {partners.ma_card.number}
    assert numbers(client, q=register.bai_lan.id_number) == set()
    assert numbers(client, q=register.bai_lan.id_number[-4:]) == set()
