"""The two-way service survey pages (双向服务意向调查表): a liaison or staff member records what
a household wants and can offer, edits it, archives and restores it; the list, its filters
and its logged export; and who may not."""

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
from services.models import Survey, SurveyAnswer
from tests.factories import HouseholdFactory, PersonFactory
from tests.residents.test_template_strings import untranslated

LIST = reverse("services:survey-list")
CREATE = reverse("services:survey-create")
EXPORT = reverse("services:survey-export")


def url(name, pk):
    return reverse(f"services:{name}", kwargs={"pk": pk})


def create_url(household):
    return f"{CREATE}?household={household.pk}"


def today():
    return timezone.localdate()


def posted(respondent, *, on=None, wants=(), offers=(), note="", **extra):
    """The form as a browser sends it: ``wants``/``offers`` are (category, detail) pairs."""
    data = {
        "respondent": respondent.pk,
        "surveyed_on": (on or today()).isoformat(),
        "note": note,
    }
    for direction, answers in (("wants", wants), ("offers", offers)):
        for category, detail in answers:
            data[f"{direction}_{category}"] = "on"
            data[f"{direction}_{category}_detail"] = detail
    data.update(extra)
    return data


def answers(survey):
    return sorted(survey.answers.values_list("direction", "category", "detail"))


def make_survey(household, respondent, *, on=None, wants=(), offers=(), by=None):
    survey = Survey.objects.create(
        household=household,
        respondent=respondent,
        surveyed_on=on or today(),
        recorded_by=by,
    )
    for direction, pairs in (("wants", wants), ("offers", offers)):
        for category in pairs:
            SurveyAnswer.objects.create(survey=survey, direction=direction, category=category)
    return survey


# ---------------------------------------------------------------- recording


def test_liaison_records_a_survey_of_a_household_of_their_community(world, register, login):
    client = login(world.pingjianglu_liaison)
    page = client.get(create_url(register.ma_household))
    assert page.status_code == 200
    assert page.context["form"].initial["respondent"] == register.ma_xiaodong.pk  # the head
    response = client.post(
        create_url(register.ma_household),
        posted(
            register.ma_wife,
            wants=[("medical", "老人慢性病上门随访"), ("appliance", "")],
            offers=[("tailoring", "会做民族服装")],
            note="希望社区多组织义诊",
        ),
    )
    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("survey-detail", survey.pk)
    assert survey.household == register.ma_household
    assert survey.respondent == register.ma_wife
    assert survey.recorded_by == world.pingjianglu_liaison
    assert survey.note == "希望社区多组织义诊"
    assert answers(survey) == [
        ("offers", "tailoring", "会做民族服装"),
        ("wants", "appliance", ""),
        ("wants", "medical", "老人慢性病上门随访"),
    ]
    detail = client.get(url("survey-detail", survey.pk))
    assert detail.status_code == 200
    assert "老人慢性病上门随访" in detail.content.decode()
    assert detail.context["can_change"]


def test_a_head_who_moved_away_is_not_offered_as_respondent(world, register, login):
    register.ma_xiaodong.status = "moved_away"
    register.ma_xiaodong.save()
    page = login(world.pingjianglu_liaison).get(create_url(register.ma_household))
    assert page.context["form"].initial["respondent"] == register.ma_wife.pk


def test_sending_the_form_twice_records_one_survey(world, register, login):
    client = login(world.pingjiang_staff)
    shown = client.get(create_url(register.ma_household))
    key = str(shown.context["form"].initial["submission_key"])
    assert f'name="submission_key" value="{key}"' in shown.content.decode()
    data = posted(register.ma_xiaodong, wants=[("housekeeping", "")], submission_key=key)
    first = client.post(create_url(register.ma_household), data)
    # resent, even changed or from another household's page: the survey already made
    data["wants_moving"] = "on"
    second = client.post(create_url(register.bai_household), data)
    survey = Survey.objects.get()
    assert first["Location"] == second["Location"] == url("survey-detail", survey.pk)
    assert str(survey.submission_key) == key
    assert answers(survey) == [("wants", "housekeeping", "")]
    # a new form (a new key) of the same household and day is a second survey
    client.post(create_url(register.ma_household), {**data, "submission_key": str(uuid.uuid4())})
    assert Survey.objects.count() == 2


@pytest.mark.parametrize("key", ["", "不是密钥", "0" * 400])
def test_a_missing_or_garbled_key_still_records(world, register, login, key):
    client = login(world.pingjiang_staff)
    data = posted(register.ma_xiaodong, submission_key=key)
    assert client.post(create_url(register.ma_household), data).status_code == 302
    assert Survey.objects.count() == 1


