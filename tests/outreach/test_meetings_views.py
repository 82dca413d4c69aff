"""The meeting desk pages: who sees and changes which meeting (a record outside one's scope is
a 404), archive and restore with history, the detail page, the logged export, and a list
whose query count does not grow with the data."""

import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from PIL import Image

from network.models import ExportLog
from outreach.models import Meeting, MeetingKind, Photo
from tests.factories import PersonFactory

LIST = reverse("outreach:meeting-list")
EXPORT = reverse("outreach:meeting-export")


def url(name, meeting):
    return reverse(f"outreach:{name}", args=[meeting.pk])


def ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


def make_meeting(area, *, group=None, users=(), liaisons=(), persons=(), **fields):
    fields.setdefault("kind", MeetingKind.LIAISON)
    fields.setdefault("held_on", ago(10))
    meeting = Meeting.objects.create(area=area, liaison_group=group, **fields)
    meeting.attending_users.set(users)
    meeting.attending_liaisons.set(liaisons)
    meeting.attending_persons.set(persons)
    return meeting


@pytest.fixture
def meetings(world, liaisons, register):
    """A sub-district meeting, a community meeting, a liaison-group meeting (平江) and a
    meeting in 道前 (沧浪)."""

    return SimpleNamespace(
        subdistrict=make_meeting(
            world.pingjiang,
            title="平江街道片长会议",
            kind=MeetingKind.ZONE_HEAD,
            users=[world.pingjiang_staff],
            liaisons=[liaisons.bai_mei],
            other_attendees=3,
            cost=Decimal("200"),
        ),
        community=make_meeting(
            world.pingjianglu,
            title="平江路社区民族政策宣讲",
            kind=MeetingKind.PUBLICITY,
            persons=[register.ma_xiaodong, register.ma_wife],
            venue="平江路社区民族之家",
        ),
        group=make_meeting(
            world.pingjianglu,
            group=world.pingjianglu_group,
            title="平江路联络组学习会",
            kind=MeetingKind.STUDY,
            liaisons=[liaisons.bai_mei, liaisons.ma_xiaodong],
        ),
        daoqian=make_meeting(
            world.daoqian,
            group=world.daoqian_group,
            title="道前社区古尔邦节茶话会",
            kind=MeetingKind.TEA_PARTY,
            persons=[register.aytursun],
            liaisons=[liaisons.ma_jianhua],
            cost=Decimal("860.50"),
        ),
    )


def listed(response):
    assert response.status_code == 200
    return {m.title for m in response.context["page"]}


# ---------------------------------------------------------------- scoping and denial


def test_sub_district_staff_list_their_meetings_only(world, meetings, login):
    titles = listed(login(world.pingjiang_staff).get(LIST))
    assert titles == {"平江街道片长会议", "平江路社区民族政策宣讲", "平江路联络组学习会"}


def test_canglang_staff_cannot_see_pingjiang_meetings(world, meetings, login):
    client = login(world.canglang_staff)
    assert listed(client.get(LIST)) == {"道前社区古尔邦节茶话会"}
    for meeting in (meetings.subdistrict, meetings.community, meetings.group):
        assert client.get(url("meeting-detail", meeting)).status_code == 404
        assert client.get(url("meeting-edit", meeting)).status_code == 404
        assert client.post(url("meeting-archive", meeting)).status_code == 404


def test_daoqian_liaison_cannot_see_a_pingjiang_community_meeting(world, meetings, login):
    client = login(world.daoqian_liaison)
    assert client.get(url("meeting-detail", meetings.community)).status_code == 404
    assert client.get(url("meeting-edit", meetings.group)).status_code == 404
    assert client.post(url("meeting-restore", meetings.community)).status_code == 404
    assert listed(client.get(LIST)) == {"道前社区古尔邦节茶话会"}


def test_a_meeting_that_does_not_exist_is_a_404(world, login):
    client = login(world.bureau)
    assert client.get(reverse("outreach:meeting-detail", args=[987654])).status_code == 404


def test_pingjianglu_liaison_sees_their_community_but_not_the_sub_district(world, meetings, login):
    client = login(world.pingjianglu_liaison)
    assert listed(client.get(LIST)) == {"平江路社区民族政策宣讲", "平江路联络组学习会"}
    assert client.get(url("meeting-detail", meetings.community)).status_code == 200
    assert client.get(url("meeting-detail", meetings.subdistrict)).status_code == 404


