"""Every user's home page lists their own work (issue 4 §6): follow-ups due (overdue ones
first and marked), visits due under their pairings, consultations they handle, and how many
items are overdue — only what they may see, in a constant number of queries."""

import datetime

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outreach.home import my_work
from outreach.models import (
    Channel,
    Consultation,
    ConsultationStatus,
    FollowUp,
    FollowUpStatus,
    Pairing,
    PairingKind,
    Topic,
    Visit,
    VisitKind,
)
from tests.factories import HouseholdFactory

HOME = reverse("home")


def today():
    return timezone.localdate()


def days(n):
    return today() + datetime.timedelta(days=n)


def visit_of(household, *, group=None, by=None, on=None):
    return Visit.objects.create(
        household=household,
        liaison_group=group,
        kind=VisitKind.CARE,
        visited_on=on or days(-20),
        created_by=by,
    )


def panel_of(client):
    response = client.get(HOME)
    assert response.status_code == 200
    panels = [panel for template, panel in response.context["panels"] if "my_work" in template]
    return panels[0] if panels else None


def test_overdue_follow_up_is_shown_to_its_assignee_first_and_marked(world, register, login):
    visit = visit_of(register.ma_household, group=world.pingjianglu_group)
    later = FollowUp.objects.create(
        visit=visit, action="送中秋慰问品", due_on=days(10), assignee=world.pingjianglu_liaison
    )
    overdue = FollowUp.objects.create(
        visit=visit, action="协助办理低保补差", due_on=days(-3), assignee=world.pingjianglu_liaison
    )
    client = login(world.pingjianglu_liaison)
    panel = panel_of(client)
    assert panel["follow_ups"] == [overdue, later]
    assert [f.overdue for f in panel["follow_ups"]] == [True, False]
    assert panel["follow_ups_overdue"] == 1
    assert panel["overdue"] == 1
    page = client.get(HOME).content.decode()
    assert "协助办理低保补差" in page
    assert f'href="{reverse("outreach:visit-detail", args=[visit.pk])}"' in page
    assert "list-group-item-danger" in page
    assert f'href="{reverse("outreach:log-home")}"' in page  # 快速记录


def test_overdue_follow_up_is_not_shown_to_another_communitys_liaison(world, register, login):
    visit = visit_of(register.ma_household, group=world.pingjianglu_group)
    FollowUp.objects.create(
        visit=visit, action="协助办理低保补差", due_on=days(-3), assignee=world.pingjianglu_liaison
    )
    # Even assigned to them, a follow-up where they cannot see is not theirs to see.
    FollowUp.objects.create(
        visit=visit, action="联系道前社区", due_on=days(-2), assignee=world.daoqian_liaison
    )
    client = login(world.daoqian_liaison)
    panel = panel_of(client)
    assert panel["follow_ups"] == []
    assert panel["overdue"] == 0
    page = client.get(HOME).content.decode()
    assert "协助办理低保补差" not in page and "联系道前社区" not in page


def test_unassigned_follow_ups_of_visits_the_user_recorded_are_theirs(world, register, login):
    mine = visit_of(register.ma_household, by=world.pingjianglu_staff)
    theirs = visit_of(register.ma_household, by=world.pingjianglu_liaison)
    shown = FollowUp.objects.create(visit=mine, action="回访", due_on=days(5))
    FollowUp.objects.create(visit=theirs, action="别人的回访", due_on=days(5))
    FollowUp.objects.create(  # assigned to someone else: not mine although I recorded it
        visit=mine, action="转交", due_on=days(5), assignee=world.pingjianglu_liaison
    )
    assert panel_of(login(world.pingjianglu_staff))["follow_ups"] == [shown]


def test_done_dropped_and_archived_follow_ups_are_not_listed(world, register, login):
    visit = visit_of(register.ma_household, by=world.pingjianglu_staff)
    archived = visit_of(register.ma_household, by=world.pingjianglu_staff)
    archived.archived_at = timezone.now()
    archived.save()
    for status in (FollowUpStatus.DONE, FollowUpStatus.DROPPED):
        FollowUp.objects.create(visit=visit, action="已办", due_on=days(-5), status=status)
    FollowUp.objects.create(visit=archived, action="已归档", due_on=days(-5))
    panel = panel_of(login(world.pingjianglu_staff))
    assert panel["follow_ups"] == []
    assert panel["overdue"] == 0