def test_a_key_of_a_survey_out_of_sight_is_a_404(world, register, login):
    other = make_survey(register.aytursun.household, register.aytursun)
    data = posted(register.ma_xiaodong, submission_key=str(other.submission_key))
    response = login(world.pingjiang_staff).post(create_url(register.ma_household), data)
    assert response.status_code == 404
    assert Survey.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "household"),
    [
        ("pingjianglu_liaison", "bai_household"),  # another community of the same street
        ("daoqian_liaison", "ma_household"),
        ("canglang_staff", "ma_household"),
        ("pingjianglu_staff", "bai_household"),
    ],
)
def test_no_survey_of_a_household_outside_ones_area(world, register, login, who, household):
    client = login(getattr(world, who))
    target = getattr(register, household)
    assert client.get(create_url(target)).status_code == 404
    assert client.post(create_url(target), posted(target.members.first())).status_code == 404
    assert not Survey.objects.exists()


@pytest.mark.parametrize("who", ["bureau", "no_post", "ended_post"])
def test_roles_that_may_not_record_surveys_are_refused(world, register, login, who):
    client = login(getattr(world, who))
    assert client.get(create_url(register.ma_household)).status_code == 403
    response = client.post(create_url(register.ma_household), posted(register.ma_xiaodong))
    assert response.status_code == 403
    assert not Survey.objects.exists()


def test_a_till_login_sees_no_survey_page(world, register, partners, login):
    survey = make_survey(register.ma_household, register.ma_xiaodong, wants=["medical"])
    client = login(partners.lamian_till)
    for address in (LIST, CREATE, EXPORT, url("survey-detail", survey.pk)):
        assert client.get(address).status_code == 403, address
    assert client.get(reverse("services:survey-summary")).status_code == 403


@pytest.mark.parametrize(
    "raw", ["abc", "0", "-3", "99999999999999999999999", "１２", "5\x00", "1.5", " "]
)
def test_a_garbled_household_is_a_404(world, register, login, raw):
    client = login(world.pingjiang_staff)
    assert client.get(CREATE, {"household": raw}).status_code == 404


def test_choosing_the_household_by_search(world, register, login):
    client = login(world.pingjiang_staff)
    page = client.get(CREATE)
    assert page.status_code == 200 and page.context["found"] == []
    found = client.get(CREATE, {"q": "mxd"}).context["found"]
    assert [h.pk for h in found] == [register.ma_household.pk]
    assert [p.name for p in found[0].current_members] == ["马晓东", "哈丽娜"]
    assert [h.pk for h in client.get(CREATE, {"q": "干将"}).context["found"]] == [
        register.bai_household.pk
    ]
    # a household of another sub-district is never found
    assert client.get(CREATE, {"q": "道前"}).context["found"] == []
    liaison = login(world.pingjianglu_liaison)
    assert liaison.get(CREATE, {"q": "干将"}).context["found"] == []
    assert liaison.get(CREATE, {"q": "\x00马"}).status_code == 200


def test_household_search_costs_the_same_for_many_households(world, register, login):
    client = login(world.pingjiang_staff)

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CREATE, {"q": "平江"}).status_code == 200
        return len(queries)

    few = cost()
    for n in range(12):
        household = HouseholdFactory(community=world.pingjianglu, address=f"平江路{200 + n}号")
        PersonFactory(household=household, name=f"马{n}")
    assert cost() == few


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surveyed_on": "2999-01-01"}, "surveyed_on"),
        ({"surveyed_on": "1900-01-01"}, "surveyed_on"),
        ({"surveyed_on": "2025-02-30"}, "surveyed_on"),
        ({"surveyed_on": "１２３"}, "surveyed_on"),
        ({"respondent": "99999999999999999999"}, "respondent"),
        ({"respondent": "abc"}, "respondent"),
        ({"respondent": ""}, "respondent"),
        ({"wants_medical_detail": "看病"}, "wants_medical_detail"),  # a detail, no tick
        ({"offers_tailoring_detail": "x" * 201, "offers_tailoring": "on"}, None),
        ({"note": "备注\x00"}, None),
        ({"wants_education_detail": "辅导\x00", "wants_education": "on"}, None),
    ],
)
def test_bad_input_saves_nothing(world, register, login, change, field):
    client = login(world.pingjiang_staff)
    data = posted(register.ma_xiaodong, wants=[("medical", "")])
    data.update(change)
    if "wants_medical_detail" in change:
        del data["wants_medical"]
    response = client.post(create_url(register.ma_household), data)
    if field is None and response.status_code == 302:
        # the control character is dropped, the rest kept
        survey = Survey.objects.get()
        assert "\x00" not in survey.note and all("\x00" not in a[2] for a in answers(survey))
        return
    assert response.status_code == 200
    assert not Survey.objects.exists() and not SurveyAnswer.objects.exists()
    if field:
        assert field in response.context["form"].errors


