"""The four outreach lists (visits, meetings, consultations, pairings) keep their rows by the
ids of the user's areas (``selectors_visits.visible_by_area_ids``) and draw their filters'
drop-downs in Python (``forms_visits.QuickFilters``): the same rows as ``visible_to`` for
every user, and the same HTML as Django's widgets."""

import datetime
from html.parser import HTMLParser

import pytest
from django.http import QueryDict
from django.utils import timezone

from outreach.forms_consultations import ConsultationFilterForm
from outreach.forms_meetings import MeetingFilterForm
from outreach.forms_pairings import PairingFilterForm
from outreach.forms_visits import VisitFilterForm
from outreach.models import (
    Channel,
    Consultation,
    Meeting,
    MeetingKind,
    Pairing,
    PairingKind,
    Topic,
    Visit,
    VisitKind,
)
from outreach.selectors_consultations import consultations_for
from outreach.selectors_meetings import meeting_list
from outreach.selectors_pairings import pairing_rows
from outreach.selectors_visits import visible_areas, visit_list
from tests.factories import HouseholdFactory


@pytest.fixture
def records(world):
    """One of each record in every community, a meeting held by the district and by a
    sub-district, and an archived visit."""
    today = timezone.localdate()
    for community in (world.pingjianglu, world.ganjiang, world.daoqian):
        household = HouseholdFactory(community=community)
        Visit.objects.create(household=household, kind=VisitKind.CARE, visited_on=today)
        Consultation.objects.create(
            community=community,
            visitor="来访者",
            channel=Channel.choices[0][0],
            topic=Topic.choices[0][0],
            summary="咨询",
        )
        Pairing.objects.create(
            household=household,
            kind=PairingKind.choices[0][0],
            partner_user=world.bureau,
            start_date=today - datetime.timedelta(days=30),
        )
        Meeting.objects.create(area=community, kind=MeetingKind.LIAISON, held_on=today)
    for area in (world.pingjiang, world.pingjiang.parent):
        Meeting.objects.create(area=area, kind=MeetingKind.LIAISON, held_on=today)
    archived = Visit.objects.create(
        household=HouseholdFactory(community=world.ganjiang), kind=VisitKind.CARE
    )
    Visit.objects.filter(pk=archived.pk).update(archived_at=timezone.now())


def _users(world):
    return [*world.all_role_users(), world.superuser, world.no_post, world.ended_post]


@pytest.mark.parametrize("archived", [False, True])
def test_each_list_shows_the_rows_visible_to_shows(world, records, archived):
    filters = {"archived": True} if archived else {}
    for user in _users(world):
        areas = visible_areas(user)
        lists = {
            Visit: visit_list(user=user, filters=filters, areas=areas),
            Meeting: meeting_list(user=user, filters=filters),
            Consultation: consultations_for(user, areas),
            Pairing: pairing_rows(user),
        }
        for model, listed in lists.items():
            visible = model.objects.visible_to(user)
            if model is Visit or model is Meeting:
                visible = visible.filter(archived_at__isnull=not archived)
            expected = set(visible.values_list("pk", flat=True))
            assert set(listed.values_list("pk", flat=True)) == expected, (user, model)
            assert listed.count() == len(expected)


def _dom(html):
    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, sorted((k, v or "") for k, v in attrs)))

        def handle_endtag(self, tag):
            found.append(("/" + tag,))

        def handle_data(self, data):
            if data.strip():
                found.append(("text", data.strip()))

    Parser().feed(str(html))
    return found


@pytest.mark.parametrize(
    "form_class", [VisitFilterForm, MeetingFilterForm, ConsultationFilterForm, PairingFilterForm]
)
def test_the_quick_filters_draw_what_the_widgets_draw(world, records, form_class):
    chosen = QueryDict(mutable=True)
    chosen.update({"area": str(world.ganjiang.pk), "kind": "care", "status": "ended"})
    for user in (world.bureau, world.pingjianglu_staff, world.superuser):
        for data in (None, chosen):
            plain = form_class(data, user=user)
            quick = form_class(data, user=user)
            quick.share_areas(visible_areas(user))
            drawn = dict((bound.name, html) for bound, html in quick.rendered_filters())
            for bound in plain:
                assert _dom(drawn[bound.name]) == _dom(bound), (user, bound.name)
