"""``seed_demo`` adds the liaison network's people and years of its work to the demo district:
in every sub-district, never in the future, the same for a seed, and only once."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from network.models import Area, AreaLevel, LiaisonGroup
from outreach.festivals import festival_dates
from outreach.models import (
    Assistance,
    Consultation,
    Festival,
    FollowUp,
    GroupMembership,
    GroupPosition,
    Liaison,
    Meeting,
    MeetingKind,
    Pairing,
    Visit,
    VisitKind,
    WorkGroup,
    WorkGroupKind,
    WorkGroupPosition,
    ZonePosition,
    ZonePost,
)
from residents.models import Household

SMALL = ("--households", "60", "--years", "1")
MODELS = [
    Liaison,
    GroupMembership,
    ZonePost,
    WorkGroup,
    Pairing,
    Visit,
    Visit.visitors.through,
    Visit.visiting_liaisons.through,
    FollowUp,
    Assistance,
    Meeting,
    Meeting.attending_liaisons.through,
    Meeting.attending_persons.through,
    Consultation,
]
FOUR_FESTIVALS = ["元宵节", "七一建党节", "中秋节", "国庆节"]
MUSLIM = ["03", "05", "17", "26", "29", "35", "41", "43", "47", "50"]


def seed(*args, seed=4):
    out = io.StringIO()
    call_command("seed_demo", "--seed", str(seed), *args, stdout=out)
    return out.getvalue()


def counts():
    return {model._meta.label: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def seeded(module_db):
    """Built once for the module (tests that seed for themselves: test_demo_runs.py)."""
    seed(*SMALL)


@pytest.fixture
def demo(seeded, db):
    """Each test in a savepoint of the module's seeded database."""


def subdistricts():
    return Area.objects.filter(level=AreaLevel.SUBDISTRICT, code__startswith="320508")


def test_every_subdistrict_has_visits_meetings_consultations_and_pairings(demo):
    assert subdistricts().count() == 3
    for sub in subdistricts():
        inside = sub.path
        assert Visit.objects.filter(community__path__startswith=inside).count() > 50, sub
        assert Meeting.objects.filter(area__path__startswith=inside).count() > 20, sub
        assert Consultation.objects.filter(community__path__startswith=inside).count() > 10, sub
        assert Pairing.objects.filter(community__path__startswith=inside).exists(), sub
    assert FollowUp.objects.exists() and Assistance.objects.exists()
    assert Visit.visitors.through.objects.exists()
    assert Meeting.attending_liaisons.through.objects.exists()


def test_nothing_is_dated_in_the_future_or_before_the_years_asked(demo):
    today = timezone.localdate()
    first = today - datetime.timedelta(days=366)
    assert not Visit.objects.filter(Q(visited_on__gt=today) | Q(visited_on__lt=first)).exists()
    assert not Meeting.objects.filter(Q(held_on__gt=today) | Q(held_on__lt=first)).exists()
    assert not Consultation.objects.filter(received_at__gt=timezone.now()).exists()
    assert not Consultation.objects.filter(closed_on__gt=today).exists()
    assert not FollowUp.objects.filter(done_on__gt=today).exists()
    assert not FollowUp.objects.filter(due_on__lt=F("visit__visited_on")).exists()
    assert not GroupMembership.objects.filter(start_date__gt=today).exists()
    assert not Pairing.objects.filter(start_date__gt=today).exists()
    for consultation in Consultation.objects.exclude(closed_on=None):
        assert consultation.days_to_resolve >= 0


def test_liaison_groups_have_leaders_residents_and_the_liaison_accounts(demo):
    today = timezone.localdate()
    for group in LiaisonGroup.objects.filter(community__code__startswith="320508"):
        current = GroupMembership.objects.filter(group=group, start_date__lte=today).filter(
            Q(end_date=None) | Q(end_date__gte=today)
        )
        assert current.filter(position=GroupPosition.LEADER).count() == 1, group
        assert current.filter(liaison__person__isnull=False).count() >= 2, group
    # a resident liaison is a person of the community the liaison serves
    assert Liaison.objects.filter(person__isnull=False).exists()
    assert (
        not Liaison.objects.filter(person__isnull=False)
        .exclude(person__household__community=F("community"))
        .exists()
    )
    for username in ("daoqian_llz", "pingjianglu_llz"):
        liaison = Liaison.objects.get(user__username=username)
        assert liaison.memberships.get().position == GroupPosition.LEADER
    former = GroupMembership.objects.filter(end_date__lt=today)
    assert former.exists() and not former.filter(liaison__archived_at=None).exists()


