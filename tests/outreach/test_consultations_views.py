"""The consultation pages as the street office uses them: the list and its filters, recording
(once, however often the form is sent), editing with its status history, archiving,
exporting, and who is turned away."""

import datetime
import io
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from network.models import ExportLog
from outreach.models import Consultation
from tests.factories import PersonFactory
from tests.residents.test_template_strings import untranslated

pytestmark = pytest.mark.django_db

LIST = reverse("outreach:consultation-list")
CREATE = reverse("outreach:consultation-create")
EXPORT = reverse("outreach:consultation-export")


def detail(c):
    return reverse("outreach:consultation-detail", args=[c.pk])


def edit(c):
    return reverse("outreach:consultation-edit", args=[c.pk])


def archive(c):
    return reverse("outreach:consultation-archive", args=[c.pk])


def restore(c):
    return reverse("outreach:consultation-restore", args=[c.pk])


def consult(area, *, person=None, visitor="", days_ago=0, **fields):
    fields.setdefault("channel", "walk_in")
    fields.setdefault("topic", "policy")
    fields.setdefault("summary", "咨询少数民族高考加分政策")
    return Consultation.objects.create(
        community=area,
        person=person,
        visitor=visitor if person or visitor else "来电群众",
        received_at=timezone.now() - datetime.timedelta(days=days_ago),
        **fields,
    )


def local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def posted(world, register, **changes):
    data = {
        "community": world.pingjianglu.pk,
        "person": register.ma_xiaodong.pk,
        "visitor": "",
        "visitor_phone": "",
        "channel": "hotline",
        "topic": "employment",
        "received_at": local(timezone.now()),
        "summary": "询问街道少数民族就业援助岗位",
        "handler": world.pingjiang_staff.pk,
        "status": "open",
        "referred_to": "",
        "resolution": "",
        "closed_on": "",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(changes)
    return data


@pytest.fixture
def cases(world, register):
    """A consultation in each part of the district."""
    return {
        "pingjianglu": consult(world.pingjianglu, person=register.ma_xiaodong, days_ago=20),
        "ganjiang": consult(
            world.ganjiang,
            person=register.bai_lan,
            topic="housing",
            status="resolved",
            resolution="已联系房管所",
            closed_on=timezone.localdate(),
            days_ago=4,
            handler=world.pingjiang_staff,
        ),
        "window": consult(world.pingjiang, visitor="外来务工人员，姓马", channel="window"),
        "daoqian": consult(world.daoqian, person=register.aytursun, topic="papers"),
    }


# ---------------------------------------------------------------- the list


def shown(response):
    return {c.pk for c in response.context["page"].object_list}


def test_sub_district_staff_see_their_sub_district_only(world, cases, login):
    response = login(world.pingjiang_staff).get(LIST)
    assert response.status_code == 200
    assert shown(response) == {
        cases["pingjianglu"].pk,
        cases["ganjiang"].pk,
        cases["window"].pk,
    }
    assert "阿依吐尔逊" not in response.content.decode()


def test_community_staff_see_their_community_only(world, cases, login):
    response = login(world.pingjianglu_staff).get(LIST)
    assert shown(response) == {cases["pingjianglu"].pk}


def test_the_list_shows_days_open_and_days_to_resolve(world, cases, login):
    response = login(world.pingjiang_staff).get(LIST)
    rows = {c.pk: c for c in response.context["page"].object_list}
    assert rows[cases["pingjianglu"].pk].open_days == 20
    assert rows[cases["pingjianglu"].pk].overdue
    assert rows[cases["ganjiang"].pk].days == 4
    assert rows[cases["ganjiang"].pk].open_days is None
    assert not rows[cases["window"].pk].overdue


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "overdue"}, {"pingjianglu"}),
        ({"state": "open"}, {"pingjianglu", "window"}),
        ({"status": "resolved"}, {"ganjiang"}),
        ({"channel": "window"}, {"window"}),
        ({"topic": "housing"}, {"ganjiang"}),
        ({"q": "马晓东"}, {"pingjianglu"}),
        ({"q": "务工"}, {"window"}),
        ({"area": "north_zone"}, {"pingjianglu"}),
        ({"handler": "pingjiang_staff"}, {"ganjiang"}),
        ({"date_from": "days_ago_10"}, {"ganjiang", "window"}),
        ({"date_to": "days_ago_10"}, {"pingjianglu"}),
        ({"date_from": "today", "date_to": "today"}, {"window"}),
    ],
)
def test_filters(world, cases, login, query, expected):
    today = timezone.localdate()
    values = {
        "north_zone": world.north_zone.pk,
        "pingjiang_staff": world.pingjiang_staff.pk,
        "days_ago_10": (today - datetime.timedelta(days=10)).isoformat(),
        "today": today.isoformat(),
    }
    params = {k: values.get(v, v) for k, v in query.items()}
    response = login(world.pingjiang_staff).get(LIST, params)
    assert shown(response) == {cases[name].pk for name in expected}