def test_the_respondent_must_belong_to_the_household(world, register, login):
    client = login(world.pingjiang_staff)
    response = client.post(create_url(register.ma_household), posted(register.bai_lan))
    assert response.status_code == 200
    assert "respondent" in response.context["form"].errors
    assert not Survey.objects.exists()


# ---------------------------------------------------------------- editing


def test_editing_replaces_the_answers_in_one_go(world, register, login):
    client = login(world.pingjianglu_liaison)
    client.post(
        create_url(register.ma_household),
        posted(
            register.ma_xiaodong,
            wants=[("medical", "体检"), ("appliance", "")],
            offers=[("tailoring", "")],
        ),
    )
    survey = Survey.objects.get()
    kept = survey.answers.get(category="medical")
    response = client.post(
        url("survey-edit", survey.pk),
        posted(
            register.ma_xiaodong,
            on=today() - datetime.timedelta(days=3),
            wants=[("medical", "看牙"), ("housekeeping", "")],
            offers=[("education", "可辅导初中数学")],
        ),
    )
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.surveyed_on == today() - datetime.timedelta(days=3)
    assert answers(survey) == [
        ("offers", "education", "可辅导初中数学"),
        ("wants", "housekeeping", ""),
        ("wants", "medical", "看牙"),
    ]
    assert survey.answers.get(category="medical").pk == kept.pk  # changed, not replaced
    history = client.get(url("survey-detail", survey.pk)).context["history"]
    subjects = " ".join(entry.subject for entry in history)
    assert "家电维修" in subjects or "appliance" in subjects  # the answer taken away shows
    assert any(entry.kind == "-" for entry in history)


def test_a_failed_edit_changes_nothing(world, register, login):
    survey = make_survey(register.ma_household, register.ma_xiaodong, wants=["medical"])
    client = login(world.pingjiang_staff)
    data = posted(register.ma_xiaodong, wants=[("housekeeping", "")], on=today())
    data["offers_tailoring_detail"] = "无勾选"
    response = client.post(url("survey-edit", survey.pk), data)
    assert response.status_code == 200
    assert answers(survey) == [("wants", "medical", "")]


def test_edit_page_shows_the_answers_given(world, register, login):
    survey = make_survey(
        register.ma_household, register.ma_xiaodong, wants=["medical"], offers=["tailoring"]
    )
    form = login(world.pingjiang_staff).get(url("survey-edit", survey.pk)).context["form"]
    assert form["wants_medical"].value() is True
    assert form["offers_tailoring"].value() is True
    assert not form["wants_housekeeping"].value()


@pytest.mark.parametrize("who", ["canglang_staff", "daoqian_liaison"])
def test_another_area_cannot_edit_or_archive(world, register, login, who):
    survey = make_survey(register.ma_household, register.ma_xiaodong, wants=["medical"])
    client = login(getattr(world, who))
    assert client.get(url("survey-detail", survey.pk)).status_code == 404
    assert client.get(url("survey-edit", survey.pk)).status_code == 404
    assert (
        client.post(url("survey-edit", survey.pk), posted(register.ma_xiaodong)).status_code == 404
    )
    assert client.post(url("survey-archive", survey.pk)).status_code == 404
    survey.refresh_from_db()
    assert survey.archived_at is None and answers(survey) == [("wants", "medical", "")]


def test_bureau_sees_but_does_not_change(world, register, login):
    survey = make_survey(register.ma_household, register.ma_xiaodong, wants=["medical"])
    client = login(world.bureau)
    detail = client.get(url("survey-detail", survey.pk))
    assert detail.status_code == 200 and not detail.context["can_change"]
    assert client.get(url("survey-edit", survey.pk)).status_code == 403
    assert client.post(url("survey-archive", survey.pk)).status_code == 403