def test_pingjianglu_liaison_edits_their_group_meeting_only(world, meetings, login):
    client = login(world.pingjianglu_liaison)
    # a meeting held by the sub-district: not theirs to change
    assert client.get(url("meeting-edit", meetings.subdistrict)).status_code == 404
    assert client.post(url("meeting-edit", meetings.subdistrict), {}).status_code == 404
    assert client.post(url("meeting-archive", meetings.subdistrict)).status_code == 404
    # a meeting the community held: they may read it, not change it
    assert client.get(url("meeting-edit", meetings.community)).status_code == 404
    assert client.post(url("meeting-archive", meetings.community)).status_code == 404
    page = client.get(url("meeting-detail", meetings.community))
    assert page.context["may_change"] is False
    assert url("meeting-edit", meetings.community) not in page.content.decode()
    # their own group's meeting
    assert client.get(url("meeting-edit", meetings.group)).status_code == 200
    assert client.get(url("meeting-detail", meetings.group)).context["may_change"] is True


def test_liaison_changes_their_group_meeting(world, meetings, liaisons, login):
    client = login(world.pingjianglu_liaison)
    data = {
        "kind": MeetingKind.STUDY,
        "title": "平江路联络组学习会（补记）",
        "held_on": meetings.group.held_on.isoformat(),
        "venue": "平江路社区民族之家",
        "attending_liaisons": [liaisons.bai_mei.pk],
        "other_attendees": "2",
        "cost": "４５",
        "minutes": "学习《民族区域自治法》。",
        "decisions": "",
    }
    response = client.post(url("meeting-edit", meetings.group), data)
    assert response.status_code == 302
    meetings.group.refresh_from_db()
    assert meetings.group.title == "平江路联络组学习会（补记）"
    assert meetings.group.cost == Decimal("45")
    assert list(meetings.group.attending_liaisons.all()) == [liaisons.bai_mei]
    assert meetings.group.liaison_group == world.pingjianglu_group
    last = meetings.group.history.first()
    assert last.history_user == world.pingjianglu_liaison


def test_an_attendee_the_editor_cannot_see_stays_on_record_unnamed(
    world, meetings, register, login
):
    meetings.group.attending_persons.add(register.bai_lan)  # 干将社区: not the liaison's
    client = login(world.pingjianglu_liaison)
    page = client.get(url("meeting-detail", meetings.group))
    assert page.context["hidden_attendees"] == 1
    assert "白兰" not in page.content.decode()
    form = client.get(url("meeting-edit", meetings.group)).context["form"]
    assert register.bai_lan.pk not in {
        pk for pk, _l in form.fields["attending_persons"].widget.choices
    }
    data = {
        "kind": MeetingKind.STUDY,
        "title": "平江路联络组学习会",
        "held_on": meetings.group.held_on.isoformat(),
        "other_attendees": "0",
        "cost": "0",
    }
    assert client.post(url("meeting-edit", meetings.group), data).status_code == 302
    assert list(meetings.group.attending_persons.all()) == [register.bai_lan]
    # staff of the sub-district see her by name
    staff_page = login(world.pingjiang_staff).get(url("meeting-detail", meetings.group))
    assert staff_page.context["hidden_attendees"] == 0
    assert "白兰" in staff_page.content.decode()


def test_without_a_post_every_page_is_refused(world, meetings, login):
    client = login(world.no_post)
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("outreach:meeting-create")).status_code == 403
    assert client.get(url("meeting-detail", meetings.community)).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.post(url("meeting-archive", meetings.community)).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(meetings, client):
    response = client.get(url("meeting-detail", meetings.community))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_archive_and_restore_accept_only_post(world, meetings, login):
    client = login(world.pingjiang_staff)
    assert client.get(url("meeting-archive", meetings.community)).status_code == 405
    assert client.get(url("meeting-restore", meetings.community)).status_code == 405


# ---------------------------------------------------------------- archive and restore