def test_dates_beyond_any_record_select_everything_not_an_error(world, cases, login):
    client = login(world.pingjiang_staff)
    everything = shown(client.get(LIST))
    response = client.get(LIST, {"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert shown(response) == everything
    assert len(everything) == 3
    response = client.get(EXPORT, {"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert response.status_code == 200


def test_an_area_of_another_sub_district_is_dropped_not_obeyed(world, cases, login):
    response = login(world.pingjiang_staff).get(LIST, {"area": world.daoqian.pk})
    assert response.status_code == 200
    assert cases["daoqian"].pk not in shown(response)


@pytest.mark.parametrize(
    "params",
    [
        {"area": "\x00"},
        {"handler": "99999999999999999999"},
        {"date_from": "2024-02-30"},
        {"q": "\x00马"},
        {"page": "abc"},
        {"state": "<script>"},
    ],
)
def test_garbage_filters_never_break_the_list(world, cases, login, params):
    client = login(world.pingjiang_staff)
    assert client.get(LIST, params).status_code == 200
    assert client.get(EXPORT, params).status_code == 200


def test_the_list_costs_the_same_queries_at_any_size(world, register, login):
    client = login(world.pingjiang_staff)

    def count():
        client.get(LIST)  # warm the session and permission caches alike
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST)
        assert response.status_code == 200
        return len(queries), len(response.context["page"].object_list)

    consult(world.pingjianglu, person=register.ma_xiaodong, handler=world.pingjianglu_staff)
    consult(world.ganjiang, visitor="匿名来电")
    small, rows_small = count()
    for i in range(25):
        person = PersonFactory(household=register.bai_household, name=f"白{i}号")
        consult(world.ganjiang, person=person, handler=world.pingjiang_staff, days_ago=i)
        consult(world.pingjiang, visitor=f"来访群众{i}", status="in_progress", days_ago=i)
    large, rows_large = count()
    assert (rows_small, rows_large) == (2, 50)
    assert small == large, (small, large)
    print("consultation list queries:", small)


# ---------------------------------------------------------------- recording


def test_create_page_preselects_the_person_from_the_register(world, register, login):
    response = login(world.pingjiang_staff).get(CREATE, {"person": register.ma_xiaodong.pk})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["person"] == register.ma_xiaodong.pk
    assert form.initial["community"] == world.pingjianglu.pk
    assert form.initial["handler"] == world.pingjiang_staff.pk
    assert "马晓东" in response.content.decode()
    assert register.ma_xiaodong.id_number not in response.content.decode()


@pytest.mark.parametrize("raw", ["99999999999999999999", "abc", "\x00", "-1"])
def test_a_person_parameter_that_fits_nothing_is_ignored(world, register, login, raw):
    response = login(world.pingjiang_staff).get(CREATE, {"person": raw})
    assert response.status_code == 200
    assert "person" not in response.context["form"].initial


def test_a_person_of_another_sub_district_is_not_preselected(world, register, login):
    response = login(world.pingjiang_staff).get(CREATE, {"person": register.aytursun.pk})
    assert response.status_code == 200
    assert "person" not in response.context["form"].initial
    assert "阿依吐尔逊" not in response.content.decode()


def test_find_offers_the_persons_by_pinyin_initials_and_saves_nothing(world, register, login):
    client = login(world.pingjiang_staff)
    data = posted(world, register, person="", person_search="mxd", find="1")
    response = client.post(CREATE, data)
    assert response.status_code == 200
    assert Consultation.objects.count() == 0
    form = response.context["form"]
    choices = [str(v) for v, _label in form.fields["person"].widget.choices]
    assert choices == ["", str(register.ma_xiaodong.pk)]
    assert form.initial["person"] == register.ma_xiaodong.pk  # the only one found is taken
    assert form.initial["summary"] == data["summary"]  # what was typed is kept


def test_find_never_offers_a_person_of_another_sub_district(world, register, login):
    response = login(world.pingjiang_staff).post(
        CREATE, posted(world, register, person="", person_search="阿依", find="1")
    )
    assert response.context["found"] == 0
    assert "阿依吐尔逊" not in response.content.decode()


def test_recording_a_consultation(world, register, login):
    response = login(world.pingjiang_staff).post(CREATE, posted(world, register))
    consultation = Consultation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(consultation)
    assert consultation.person == register.ma_xiaodong
    assert consultation.history.get().history_user == world.pingjiang_staff


def test_sending_the_form_twice_records_it_once(world, register, login):
    client = login(world.pingjiang_staff)
    data = posted(world, register)
    first = client.post(CREATE, data)
    second = client.post(CREATE, data)
    consultation = Consultation.objects.get()
    assert first["Location"] == second["Location"] == detail(consultation)


def test_a_key_taken_elsewhere_gets_a_fresh_one_not_an_error(world, register, login):
    foreign = consult(world.daoqian, person=register.aytursun)
    data = posted(world, register, submission_key=str(foreign.submission_key))
    response = login(world.pingjiang_staff).post(CREATE, data)
    assert response.status_code == 302
    mine = Consultation.objects.exclude(pk=foreign.pk).get()
    assert mine.submission_key != foreign.submission_key
    assert response["Location"] == detail(mine)


@pytest.mark.parametrize("key", ["not-a-uuid", "\x00", ""])
def test_a_garbled_key_still_records_it_once(world, register, login, key):
    response = login(world.pingjiang_staff).post(
        CREATE, posted(world, register, submission_key=key)
    )
    assert response["Location"] == detail(Consultation.objects.get())


def test_a_person_id_from_another_sub_district_is_a_form_error(world, register, login):
    response = login(world.pingjiang_staff).post(
        CREATE, posted(world, register, person=register.aytursun.pk, community=world.pingjiang.pk)
    )
    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert Consultation.objects.count() == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"person": "99999999999999999999"},
        {"person": "\x00"},
        {"community": "abc"},
        {"handler": "-1"},
        {"submission_key": "not-a-uuid"},
        {"summary": ""},
        {"summary": "咨询\x00政策"},
        {"visitor_phone": "\x00", "person": ""},
        {"channel": "pigeon"},
        {"received_at": "0001-01-01T00:00"},
        {"received_at": "0202-05-04T09:30"},
    ],
)
def test_bad_input_is_a_form_error_never_a_crash(world, register, login, changes):
    response = login(world.pingjiang_staff).post(CREATE, posted(world, register, **changes))
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert response.context["form"].errors
        assert Consultation.objects.count() == 0


