"""The pairing pages as each role meets them: the list and its filters, one pairing,
ending, archiving and restoring, the export, and the household's timeline."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from network.models import ExportLog
from outreach.models import Pairing, PairingKind, Visit, VisitKind
from tests.factories import HouseholdFactory, PersonFactory

LIST = reverse("outreach:pairing-list")


def pair(household, **fields):
    fields.setdefault("kind", PairingKind.ASSISTANCE)
    fields.setdefault("start_date", datetime.date(2024, 5, 1))
    return Pairing.objects.create(household=household, **fields)


def url(name, pairing):
    return reverse(f"outreach:{name}", args=[pairing.pk])


@pytest.fixture
def pairings(world, register, liaisons):
    """One pairing in each of the three communities."""
    return {
        "ma": pair(
            register.ma_household,
            person=register.ma_xiaodong,
            kind=PairingKind.LIAISON_RESIDENT,
            partner_liaison=liaisons.bai_mei,
        ),
        "bai": pair(register.bai_household, partner_user=world.pingjiang_staff),
        "daoqian": pair(register.daoqian_household, partner_liaison=liaisons.ma_jianhua),
    }


def listed(client, **params):
    return list(client.get(LIST, params).context["page"])


# ---------------------------------------------------------------- scope


def test_a_liaison_sees_the_pairings_of_their_own_community(world, pairings, login):
    client = login(world.pingjianglu_liaison)
    assert listed(client) == [pairings["ma"]]
    page = client.get(url("pairing-detail", pairings["ma"]))
    assert page.status_code == 200
    assert "马晓东" in page.content.decode()
    assert "白梅" in page.content.decode()


def test_a_liaison_cannot_open_a_pairing_of_another_community(world, pairings, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(url("pairing-detail", pairings["daoqian"])).status_code == 404
    assert client.get(url("pairing-detail", pairings["bai"])).status_code == 404
    client = login(world.daoqian_liaison)
    assert client.get(url("pairing-detail", pairings["ma"])).status_code == 404


def test_sub_district_staff_see_their_sub_district_only(world, pairings, login):
    client = login(world.pingjiang_staff)
    assert set(listed(client)) == {pairings["ma"], pairings["bai"]}
    client = login(world.canglang_staff)
    assert listed(client) == [pairings["daoqian"]]
    assert client.get(url("pairing-detail", pairings["ma"])).status_code == 404
    assert set(listed(login(world.bureau))) == set(pairings.values())


def test_no_current_post_is_refused(world, pairings, login):
    for who in (world.no_post, world.ended_post):
        client = login(who)
        assert client.get(LIST).status_code == 403
        assert client.get(url("pairing-detail", pairings["ma"])).status_code == 403


def test_a_liaison_can_neither_archive_nor_end_nor_export(world, pairings, login):
    client = login(world.pingjianglu_liaison)
    pairing = pairings["ma"]
    assert client.post(url("pairing-archive", pairing)).status_code == 403
    assert client.post(url("pairing-end", pairing), {"end_date": "2025-01-01"}).status_code == 403
    assert client.get(reverse("outreach:pairing-export")).status_code == 403
    pairing.refresh_from_db()
    assert pairing.archived_at is None and pairing.end_date is None
    assert not ExportLog.objects.exists()


def test_staff_of_another_sub_district_get_not_found_when_they_act(world, pairings, login):
    client = login(world.canglang_staff)
    pairing = pairings["ma"]
    for name in ("pairing-archive", "pairing-restore", "pairing-end"):
        assert client.post(url(name, pairing), {"end_date": "2025-01-01"}).status_code == 404
    assert client.get(url("pairing-edit", pairing)).status_code == 404
    pairing.refresh_from_db()
    assert pairing.archived_at is None and pairing.end_date is None


def test_actions_are_posts(world, pairings, login):
    client = login(world.pingjiang_staff)
    for name in ("pairing-archive", "pairing-restore", "pairing-end"):
        assert client.get(url(name, pairings["ma"])).status_code == 405


# ---------------------------------------------------------------- filters


def test_filters_by_kind_official_status_and_area(world, register, pairings, login):
    today = timezone.localdate()
    ended = pair(
        register.ma_household,
        partner_user=world.pingjianglu_staff,
        kind=PairingKind.STUDY_GRANT,
        start_date=datetime.date(2020, 9, 1),
        end_date=datetime.date(2023, 7, 1),
    )
    client = login(world.pingjiang_staff)
    assert listed(client, kind=PairingKind.STUDY_GRANT) == [ended]
    assert listed(client, partner=world.pingjiang_staff.pk) == [pairings["bai"]]
    assert listed(client, status="ended") == [ended]
    assert set(listed(client, status="current")) == {pairings["ma"], pairings["bai"]}
    assert set(listed(client, area=world.pingjianglu.pk)) == {pairings["ma"], ended}
    assert listed(
        client, date_from="2024-01-01", date_to=today.isoformat(), area=world.ganjiang.pk
    ) == [pairings["bai"]]
    # Values that do not fit are dropped, never an error page.
    response = client.get(LIST, {"kind": "x", "partner": "987654", "area": "abc", "page": "zz"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 3


def test_behind_schedule_lists_current_pairings_short_of_visits(world, register, pairings, login):
    today = timezone.localdate()
    Pairing.objects.filter(pk=pairings["bai"].pk).update(visits_per_year=0)  # nothing due
    behind = pair(
        register.ma_household,
        partner_user=world.pingjianglu_staff,
        start_date=datetime.date(today.year - 1, 1, 1),
        visits_per_year=365,  # one visit a day: behind from the second day of the year
    )
    Visit.objects.create(
        household=register.ma_household, pairing=behind, visited_on=today, kind=VisitKind.PAIRING
    )
    on_track = pairings["ma"]  # four a year: enough visits made for any day of the year
    for day in (1, 2, 3, 4):
        visited_on = min(datetime.date(today.year, 1, day), today)
        Visit.objects.create(
            household=register.ma_household,
            pairing=on_track,
            visited_on=visited_on,
            kind=VisitKind.PAIRING,
        )
    ended = pair(
        register.ma_household,
        partner_liaison=on_track.partner_liaison,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2020, 12, 31),
        visits_per_year=12,
    )
    client = login(world.pingjiang_staff)
    found = listed(client, behind="on")
    second_day_or_later = today.timetuple().tm_yday >= 2
    assert found == ([behind] if second_day_or_later else [])
    assert ended not in found
    rows = {p.pk: p for p in client.get(LIST).context["page"].object_list}
    assert rows[on_track.pk].behind is False
    assert rows[pairings["bai"].pk].behind is False
    assert rows[behind.pk].behind is second_day_or_later
    assert rows[behind.pk].visits_done == 1


def test_the_list_takes_the_same_queries_for_5_or_40_pairings(world, register, liaisons, login):
    client = login(world.pingjiang_staff)
    volunteer = PersonFactory(household=register.bai_household, is_volunteer=True)

    def add(n):
        for i in range(n):
            household = HouseholdFactory(community=world.pingjianglu)
            person = PersonFactory(household=household)
            partner = [
                {"partner_user": world.pingjianglu_staff},
                {"partner_liaison": liaisons.bai_mei},
                {"partner_person": volunteer},
            ][i % 3]
            pairing = pair(household, person=person, **partner)
            Visit.objects.create(
                household=household,
                pairing=pairing,
                visited_on=timezone.localdate(),
                kind=VisitKind.PAIRING,
            )

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, {"status": "current"})
        assert response.status_code == 200
        return len(captured), len(response.context["page"].object_list)

    add(5)
    small, rows_small = queries()
    add(35)
    large, rows_large = queries()
    assert (rows_small, rows_large) == (5, 40)
    assert small == large


# ---------------------------------------------------------------- one pairing


def test_the_detail_lists_the_visits_under_the_pairing_newest_first(
    world, register, pairings, login
):
    pairing = pairings["ma"]
    older = Visit.objects.create(
        household=register.ma_household,
        pairing=pairing,
        visited_on=datetime.date(2025, 1, 20),
        kind=VisitKind.CARE,
    )
    newer = Visit.objects.create(
        household=register.ma_household,
        pairing=pairing,
        visited_on=datetime.date(2025, 6, 2),
        kind=VisitKind.HARDSHIP,
    )
    Visit.objects.create(
        household=register.ma_household,
        pairing=pairing,
        visited_on=datetime.date(2025, 3, 3),
        kind=VisitKind.CARE,
        archived_at=timezone.now(),
    )
    Visit.objects.create(
        household=register.ma_household, visited_on=datetime.date(2025, 4, 4), kind=VisitKind.CARE
    )
    client = login(world.pingjianglu_liaison)
    response = client.get(url("pairing-detail", pairing))
    assert list(response.context["visits"]) == [newer, older]
    page = response.content.decode()
    assert page.index("2025-06-02") < page.index("2025-01-20")
    assert reverse("outreach:visit-detail", args=[newer.pk]) in page


def test_staff_end_a_pairing_with_its_last_day(world, pairings, login):
    pairing = pairings["ma"]
    client = login(world.pingjianglu_staff)
    response = client.post(url("pairing-end", pairing), {"end_date": "2025-06-30"})
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert pairing.end_date == datetime.date(2025, 6, 30)
    assert pairing.history.first().history_change_reason == "ended"
    assert listed(client, status="ended") == [pairing]


@pytest.mark.parametrize("end_date", ["2024-04-30", "2999-01-01", "30/06/2025", ""])
def test_an_end_date_before_the_start_or_in_the_future_is_refused(world, pairings, login, end_date):
    pairing = pairings["ma"]
    client = login(world.pingjianglu_staff)
    response = client.post(url("pairing-end", pairing), {"end_date": end_date})
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert pairing.end_date is None


def test_archive_and_restore(world, pairings, login):
    pairing = pairings["ma"]
    client = login(world.pingjianglu_staff)
    assert client.post(url("pairing-archive", pairing)).status_code == 302
    pairing.refresh_from_db()
    assert pairing.archived_at is not None
    assert listed(client) == []
    assert listed(client, archived="on") == [pairing]
    assert client.post(url("pairing-restore", pairing)).status_code == 302
    pairing.refresh_from_db()
    assert pairing.archived_at is None
    assert listed(client) == [pairing]
    reasons = [h.history_change_reason for h in pairing.history.order_by("history_date")]
    assert reasons == [None, "archived", "restored"]
    history = client.get(url("pairing-detail", pairing)).context["history"]
    assert [change.user for change in history[:2]] == [world.pingjianglu_staff] * 2


def test_restore_is_refused_when_the_partner_was_paired_again(world, register, pairings, login):
    pairing = pairings["ma"]
    client = login(world.pingjianglu_staff)
    client.post(url("pairing-archive", pairing))
    again = pair(register.ma_household, partner_liaison=pairing.partner_liaison)
    client.post(url("pairing-restore", pairing))
    pairing.refresh_from_db()
    assert pairing.archived_at is not None
    assert again.archived_at is None


# ---------------------------------------------------------------- export


def test_the_export_is_an_xlsx_of_the_filtered_list_and_is_logged(world, pairings, login):
    client = login(world.pingjiang_staff)
    response = client.get(reverse("outreach:pairing-export"), {"area": world.pingjianglu.pk})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == "平江路112号3幢201室"
    assert rows[1][2] == "马晓东"
    assert rows[1][4] == "白梅"
    log = ExportLog.objects.get()
    assert log.user == world.pingjiang_staff
    assert log.exporter == "outreach-pairings"
    assert log.row_count == 1
    assert log.area == world.pingjianglu
    assert log.filters == {"area": str(world.pingjianglu)}


def test_exported_text_is_never_a_formula(world, register, login):
    pair(register.ma_household, partner_user=world.pingjianglu_staff, note="=HYPERLINK(1)")
    client = login(world.pingjiang_staff)
    response = client.get(reverse("outreach:pairing-export"))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    note = list(book.active.iter_rows(values_only=True))[1][-1]
    assert not note.startswith("=")


# ---------------------------------------------------------------- the household timeline


def test_the_household_page_shows_its_pairings_on_the_timeline(world, register, pairings, login):
    pairing = pairings["ma"]
    pairing.end_date = datetime.date(2025, 12, 31)
    pairing.save()
    Pairing.objects.filter(
        pk=pair(register.ma_household, partner_user=world.pingjianglu_staff).pk
    ).update(archived_at=timezone.now())
    client = login(world.pingjianglu_liaison)
    response = client.get(reverse("residents:household-detail", args=[register.ma_household.pk]))
    entries = [
        e for e in response.context["timeline"].entries if e.url.startswith("/outreach/pairings/")
    ]
    assert [e.url for e in entries] == [url("pairing-detail", pairing)]
    assert entries[0].on == pairing.start_date
    assert entries[0].sort_key == (pairing.start_date, 2, pairing.id)
    assert "白梅" in entries[0].title
    assert "2025-12-31" in entries[0].detail
    assert url("pairing-detail", pairing) in response.content.decode()
    # A liaison may not record pairings: no button for them.
    create = reverse("outreach:pairing-create")
    assert not any(link.startswith(create) for _label, link in response.context["timeline_actions"])


def test_staff_get_a_button_to_pair_someone_with_the_household(world, register, login):
    client = login(world.pingjianglu_staff)
    response = client.get(reverse("residents:household-detail", args=[register.ma_household.pk]))
    wanted = reverse("outreach:pairing-create") + f"?household={register.ma_household.pk}"
    assert wanted in [link for _label, link in response.context["timeline_actions"]]
    assert client.get(wanted).status_code == 200


def test_the_timeline_pages_by_start_date(world, register, liaisons):
    from outreach import timeline_pairings

    first = pair(
        register.ma_household,
        partner_liaison=liaisons.bai_mei,
        start_date=datetime.date(2021, 3, 1),
    )
    second = pair(
        register.ma_household,
        partner_user=world.pingjianglu_staff,
        start_date=datetime.date(2023, 3, 1),
    )
    user = world.pingjianglu_liaison
    assert [e.url for e in timeline_pairings.entries(register.ma_household, user)] == [
        url("pairing-detail", second),
        url("pairing-detail", first),
    ]
    older = timeline_pairings.entries(register.ma_household, user, before=datetime.date(2023, 3, 1))
    assert [e.url for e in older] == [url("pairing-detail", first)]
    assert len(timeline_pairings.entries(register.ma_household, user, limit=1)) == 1
    assert timeline_pairings.entries(register.ma_household, world.daoqian_liaison) == []