def test_an_archived_meeting_is_kept_with_its_history_and_can_be_restored(world, meetings, login):
    client = login(world.pingjiang_staff)
    meeting = meetings.community
    response = client.post(url("meeting-archive", meeting))
    assert response["Location"] == url("meeting-detail", meeting)
    meeting.refresh_from_db()
    assert meeting.archived_at is not None
    assert meeting.history.first().history_change_reason == "archived"
    assert meeting.history.first().history_user == world.pingjiang_staff
    assert "平江路社区民族政策宣讲" not in listed(client.get(LIST))
    assert listed(client.get(LIST, {"archived": "on"})) == {"平江路社区民族政策宣讲"}
    detail = client.get(url("meeting-detail", meeting))
    assert detail.status_code == 200
    assert url("meeting-restore", meeting) in detail.content.decode()
    # an archived meeting is restored before it is changed
    assert client.get(url("meeting-edit", meeting)).status_code == 302

    client.post(url("meeting-restore", meeting))
    meeting.refresh_from_db()
    assert meeting.archived_at is None
    assert meeting.history.first().history_change_reason == "restored"
    assert "平江路社区民族政策宣讲" in listed(client.get(LIST))
    entries = client.get(url("meeting-detail", meeting)).context["history"]
    reasons = [e.reason for e in entries]
    assert len([r for r in reasons if r]) == 2
    assert entries[0].user == world.pingjiang_staff


def test_liaison_archives_their_group_meeting(world, meetings, login):
    client = login(world.pingjianglu_liaison)
    assert client.post(url("meeting-archive", meetings.group)).status_code == 302
    meetings.group.refresh_from_db()
    assert meetings.group.is_archived
    assert Meeting.objects.filter(pk=meetings.group.pk).exists()


# ---------------------------------------------------------------- detail