# ---------------------------------------------------------------- who is turned away


def test_liaisons_have_no_part_in_consultations(world, register, cases, login):
    client = login(world.pingjianglu_liaison)
    c = cases["pingjianglu"]
    for url in (LIST, CREATE, EXPORT, detail(c), edit(c)):
        assert client.get(url).status_code == 403, url
    assert client.post(CREATE, posted(world, register)).status_code == 403
    assert client.post(archive(c)).status_code == 403
    assert Consultation.objects.filter(archived_at__isnull=False).count() == 0
    assert Consultation.objects.count() == 4


def test_no_current_post_is_refused(world, cases, login):
    client = login(world.no_post)
    assert client.get(LIST).status_code == 403
    assert client.get(detail(cases["pingjianglu"])).status_code == 403


def test_another_sub_district_gets_404_everywhere(world, register, cases, login):
    client = login(world.canglang_staff)
    c = cases["pingjianglu"]
    assert client.get(detail(c)).status_code == 404
    assert client.get(edit(c)).status_code == 404
    assert client.post(edit(c), posted(world, register)).status_code == 404
    assert client.post(archive(c)).status_code == 404
    c.refresh_from_db()
    assert c.archived_at is None
    assert c.summary == "咨询少数民族高考加分政策"


def test_community_staff_cannot_open_the_street_offices_window_record(world, cases, login):
    assert login(world.pingjianglu_staff).get(detail(cases["window"])).status_code == 404


