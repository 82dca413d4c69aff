"""The log's start page (two big buttons, the user's last five records), the page that
confirms a record and drops the browser's draft, and the draft script itself."""

import datetime
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from outreach.models import Meeting, MeetingKind, Visit, VisitKind

HOME = reverse("outreach:log-home")
SCRIPT = Path(settings.BASE_DIR) / "static" / "js" / "tongxin-draft.js"


def log_visit(client, household, **extra):
    data = {
        "household": household.pk,
        "visited_on": timezone.localdate().isoformat(),
        "kind": VisitKind.CARE,
        "submission_key": str(uuid.uuid4()),
        **extra,
    }
    response = client.post(reverse("outreach:log-visit"), data)
    assert response.status_code == 302
    return response


def test_start_page_has_two_big_buttons(world, liaisons, login):
    page = login(world.pingjianglu_liaison).get(HOME).content.decode()
    assert f'href="{reverse("outreach:log-visit")}"' in page
    assert f'href="{reverse("outreach:log-meeting")}"' in page
    assert page.count("tx-big") >= 2


def test_start_page_lists_the_users_last_five_records(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    for _ in range(4):
        log_visit(client, register.ma_household)
    client.post(
        reverse("outreach:log-meeting"),
        {
            "kind": MeetingKind.LIAISON,
            "held_on": timezone.localdate().isoformat(),
            "attending_liaisons": [liaisons.bai_mei.pk],
            "submission_key": str(uuid.uuid4()),
        },
    )
    log_visit(client, register.ma_household)
    Visit.objects.create(  # someone else's
        household=register.ma_household, kind=VisitKind.CARE, created_by=world.pingjianglu_staff
    )
    records = client.get(HOME).context["records"]
    newest_visits = list(
        Visit.objects.filter(created_by=world.pingjianglu_liaison).order_by("-id")[:4]
    )
    assert [kind for kind, _ in records] == ["visit", "meeting", "visit", "visit", "visit"]
    assert [r for kind, r in records if kind == "visit"] == newest_visits
    assert records[1][1] == Meeting.objects.get()


def test_done_page_confirms_and_drops_the_draft(world, register, liaisons, login):
    client = login(world.pingjianglu_liaison)
    due = timezone.localdate() + datetime.timedelta(days=3)
    response = log_visit(
        client,
        register.ma_household,
        follow_up_action="联系社区医生上门",
        follow_up_due_on=due.isoformat(),
        assistance_kind="goods",
        assistance_value="80",
    )
    page = client.get(response["Location"])
    text = page.content.decode()
    visit = Visit.objects.get()
    assert page.context["record"] == visit
    assert 'data-clear-draft="log-visit"' in text
    assert f'data-draft-user="{world.pingjianglu_liaison.pk}"' in text
    assert 'src="/static/js/tongxin-draft.js" defer' in text
    assert "联系社区医生上门" in text and "平江路112号3幢201室" in text
    assert f'href="{reverse("outreach:log-visit")}"' in text  # log another
    assert f'href="{reverse("outreach:visit-detail", args=[visit.pk])}"' in text


def test_done_page_of_a_meeting(world, liaisons, login):
    client = login(world.pingjianglu_liaison)
    response = client.post(
        reverse("outreach:log-meeting"),
        {
            "kind": MeetingKind.STUDY,
            "held_on": timezone.localdate().isoformat(),
            "attending_liaisons": [liaisons.bai_mei.pk, liaisons.ma_xiaodong.pk],
            "other_attendees": "2",
            "submission_key": str(uuid.uuid4()),
        },
    )
    text = client.get(response["Location"]).content.decode()
    assert 'data-clear-draft="log-meeting"' in text
    assert "白梅" in text and "马晓东" in text
    assert f'href="{reverse("outreach:log-meeting")}"' in text


def test_done_page_of_another_communitys_record_is_not_found(world, register, liaisons, login):
    visit = Visit.objects.create(household=register.ma_household, kind=VisitKind.CARE)
    meeting = Meeting.objects.create(
        kind=MeetingKind.LIAISON, area=world.pingjianglu, liaison_group=world.pingjianglu_group
    )
    client = login(world.daoqian_liaison)
    assert client.get(reverse("outreach:log-done", args=["visit", visit.pk])).status_code == 404
    assert client.get(reverse("outreach:log-done", args=["meeting", meeting.pk])).status_code == 404
    own = login(world.pingjianglu_liaison)
    assert own.get(reverse("outreach:log-done", args=["visit", visit.pk])).status_code == 200
    assert own.get(reverse("outreach:log-done", args=["pairing", visit.pk])).status_code == 404
    assert own.get(reverse("outreach:log-done", args=["visit", 987654])).status_code == 404


@pytest.mark.parametrize("name", ["log-home", "log-visit", "log-meeting", "log-households"])
def test_no_post_no_log(world, login, name):
    assert login(world.no_post).get(reverse(f"outreach:{name}")).status_code == 403


def test_household_search_answers_get_only(world, liaisons, login):
    client = login(world.pingjianglu_liaison)
    assert client.post(reverse("outreach:log-households"), {"q": "mxd"}).status_code == 405


def test_draft_script_is_small_and_does_what_the_pages_ask():
    script = SCRIPT.read_text(encoding="utf-8")
    assert len(script.encode()) < 10_000  # a slow phone connection: kilobytes, no library
    for hook in ("data-draft", "clearDraft", "draftUser", "localStorage", "submission"):
        assert hook in script
    assert "import " not in script and "require(" not in script


def test_numbers_too_large_for_an_id_are_no_error(world, register, liaisons, login):
    big = "9" * 25
    today = timezone.localdate().isoformat()
    liaison = login(world.pingjianglu_liaison)
    visit = {"household": big, "visited_on": today, "kind": "care"}
    assert liaison.post(reverse("outreach:log-visit"), visit).status_code == 200
    assert liaison.get(reverse("outreach:log-visit"), {"household": big}).status_code == 404
    meeting = {"kind": "liaison", "held_on": today, "attending_liaisons": [big]}
    assert liaison.post(reverse("outreach:log-meeting"), meeting).status_code == 200
    done = reverse("outreach:log-done", args=["visit", 2**63])
    assert liaison.get(done).status_code == 404
    staff = login(world.pingjianglu_staff)
    held = {"held_by": f"group:{big}", "kind": "liaison", "held_on": today, "me": "on"}
    assert staff.post(reverse("outreach:log-meeting"), held).status_code == 200
    visit = {**visit, "household": register.ma_household.pk, "liaison_group": big}
    assert staff.post(reverse("outreach:log-visit"), visit).status_code == 200
    visit["festival"], visit["liaison_group"] = big, ""
    visit["kind"] = "festival"
    assert staff.post(reverse("outreach:log-visit"), visit).status_code == 200
    assert Visit.objects.count() == Meeting.objects.count() == 0