def test_zones_and_subdistricts_have_their_posts_and_groups(demo):
    for zone in Area.objects.filter(level=AreaLevel.ZONE):
        positions = set(ZonePost.objects.filter(zone=zone).values_list("position", flat=True))
        assert positions == {ZonePosition.HEAD, ZonePosition.LIAISON}, zone
    for sub in subdistricts():
        kinds = set(WorkGroup.objects.filter(subdistrict=sub).values_list("kind", flat=True))
        assert kinds == {WorkGroupKind.LEADERSHIP, WorkGroupKind.COORDINATION}
        leadership = WorkGroup.objects.get(subdistrict=sub, kind=WorkGroupKind.LEADERSHIP)
        head = leadership.members.get(position=WorkGroupPosition.HEAD)
        assert "分管" in head.title
        assert leadership.members.filter(user__isnull=False).exists()  # the sub-district's staff
        coordination = WorkGroup.objects.get(subdistrict=sub, kind=WorkGroupKind.COORDINATION)
        assert coordination.members.filter(position=WorkGroupPosition.MEMBER_UNIT).count() >= 5


def test_visits_follow_the_festivals_and_the_hardship_schedule(demo):
    today = timezone.localdate()
    for name in FOUR_FESTIVALS:
        festival = Festival.objects.get(name=name)
        days = [
            d
            for year in (today.year - 1, today.year, today.year + 1)
            for d in festival_dates(festival, year)
        ]
        visits = Visit.objects.filter(festival=festival)
        in_window = [d for d in days if today - datetime.timedelta(days=350) < d < today]
        if in_window:
            assert visits.exists(), name
        for visited_on in visits.values_list("visited_on", flat=True):
            assert any(-2 <= (d - visited_on).days <= 12 for d in days), (name, visited_on)
    # Muslim festivals: only households with a member of a Muslim group
    islamic = Visit.objects.filter(festival__calendar="islamic")
    assert not islamic.exclude(household__members__ethnicity__code__in=MUSLIM).exists()
    hardship = Q(is_dibao=True) | Q(is_low_income=True) | Q(has_disability=True)
    hardship |= Q(is_elderly_alone=True) | Q(has_serious_illness=True) | ~Q(other_hardship="")
    poor = Household.objects.filter(hardship)
    assert Visit.objects.filter(kind=VisitKind.HARDSHIP).exists()
    assert not Visit.objects.filter(kind=VisitKind.HARDSHIP).exclude(household__in=poor).exists()
    assert not Visit.objects.exclude(community=F("household__community")).exists()
    assert not Visit.objects.exclude(liaison_group__community=F("community")).exists()
    assert Assistance.objects.filter(value__gt=0).exists()


def test_meetings_follow_the_schedules(demo):
    groups = LiaisonGroup.objects.filter(community__code__startswith="320508")
    studies = dict(
        Meeting.objects.filter(kind=MeetingKind.STUDY)
        .values_list("liaison_group")
        .annotate(n=Count("id"))
    )
    for group in groups:
        assert studies.get(group.pk, 0) >= 16, group  # twice a month, a few missed
    for sub in subdistricts():
        liaison = Meeting.objects.filter(area=sub, kind=MeetingKind.LIAISON).count()
        assert 3 <= liaison <= 5, sub  # every quarter
        zone_head = Meeting.objects.filter(area=sub, kind=MeetingKind.ZONE_HEAD).count()
        assert 1 <= zone_head <= 3, sub  # twice a year
    assert not (
        Meeting.objects.filter(liaison_group__isnull=False)
        .exclude(area=F("liaison_group__community"))
        .exists()
    )
    for meeting in Meeting.objects.filter(kind=MeetingKind.STUDY)[:20]:
        assert meeting.attending_liaisons.exists()


class _Rollback(Exception):
    pass


def fingerprint():
    return (
        counts(),
        list(
            Visit.objects.order_by(
                "visited_on", "household__ledger_number", "kind", "learned"
            ).values_list(
                "visited_on",
                "household__ledger_number",
                "kind",
                "festival__name",
                "learned",
                "needs",
            )
        ),
        sorted(Liaison.objects.values_list("name", "community__name", "mobile")),
        sorted(
            Consultation.objects.values_list("received_at", "topic", "status", "closed_on"),
            key=str,
        ),
    )


def test_a_second_run_adds_nothing(demo):
    before = counts()
    output = seed(*SMALL)
    assert "keeping" in output
    assert counts() == before