def test_visits_due_under_the_users_pairings(world, register, liaisons, login):
    start = days(-200)
    # 365 visits a year: at least one is due every day, so the test holds on 1 January too.
    behind = Pairing.objects.create(
        household=register.ma_household,
        kind=PairingKind.COMMITTEE_RESIDENT,
        partner_user=world.pingjianglu_staff,
        start_date=start,
        visits_per_year=365,
    )
    Pairing.objects.create(  # another official's pairing
        household=register.bai_household,
        kind=PairingKind.COMMITTEE_RESIDENT,
        partner_user=world.pingjiang_staff,
        start_date=start,
        visits_per_year=365,
    )
    client = login(world.pingjianglu_staff)
    panel = panel_of(client)
    assert [row["pairing"] for row in panel["visits_due"]] == [behind]
    assert panel["visits_due"][0]["done"] == 0
    assert panel["visits_due"][0]["expected"] >= 1
    assert panel["overdue"] == 1
    page = client.get(HOME).content.decode()
    assert f'href="{reverse("outreach:pairing-detail", args=[behind.pk])}"' in page
    assert f"{reverse('outreach:log-visit')}?household={register.ma_household.pk}" in page
    assert panel_of(login(world.daoqian_liaison))["visits_due"] == []


def test_liaisons_pairing_through_their_liaison_record(world, register, liaisons, login):
    pairing = Pairing.objects.create(
        household=register.ma_household,
        kind=PairingKind.LIAISON_RESIDENT,
        partner_liaison=liaisons.bai_mei,
        start_date=days(-200),
        visits_per_year=365,
    )
    panel = panel_of(login(world.pingjianglu_liaison))
    assert [row["pairing"] for row in panel["visits_due"]] == [pairing]


def test_consultations_the_user_handles_with_days_open(world, register, login):
    received = timezone.now() - datetime.timedelta(days=6)
    open_one = Consultation.objects.create(
        community=world.pingjianglu,
        person=register.ma_xiaodong,
        channel=Channel.WALK_IN,
        topic=Topic.HALAL_FOOD,
        summary="咨询清真食品店铺资质",
        handler=world.pingjianglu_staff,
        received_at=received,
    )
    Consultation.objects.create(
        community=world.pingjianglu,
        visitor="来电群众",
        channel=Channel.HOTLINE,
        topic=Topic.LEGAL,
        summary="已解决",
        handler=world.pingjianglu_staff,
        status=ConsultationStatus.RESOLVED,
        closed_on=today(),
        received_at=received,
    )
    Consultation.objects.create(  # someone else's
        community=world.pingjianglu,
        visitor="来访群众",
        channel=Channel.WALK_IN,
        topic=Topic.POLICY,
        summary="咨询政策",
        handler=world.pingjiang_staff,
        received_at=received,
    )
    client = login(world.pingjianglu_staff)
    panel = panel_of(client)
    assert panel["consultations"] == [open_one]
    assert panel["consultations"][0].days_open == 6
    page = client.get(HOME).content.decode()
    assert f'href="{reverse("outreach:consultation-detail", args=[open_one.pk])}"' in page
    # A liaison has no consultations to handle: the list is not there for them.
    assert "show_consultations" not in panel_of(login(world.pingjianglu_liaison))


@pytest.mark.django_db
def test_no_panel_for_a_user_without_outreach_permissions(world):
    request = RequestFactory().get(HOME)
    request.user = world.no_post
    assert my_work(request) is None
    request.user = world.pingjianglu_liaison
    assert my_work(request) is not None


def _work(world, register, n):
    """``n`` follow-ups, pairings behind and consultations for 平江路 community staff."""
    staff = world.pingjianglu_staff
    for i in range(n):
        household = HouseholdFactory(community=world.pingjianglu, address=f"平江路{300 + i}号")
        visit = visit_of(household, by=staff)
        FollowUp.objects.create(visit=visit, action=f"回访{i}", due_on=days(i - n // 2))
        Pairing.objects.create(
            household=household,
            kind=PairingKind.COMMITTEE_RESIDENT,
            partner_user=staff,
            start_date=days(-200),
            visits_per_year=365,
        )
        Consultation.objects.create(
            community=world.pingjianglu,
            visitor=f"来访群众{i}",
            channel=Channel.WALK_IN,
            topic=Topic.EMPLOYMENT,
            summary="求职咨询",
            handler=staff,
            received_at=timezone.now() - datetime.timedelta(days=i),
        )


@pytest.mark.parametrize("who", ["pingjianglu_staff", "pingjianglu_liaison"])
def test_home_page_queries_do_not_grow_with_the_work(world, register, login, who):
    client = login(getattr(world, who))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HOME).status_code == 200
        return len(queries)

    _work(world, register, 2)
    small = count()
    _work(world, register, 25)
    assert count() == small
    if who == "pingjianglu_staff":
        panel = panel_of(client)
        assert len(panel["follow_ups"]) == 10  # the first ten, the rest counted
        assert panel["follow_ups_total"] == 27
        assert panel["visits_due_total"] == 27
        assert panel["consultations_total"] == 27