def test_the_detail_page_shows_the_whole_record(
    world, meetings, register, login, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    from outreach.photos import save_photos, shrunk_jpeg

    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(out, "PNG")
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = save_photos(
        [shrunk_jpeg(SimpleUploadedFile("a.png", out.getvalue()))],
        by=world.pingjiang_staff,
        meeting=meetings.community,
    )[0]
    client = login(world.pingjianglu_staff)
    response = client.get(url("meeting-detail", meetings.community))
    page = response.content.decode()
    assert "平江路社区民族政策宣讲" in page
    assert "平江路社区民族之家" in page
    assert "马晓东" in page and "哈丽娜" in page
    assert "平江路112号3幢201室" in page
    assert register.ma_xiaodong.id_number not in page
    assert reverse("outreach:photo", args=[photo.pk]) in page
    assert response.context["meeting"].attendee_total == 2
    assert [e.kind for e in response.context["history"]] == ["+"]  # with its attendees
    assert client.get(reverse("outreach:photo", args=[photo.pk])).status_code == 200
    # a photo of a pingjiang meeting is no business of 道前
    other = login(world.daoqian_liaison)
    assert other.get(reverse("outreach:photo", args=[photo.pk])).status_code == 404
    assert Photo.objects.count() == 1


def test_history_names_who_changed_what(world, meetings, liaisons, login):
    client = login(world.pingjiang_staff)
    data = {
        "kind": MeetingKind.ZONE_HEAD,
        "title": "平江街道片长会议",
        "held_by": f"area:{world.pingjiang.pk}",
        "held_on": meetings.subdistrict.held_on.isoformat(),
        "venue": "平江街道办事处三楼会议室",
        "attending_users": [world.pingjiang_staff.pk],
        "attending_liaisons": [liaisons.bai_mei.pk],
        "other_attendees": "3",
        "cost": "200",
    }
    assert client.post(url("meeting-edit", meetings.subdistrict), data).status_code == 302
    entries = client.get(url("meeting-detail", meetings.subdistrict)).context["history"]
    newest = entries[0]
    assert newest.user == world.pingjiang_staff
    with translation.override("zh-hans"):
        venue = str(Meeting._meta.get_field("venue").verbose_name)
        staff = str(Meeting._meta.get_field("attending_users").verbose_name)
    assert set(newest.fields) == {venue}
    # the record was created with no staff attending; the fixture added them in one go
    assert [e.kind for e in entries] == ["~", "+"]
    assert staff not in newest.fields


# ---------------------------------------------------------------- list filters


def test_the_list_filters_by_kind_area_group_dates_and_attendee(world, meetings, login):
    client = login(world.bureau)
    assert listed(client.get(LIST, {"kind": MeetingKind.TEA_PARTY})) == {"道前社区古尔邦节茶话会"}
    assert listed(client.get(LIST, {"area": world.pingjianglu.pk})) == {
        "平江路社区民族政策宣讲",
        "平江路联络组学习会",
    }
    assert listed(client.get(LIST, {"group": world.pingjianglu_group.pk})) == {"平江路联络组学习会"}
    make_meeting(world.pingjiang, title="去年的座谈会", held_on=ago(400), other_attendees=9)
    assert listed(client.get(LIST, {"date_to": ago(300).isoformat()})) == {"去年的座谈会"}
    response = client.get(LIST, {"attendee": world.pingjiang_staff.pk})
    assert listed(response) == {"平江街道片长会议"}
    # the attendee filter does not narrow the count: staff, liaison and 3 others
    assert [m.attendee_total for m in response.context["page"]] == [5]


def test_filters_that_do_not_fit_are_dropped_not_an_error(world, meetings, login):
    client = login(world.pingjiang_staff)
    response = client.get(
        LIST, {"kind": "dance", "area": world.daoqian.pk, "date_from": "2025-13-01", "page": "９９"}
    )
    assert listed(response) == {"平江街道片长会议", "平江路社区民族政策宣讲", "平江路联络组学习会"}


def test_the_list_row_counts_every_kind_of_attendee(world, meetings, login):
    rows = {m.title: m for m in login(world.bureau).get(LIST).context["page"]}
    assert rows["平江街道片长会议"].attendee_total == 1 + 1 + 3
    assert rows["平江路社区民族政策宣讲"].attendee_total == 2
    assert rows["平江路联络组学习会"].attendee_total == 2
    assert rows["道前社区古尔邦节茶话会"].attendee_total == 2
    assert rows["道前社区古尔邦节茶话会"].cost == Decimal("860.50")


def add_meetings(world, register, liaisons, count):
    for i in range(count):
        person = PersonFactory(household=register.ma_household, name=f"马{i}号")
        make_meeting(
            world.pingjianglu if i % 2 else world.pingjiang,
            group=world.pingjianglu_group if i % 3 == 0 else None,
            title=f"第{i}次联络员会议",
            users=[world.pingjiang_staff, world.pingjianglu_staff],
            liaisons=[liaisons.bai_mei, liaisons.ma_xiaodong],
            persons=[person, register.ma_wife],
            other_attendees=i,
        )


def list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
        assert response.status_code == 200
    return len(queries), len(response.context["page"])


def test_the_list_takes_the_same_number_of_queries_at_any_size(world, register, liaisons, login):
    client = login(world.pingjiang_staff)
    add_meetings(world, register, liaisons, 3)
    small, shown_small = list_queries(client)
    add_meetings(world, register, liaisons, 40)
    large, shown_large = list_queries(client)
    assert (shown_small, shown_large) == (3, 43)
    assert small == large


# ---------------------------------------------------------------- export


def xlsx_rows(response):
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def test_the_export_is_logged_and_scoped(world, meetings, login):
    client = login(world.canglang_staff)
    rows = xlsx_rows(client.get(EXPORT))
    assert len(rows) == 2
    assert rows[1][2] == "道前社区古尔邦节茶话会"
    assert "阿依吐尔逊" in rows[1][8]
    log = ExportLog.objects.get()
    assert (log.user, log.exporter, log.row_count) == (world.canglang_staff, "outreach_meetings", 1)


def test_the_export_follows_the_filters(world, meetings, login):
    client = login(world.pingjiang_staff)
    rows = xlsx_rows(client.get(EXPORT, {"area": world.pingjianglu.pk}))
    assert sorted(r[2] for r in rows[1:]) == ["平江路社区民族政策宣讲", "平江路联络组学习会"]
    log = ExportLog.objects.get()
    assert log.area == world.pingjianglu
    assert log.row_count == 2
    assert log.filters["area"] == str(world.pingjianglu)


def test_the_export_defuses_formulas(world, login):
    make_meeting(world.pingjiang, title='=HYPERLINK("http://x")', other_attendees=2)
    rows = xlsx_rows(login(world.pingjiang_staff).get(EXPORT))
    assert not str(rows[1][2]).startswith("=")


def test_liaisons_may_not_export(world, meetings, login):
    response = login(world.pingjianglu_liaison).get(EXPORT)
    assert response.status_code == 403
    assert not ExportLog.objects.exists()


def test_the_export_takes_the_same_number_of_queries_at_any_size(world, register, liaisons, login):
    client = login(world.pingjiang_staff)
    add_meetings(world, register, liaisons, 2)
    with CaptureQueriesContext(connection) as small:
        xlsx_rows(client.get(EXPORT))
    add_meetings(world, register, liaisons, 20)
    with CaptureQueriesContext(connection) as large:
        xlsx_rows(client.get(EXPORT))
    assert len(small) == len(large)
