"""The visit list: filters, what a row shows, a constant number of queries whatever the
number of visits, and the logged xlsx export."""

import io
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from network.models import ExportLog
from outreach.models import FollowUpStatus, VisitKind
from tests.factories import HouseholdFactory
from tests.outreach.test_visits_support import (
    add_assistance,
    add_follow_up,
    make_visit,
    mid_autumn,
    url,
)


def full_visit(world, liaisons, household, *, festival=None, days_ago=3):
    visit = make_visit(
        household,
        group=world.pingjianglu_group,
        by=world.pingjianglu_liaison,
        days_ago=days_ago,
        kind=VisitKind.FESTIVAL if festival else VisitKind.CARE,
        festival=festival,
        other_visitors="社区卫生站医生",
    )
    visit.visitors.add(world.pingjianglu_staff)
    visit.visiting_liaisons.add(liaisons.bai_mei, liaisons.ma_xiaodong)
    add_follow_up(visit, due_in=-1)
    add_follow_up(visit, due_in=10, status=FollowUpStatus.DONE)
    add_assistance(visit, "200")
    add_assistance(visit, "50.50", kind="goods")
    return visit


def rows_of(response):
    return list(response.context["page"])


def test_a_row_shows_its_figures(world, register, liaisons, login):
    visit = full_visit(world, liaisons, register.ma_household, festival=mid_autumn())
    response = login(world.pingjianglu_staff).get(url("visit-list"))
    (row,) = rows_of(response)
    assert row == visit
    assert row.open_follow_ups == 1  # the done one is not counted
    assert row.has_overdue
    assert row.assistance_total == Decimal("250.50")
    assert sorted(row.visitor_names[:2]) == sorted(["白梅", "周晓红"])  # accounts
    assert row.visitor_names[2:] == ["白梅", "马晓东", "社区卫生站医生"]  # liaisons, others
    page = response.content.decode()
    assert "平江路112号3幢201室" in page and "平江路社区" in page and "中秋节" in page
    assert "¥250.50" in page


def test_the_list_costs_the_same_queries_whatever_its_size(world, register, liaisons, login):
    """Every row has visitors, liaisons, follow-ups, assistance and a festival or not."""
    client = login(world.pingjiang_staff)
    counts = []
    festival = mid_autumn()
    for extra in (3, 15):
        for i in range(extra):
            household = HouseholdFactory(community=world.pingjianglu)
            full_visit(world, liaisons, household, festival=festival if i % 2 else None, days_ago=i)
        client.get(url("visit-list"))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("visit-list") + "?follow_ups=open&q=平江路")
        assert len(rows_of(response)) == {3: 3, 15: 18}[extra]
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 12


def test_filters(world, register, liaisons, login):
    festival = mid_autumn()
    ma = full_visit(world, liaisons, register.ma_household, festival=festival)
    plain = make_visit(register.bai_household, by=world.pingjiang_staff, days_ago=40)
    quiet = make_visit(register.ma_household, group=world.pingjianglu_group, days_ago=10)
    add_follow_up(quiet, due_in=5)
    client = login(world.pingjiang_staff)

    def listed(query):
        return [v.pk for v in rows_of(client.get(url("visit-list") + query))]

    assert listed("") == [ma.pk, quiet.pk, plain.pk]
    assert listed("?kind=festival") == [ma.pk]
    assert listed(f"?festival={festival.pk}") == [ma.pk]
    assert listed(f"?visitor={world.pingjiang_staff.pk}") == [plain.pk]
    assert listed("?follow_ups=open") == [ma.pk, quiet.pk]
    assert listed("?follow_ups=overdue") == [ma.pk]
    assert listed("?q=干将东路") == [plain.pk]
    assert listed(f"?area={world.ganjiang.pk}") == [plain.pk]
    assert listed(f"?group={world.pingjianglu_group.pk}") == [ma.pk, quiet.pk]
    since = (timezone.localdate() - timezone.timedelta(days=20)).isoformat()
    assert listed(f"?date_from={since}") == [ma.pk, quiet.pk]
    # values that do not fit are dropped, never an error page
    assert listed(
        "?kind=nonsense&visitor=abc&festival=99999999999999999999&date_to=2024-02-31"
    ) == [
        ma.pk,
        quiet.pk,
        plain.pk,
    ]
    # a visitor outside scope is no filter either (and reveals nothing)
    assert listed(f"?visitor={world.daoqian_liaison.pk}") == [ma.pk, quiet.pk, plain.pk]


# ---------------------------------------------------------------- export


def test_the_export_writes_the_filtered_visits_and_is_logged(world, register, liaisons, login):
    festival = mid_autumn()
    full_visit(world, liaisons, register.ma_household, festival=festival)
    make_visit(register.bai_household, days_ago=10, learned='=HYPERLINK("http://x")')
    make_visit(register.daoqian_household, group=world.daoqian_group)
    client = login(world.pingjiang_staff)
    response = client.get(url("visit-export") + f"?area={world.pingjianglu.pk}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 2  # header and the one visit of 平江路社区
    row = rows[1]
    assert row[0] == "平江路112号3幢201室"
    assert row[1] == "平江路社区"
    assert row[4] == "中秋节"
    assert "马晓东" in row[5] and "社区卫生站医生" in row[5]
    assert "联系民政科办理助行器申请" in row[8]
    assert Decimal(str(row[9])) == Decimal("250.50")
    log = ExportLog.objects.get()
    assert (log.user, log.exporter, log.row_count) == (world.pingjiang_staff, "outreach.visits", 1)
    assert log.area == world.pingjianglu
    assert log.filters == {"area": str(world.pingjianglu)}

    everything = client.get(url("visit-export"))
    book = load_workbook(io.BytesIO(b"".join(everything.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 3  # not the daoqian visit
    assert all(not str(cell).startswith("=") for row in rows for cell in row if cell)
    assert ExportLog.objects.count() == 2


def test_a_liaison_may_not_export(world, register, login):
    make_visit(register.ma_household, group=world.pingjianglu_group)
    assert login(world.pingjianglu_liaison).get(url("visit-export")).status_code == 403
    assert not ExportLog.objects.exists()
