"""The audit log page (/network/audit/): reveals and exports leave events, district bureau
staff read and filter the log and export it, everyone else is turned away, and a page costs
the same queries at any size."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from network import audit
from network.exports import client_ip
from network.models import AuditEvent, AuditKind, ExportLog
from residents.models import IdNumberReveal
from tests.residents.conftest import register  # noqa: F401 (fixture)

LOG = reverse("network:audit-log")


def export_url(file_format):
    return reverse("network:audit-export", args=[file_format])


def at(days_ago: int, hour: int = 10) -> datetime.datetime:
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def old_event(kind, days_ago, **fields):
    """An event written some days ago (``at`` is set before the one insert)."""
    event = audit.build(kind, **fields)
    event.at = at(days_ago)
    event.save(force_insert=True)
    return event


# ---------------------------------------------------------------- reveals and exports


def test_a_reveal_is_an_audit_event_about_the_person(world, register, login):  # noqa: F811
    ma = register.ma_xiaodong
    response = login(world.pingjiang_staff).post(
        reverse("residents:person-reveal-id", args=[ma.pk]),
        HTTP_HX_REQUEST="true",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    assert IdNumberReveal.objects.count() == 1  # the reveal log is kept as it was
    event = AuditEvent.objects.get(kind=AuditKind.REVEAL_ID)
    assert (event.object_type, event.object_id) == ("residents.person", str(ma.pk))
    assert event.object_label == "马晓东"
    assert event.area == world.pingjianglu
    assert (event.user, event.ip_address) == (world.pingjiang_staff, "10.1.2.3")
    assert ma.id_number not in str(event.changes) + event.note


def test_an_export_is_an_audit_event_with_its_label_rows_and_filters(
    world,
    register,  # noqa: F811
    login,
):
    response = login(world.bureau).get(
        reverse("residents:person-export"),
        {"format": "csv", "ethnicity": "11"},
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)
    log = ExportLog.objects.get()
    event = AuditEvent.objects.get(kind=AuditKind.EXPORT)
    assert event.user == world.bureau and event.ip_address == "10.9.8.7"
    assert event.changes["rows"] == 1 == log.row_count
    assert event.changes["filters"]["ethnicity"] == "11"
    assert log.label in event.object_label


# ---------------------------------------------------------------- the address


def test_a_forged_forwarded_for_header_is_not_believed_without_a_trusted_proxy(rf):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="8.8.8.8", REMOTE_ADDR="10.0.0.5")
    assert client_ip(request) == "10.0.0.5"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_entry_nginx_appended_is_the_client(rf):
    # the client sent "X-Forwarded-For: 8.8.8.8"; nginx appended the address it saw
    request = rf.get("/", HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.9", REMOTE_ADDR="127.0.0.1")
    assert client_ip(request) == "203.0.113.9"
    assert client_ip(rf.get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"  # no header
    forged = rf.get("/", HTTP_X_FORWARDED_FOR="8.8.8.8, <script>", REMOTE_ADDR="127.0.0.1")
    assert client_ip(forged) is None


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_an_edit_behind_nginx_is_audited_with_the_client_address(world, login):
    url = reverse("network:liaisongroup-update", args=[world.ganjiang_group.pk])
    response = login(world.pingjiang_staff).post(
        url,
        {"community": world.ganjiang.pk, "name": "干将社区民族联络组", "is_active": "on"},
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20",
        REMOTE_ADDR="127.0.0.1",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(kind=AuditKind.CHANGE, object_type="network.liaisongroup")
    assert event.ip_address == "198.51.100.20"
    assert event.changes["name"] == ["干将社区少数民族联络组", "干将社区民族联络组"]
    assert (event.user, event.area) == (world.pingjiang_staff, world.ganjiang)


# ---------------------------------------------------------------- the page


def test_bureau_reads_the_log_with_who_where_what_and_the_change(world, register, login):  # noqa: F811
    household = register.ma_household
    household.address = "平江路112号3幢301室"
    household.save()
    old_event(AuditKind.SIGN_IN_FAILED, 2, username="pingjianglu", ip_address="10.0.0.9")
    response = login(world.bureau).get(LOG)
    assert response.status_code == 200
    text = response.content.decode()
    assert "平江路112号3幢201室" in text and "平江路112号3幢301室" in text
    assert str(AuditKind.SIGN_IN_FAILED.label) in text or "登录失败" in text
    assert "10.0.0.9" in text
    assert reverse("network:audit-log") in login(world.bureau).get(reverse("home")).content.decode()


@pytest.mark.parametrize("who", ["pingjianglu_liaison", "pingjianglu_staff", "pingjiang_staff"])
def test_only_bureau_staff_and_superusers_read_the_log(world, login, who):
    client = login(getattr(world, who))
    assert client.get(LOG).status_code == 403
    assert client.get(export_url("csv")).status_code == 403
    assert reverse("network:audit-log") not in client.get(reverse("home")).content.decode()
    assert not ExportLog.objects.exists()


def test_superuser_reads_the_log(world, login):
    assert login(world.superuser).get(LOG).status_code == 200


def test_a_sub_district_given_the_permission_sees_only_its_own_areas(world, login):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.get(name="sub-district staff")
    group.permissions.add(Permission.objects.get(codename="view_auditevent"))
    audit.record(AuditKind.CHANGE, user=world.pingjianglu_staff, area=world.pingjianglu)
    audit.record(AuditKind.CHANGE, user=world.canglang_staff, area=world.daoqian)
    audit.record(AuditKind.SIGN_IN, user=world.canglang_staff)
    rows = login(world.pingjiang_staff).get(LOG).context["rows"]
    assert [r.event.area for r in rows if r.event.kind == AuditKind.CHANGE] == [world.pingjianglu]
    assert all(r.event.area.path.startswith(world.pingjiang.path) for r in rows)
    assert AuditKind.SIGN_IN not in {r.event.kind for r in rows}


def test_filters_by_user_area_kind_and_dates(world, login):
    old_event(AuditKind.CHANGE, 10, user=world.pingjianglu_staff, area_id=world.pingjianglu.pk)
    old_event(AuditKind.CHANGE, 3, user=world.canglang_staff, area_id=world.daoqian.pk)
    old_event(AuditKind.SIGN_IN, 3, user=world.pingjianglu_staff)
    old_event(AuditKind.EXPORT, 1, user=world.bureau, area_id=world.pingjiang.pk)
    client = login(world.bureau)

    def shown(**params):
        response = client.get(LOG, params)
        assert response.status_code == 200
        rows = response.context["rows"]  # the world's own creation left CREATE events too
        return sorted((r.event.kind, r.event.username) for r in rows if r.event.kind != "create")

    assert shown(who="周晓红") == [("change", "pingjianglu"), ("sign_in", "pingjianglu")]
    assert shown(who="canglang") == [("change", "canglang")]
    # an area means its subtree: 平江街道 holds 平江路社区
    assert shown(area=world.pingjiang.pk) == [("change", "pingjianglu"), ("export", "quminzongju")]
    sign_ins = shown(kind="sign_in")  # the bureau's own sign-in may be there too
    assert ("sign_in", "pingjianglu") in sign_ins and {k for k, _u in sign_ins} == {"sign_in"}
    day = timezone.localdate()
    assert shown(
        date_from=(day - datetime.timedelta(days=4)).isoformat(),
        date_to=(day - datetime.timedelta(days=2)).isoformat(),
    ) == [("change", "canglang"), ("sign_in", "pingjianglu")]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"date_from": "2025-13-40"}, "date_from"),
        ({"date_to": "昨天"}, "date_to"),
        ({"date_from": "2025-06-01", "date_to": "2025-05-01"}, "date_to"),
        ({"kind": "drop table"}, "kind"),
        ({"area": "999999"}, "area"),
    ],
)
def test_bad_filters_get_a_chinese_message_and_no_rows(world, login, params, field):
    audit.record(AuditKind.SIGN_IN, user=world.bureau)
    response = login(world.bureau).get(LOG, params)
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert errors and all(any("\u4e00" <= ch <= "\u9fff" for ch in e) for e in errors)
    assert response.context["rows"] == []


def test_an_area_outside_the_viewers_scope_cannot_be_chosen(world, login):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.get(name="sub-district staff")
    group.permissions.add(Permission.objects.get(codename="view_auditevent"))
    response = login(world.pingjiang_staff).get(LOG, {"area": world.daoqian.pk})
    assert "area" in response.context["form"].errors


def test_a_page_costs_the_same_queries_at_two_sizes(world, login):
    client = login(world.bureau)

    def queries_for(n):
        audit.record_many(
            [
                audit.build(AuditKind.CHANGE, user=world.pingjianglu_staff, area=world.pingjianglu)
                for _ in range(n)
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LOG, {"page": 2}).status_code == 200
        return len(queries)

    queries_for(60)  # warm: session, scope
    assert queries_for(60) == queries_for(600)


# ---------------------------------------------------------------- the export


def test_the_filtered_log_exports_as_xlsx_and_csv_and_the_export_is_logged(world, login):
    old_event(AuditKind.SIGN_IN, 2, user=world.pingjianglu_staff, ip_address="10.0.0.1")
    old_event(
        AuditKind.CHANGE,
        2,
        user=world.pingjianglu_staff,
        area_id=world.pingjianglu.pk,
        changes={"address": ["平江路1号", '=HYPERLINK("http://x")']},
    )
    old_event(AuditKind.CHANGE, 2, user=world.canglang_staff, area_id=world.daoqian.pk)
    client = login(world.bureau)
    response = client.get(export_url("xlsx"), {"who": "pingjianglu"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert len(rows) == 3  # header + the two events of 周晓红
    assert {r[1] for r in rows[1:]} == {"pingjianglu"}
    assert any(str(c).startswith("'") or "→ =" in str(c) for r in rows[1:] for c in r)
    assert not any(isinstance(c, str) and c.startswith("=") for r in rows for c in r)
    log = ExportLog.objects.get()
    assert (log.exporter, log.row_count) == ("network.audit", 2)
    assert log.filters == {"who": "pingjianglu"}
    assert AuditEvent.objects.filter(kind=AuditKind.EXPORT, user=world.bureau).count() == 1

    response = client.get(export_url("csv"), {"kind": "change"})
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 3 and {r[1] for r in rows[1:]} == {"pingjianglu", "canglang"}


def test_an_export_with_bad_filters_writes_nothing(world, login):
    client = login(world.bureau)
    response = client.get(export_url("csv"), {"date_from": "2025-06-01", "date_to": "2025-01-01"})
    assert response.status_code == 400
    assert not ExportLog.objects.exists()
    assert client.get(export_url("pdf")).status_code == 404