def test_archive_and_restore(world, register, login):
    survey = make_survey(register.ma_household, register.ma_xiaodong, wants=["medical"])
    client = login(world.pingjianglu_liaison)
    assert client.post(url("survey-archive", survey.pk)).status_code == 302
    survey.refresh_from_db()
    assert survey.archived_at is not None
    assert list(client.get(LIST).context["page"]) == []
    assert list(client.get(LIST, {"archived": "on"}).context["page"]) == [survey]
    # an archived survey is restored before it is edited
    response = client.get(url("survey-edit", survey.pk))
    assert response.status_code == 302
    assert client.post(url("survey-restore", survey.pk)).status_code == 302
    survey.refresh_from_db()
    assert survey.archived_at is None
    reasons = list(survey.history.values_list("history_change_reason", flat=True))
    assert "archived" in reasons and "restored" in reasons
    assert client.get(url("survey-archive", survey.pk)).status_code == 405


@pytest.mark.parametrize("pk", ["987654", "99999999999999999999"])
def test_unknown_or_huge_ids_are_404(world, login, pk):
    client = login(world.pingjiang_staff)
    for name in ("survey-detail", "survey-edit"):
        assert (
            client.get(f"/services/surveys/{pk}/" + ("edit/" if "edit" in name else "")).status_code
            == 404
        )


# ---------------------------------------------------------------- the list and export


@pytest.fixture
def surveys(world, register):
    old = today() - datetime.timedelta(days=100)
    return {
        "ma": make_survey(
            register.ma_household, register.ma_xiaodong, wants=["medical"], offers=["tailoring"]
        ),
        "bai": make_survey(register.bai_household, register.bai_lan, on=old, wants=["moving"]),
        "ayt": make_survey(
            register.daoqian_household, register.aytursun, wants=["medical"], offers=["education"]
        ),
    }


def shown(client, **filters):
    return {s.household.address for s in client.get(LIST, filters).context["page"]}


def test_list_shows_what_the_user_may_see_and_filters(world, register, surveys, login):
    staff = login(world.pingjiang_staff)
    assert shown(staff) == {"平江路112号3幢201室", "干将东路88号"}
    assert shown(staff, wants="medical") == {"平江路112号3幢201室"}
    assert shown(staff, offers="tailoring") == {"平江路112号3幢201室"}
    assert shown(staff, offers="medical") == set()
    assert shown(staff, area=world.ganjiang.pk) == {"干将东路88号"}
    since = (today() - datetime.timedelta(days=10)).isoformat()
    assert shown(staff, date_from=since) == {"平江路112号3幢201室"}
    assert shown(staff, date_to=since) == {"干将东路88号"}
    assert shown(staff, q="哈丽娜") == set() and shown(staff, q="马晓东") == {"平江路112号3幢201室"}
    # a filter that does not fit is dropped, never an error; another street's area is unknown
    assert shown(staff, area=world.daoqian.pk, wants="nonsense", date_from="2025-02-30") == {
        "平江路112号3幢201室",
        "干将东路88号",
    }
    assert shown(login(world.pingjianglu_liaison)) == {"平江路112号3幢201室"}
    assert shown(login(world.canglang_staff)) == {"道前街45号"}
    assert len(shown(login(world.bureau))) == 3


def test_list_costs_the_same_for_many_surveys(world, register, login):
    client = login(world.pingjiang_staff)

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST, {"wants": "medical"}).status_code == 200
        return len(queries)

    make_survey(register.ma_household, register.ma_xiaodong, wants=["medical"])
    few = cost()
    for n in range(15):
        household = HouseholdFactory(community=world.ganjiang, address=f"干将西路{n}号")
        person = PersonFactory(household=household, name=f"白{n}")
        make_survey(household, person, wants=["medical", "housekeeping"], offers=["tailoring"])
    assert cost() == few


def test_export_is_the_filtered_list_and_is_logged(world, register, surveys, login):
    surveys["ma"].answers.filter(category="medical").update(detail="=HYPERLINK(1)")
    response = login(world.pingjiang_staff).get(EXPORT, {"wants": "medical"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][3] == "平江路112号3幢201室" and rows[1][4] == "马晓东"
    assert not any(isinstance(c, str) and c.startswith("=") for c in rows[1])
    log = ExportLog.objects.get()
    assert log.user == world.pingjiang_staff
    assert log.exporter == "services.surveys"
    assert log.row_count == 1
    assert log.filters == {"wants": "medical"}


def test_export_needs_its_permission(world, register, surveys, login):
    assert login(world.pingjianglu_liaison).get(EXPORT).status_code == 403
    assert ExportLog.objects.count() == 0


# ---------------------------------------------------------------- templates


TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "services" / "survey"


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_every_shown_word_is_translated(path):
    assert untranslated(path.read_text(encoding="utf-8")) == []
