"""``seed_demo`` adds partner merchants, agreements, consents, cards, their uses and two-way
surveys to the demo district: seed 000's scheme in every sub-district, never in the future,
the same for a seed, and only once."""

import io

from django.core.management import call_command
from django.db import transaction

from network import demo as network_demo
from residents import demo as residents_demo
from services import demo
from services.models import (
    Agreement,
    CardUse,
    Merchant,
    ServiceCard,
    Survey,
)
from tests.services.test_demo import _Rollback, build_world


def test_the_same_seed_builds_the_same_services(db):
    def snapshot():
        return (
            sorted(
                ServiceCard.objects.values_list("number", "holder__name", "issued_on", "status")
            ),
            sorted(
                CardUse.objects.values_list(
                    "card__number", "merchant__name", "used_on", "value_before"
                )
            ),
            sorted(
                Survey.objects.values_list("household__address", "surveyed_on", "submission_key")
            ),
            sorted(Merchant.objects.values_list("name", "submission_key")),
            sorted(Agreement.objects.values_list("number", "valid_to", "submission_key")),
            sorted(CardUse.objects.values_list("submission_key", flat=True)),
        )

    try:
        with transaction.atomic():
            build_world(seed=5, households=60, years=1)
            first = snapshot()
            raise _Rollback
    except _Rollback:
        pass
    assert not Merchant.objects.exists()
    build_world(seed=5, households=60, years=1)
    assert snapshot() == first
    assert first[0] and first[1]


def test_no_years_no_services(db):
    out = io.StringIO()
    network_demo.build(seed=1, stdout=out)
    residents_demo.build(seed=1, stdout=out, households=30)
    assert demo.build(seed=1, stdout=out, years=0) == []
    assert not Merchant.objects.exists()


def test_seed_demo_prints_the_till_logins(db):
    out = io.StringIO()
    call_command("seed_demo", "--seed", "2", "--households", "40", "--years", "1", stdout=out)
    text = out.getvalue()
    assert "majilamian" in text and "lanzhoumian" in text
    assert Merchant.objects.exists() and CardUse.objects.exists()