@pytest.mark.parametrize("pk", ["99999999999999999999", "0"])
def test_an_id_that_does_not_fit_is_a_404(world, login, pk):
    client = login(world.pingjiang_staff)
    assert client.get(f"{LIST}{pk}/").status_code == 404


# ---------------------------------------------------------------- one consultation


def test_detail_page_shows_everything_but_id_numbers(world, register, cases, login):
    response = login(world.pingjiang_staff).get(detail(cases["ganjiang"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "白兰" in page and "干将东路88号" in page and "已联系房管所" in page
    assert register.bai_lan.id_number not in page
    assert response.context["consultation"].days == 4


def test_who_moved_it_to_resolved_and_when(world, register, login):
    staff = login(world.pingjiang_staff)
    staff.post(CREATE, posted(world, register))
    consultation = Consultation.objects.get()
    data = posted(world, register, status="in_progress")
    assert staff.post(edit(consultation), data).status_code == 302
    community = login(world.pingjianglu_staff)
    data = posted(world, register, status="resolved", resolution="已介绍至街道就业服务站登记")
    assert community.post(edit(consultation), data).status_code == 302
    response = community.get(detail(consultation))
    history = response.context["history"]
    assert [(h.status, h.user) for h in history] == [
        ("open", world.pingjiang_staff),
        ("in_progress", world.pingjiang_staff),
        ("resolved", world.pingjianglu_staff),
    ]
    assert history[-1].at.date() == timezone.now().date()
    consultation.refresh_from_db()
    assert consultation.closed_on == timezone.localdate()
    assert consultation.days_to_resolve == 0


def test_an_edit_refused_changes_nothing(world, register, cases, login):
    c = cases["pingjianglu"]
    response = login(world.pingjiang_staff).post(
        edit(c), posted(world, register, status="referred", referred_to="")
    )
    assert response.status_code == 200
    c.refresh_from_db()
    assert c.status == "open"


def test_archive_and_restore(world, cases, login):
    client = login(world.pingjiang_staff)
    c = cases["pingjianglu"]
    assert client.post(archive(c)).status_code == 302
    c.refresh_from_db()
    assert c.archived_at is not None
    assert c.history.first().history_change_reason == "archived"
    assert c.pk not in shown(client.get(LIST))
    assert c.pk in shown(client.get(LIST, {"archived": "on"}))
    assert client.get(edit(c)).status_code == 302  # restore first
    assert client.post(restore(c)).status_code == 302
    c.refresh_from_db()
    assert c.archived_at is None
    assert c.pk in shown(client.get(LIST))
    reasons = [h.reason for h in client.get(detail(c)).context["history"]]
    assert reasons == ["", "archived", "restored"]


def test_archive_is_post_only(world, cases, login):
    assert login(world.pingjiang_staff).get(archive(cases["pingjianglu"])).status_code == 405


# ---------------------------------------------------------------- export


def test_export_is_an_xlsx_of_the_filtered_list_and_is_logged(world, cases, login):
    response = login(world.pingjiang_staff).get(EXPORT, {"state": "open"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    whos = sorted(row[2] for row in rows[1:])
    assert whos == sorted(["马晓东", "外来务工人员，姓马"])
    log = ExportLog.objects.get()
    assert log.user == world.pingjiang_staff
    assert log.exporter == "outreach.consultations"
    assert log.row_count == 2
    assert log.filters == {"state": "open"}


def test_export_keeps_formulas_as_text(world, register, login):
    consult(world.pingjianglu, visitor='=HYPERLINK("http://x")', summary="+1+1")
    response = login(world.pingjiang_staff).get(EXPORT)
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert not any(isinstance(c, str) and c.startswith(("=", "+")) for c in cells)


def test_export_needs_its_permission(world, cases, login):
    assert login(world.pingjianglu_liaison).get(EXPORT).status_code == 403
    assert ExportLog.objects.count() == 0


# ---------------------------------------------------------------- templates


TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "outreach" / "consultations"


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_every_shown_word_is_translated(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []
