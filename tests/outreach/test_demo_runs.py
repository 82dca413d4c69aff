"""``seed_demo`` adds the liaison network's people and years of its work to the demo district:
in every sub-district, never in the future, the same for a seed, and only once."""

import datetime

import pytest
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from outreach import compliance_cache
from outreach.models import (
    Consultation,
    ConsultationStatus,
    Pairing,
    PairingKind,
    Visit,
    VisitKind,
)
from residents.models import Household
from tests.outreach.test_demo import SMALL, _Rollback, counts, fingerprint, seed

FOUR_FESTIVALS = ["元宵节", "七一建党节", "中秋节", "国庆节"]
MUSLIM = ["03", "05", "17", "26", "29", "35", "41", "43", "47", "50"]


def test_pairings_of_every_kind_and_a_handover(db):
    seed("--households", "150", "--years", "1")
    kinds = set(Pairing.objects.values_list("kind", flat=True))
    friendship = {
        PairingKind.LEADER_KEY_PERSON,
        PairingKind.CADRE_ASSOCIATION,
        PairingKind.COMMITTEE_RESIDENT,
        PairingKind.LIAISON_RESIDENT,
    }
    assert friendship <= kinds
    assert PairingKind.ASSISTANCE in kinds
    handed = Pairing.objects.filter(succeeds__isnull=False).select_related("succeeds")
    for pairing in handed:
        assert pairing.succeeds.end_date is not None
        assert pairing.succeeds.end_date < pairing.start_date
        assert pairing.household_id == pairing.succeeds.household_id
    for pairing in Pairing.objects.select_related("household"):
        assert pairing.community_id == pairing.household.community_id
    assert Visit.objects.filter(kind=VisitKind.PAIRING, pairing__isnull=False).exists()


def test_consultations_cover_every_status_and_channel(db):
    seed("--households", "60", "--years", "2")
    statuses = set(Consultation.objects.values_list("status", flat=True))
    assert {ConsultationStatus.RESOLVED, ConsultationStatus.REFERRED} <= statuses
    assert statuses & {ConsultationStatus.OPEN, ConsultationStatus.IN_PROGRESS}
    assert len(set(Consultation.objects.values_list("channel", flat=True))) == 5
    assert len(set(Consultation.objects.values_list("topic", flat=True))) >= 9
    referred = Consultation.objects.filter(status=ConsultationStatus.REFERRED)
    assert not referred.filter(referred_to="").exists()
    closed = Consultation.objects.filter(
        status__in=[ConsultationStatus.RESOLVED, ConsultationStatus.REFERRED]
    )
    assert not closed.filter(closed_on=None).exists()
    assert not Consultation.objects.filter(
        status__in=[ConsultationStatus.OPEN, ConsultationStatus.IN_PROGRESS],
        closed_on__isnull=False,
    ).exists()
    assert not Consultation.objects.filter(person=None, visitor="").exists()
    # two years of logs reach back further than one
    oldest = Consultation.objects.order_by("received_at").first().received_at
    assert timezone.now() - oldest > datetime.timedelta(days=400)


def test_the_same_seed_builds_the_same_outreach(db):
    try:
        with transaction.atomic():
            seed(*SMALL, seed=8)
            first = fingerprint()
            raise _Rollback
    except _Rollback:
        pass
    assert not Visit.objects.exists()
    seed(*SMALL, seed=8)
    assert fingerprint() == first
    assert first[0]["outreach.Visit"] > 0


def test_seeding_makes_cached_compliance_figures_stale(db):
    # bulk_create sends no signals: a report cached before the seed must not be served after
    seed("--households", "20", "--years", "0")
    before = compliance_cache.data_version()
    seed(*SMALL)
    assert Visit.objects.exists()
    assert compliance_cache.data_version() != before


def test_zero_years_build_no_outreach_and_negative_years_are_refused(db):
    seed("--households", "20", "--years", "0")
    assert Household.objects.count() == 20
    assert all(n == 0 for n in counts().values())
    with pytest.raises(CommandError):
        seed("--years", "-1")
