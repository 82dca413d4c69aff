"""``seed_demo`` registers a realistic, deterministic register in the demo district."""

import io

import pytest

from residents.models import DibaoStandard, Honour, Household, Person
from tests.residents.test_demo import fingerprint, seed


def test_seed_demo_again_keeps_the_register(db):
    seed("--seed", "3", "--households", "60", "--years", "0")
    Household.objects.filter(address__startswith="平江路").update(notes="已走访")
    counts = (Household.objects.count(), Person.objects.count(), Honour.objects.count())
    output = seed("--seed", "3", "--households", "60", "--years", "0")
    assert "keeping" in output
    assert (Household.objects.count(), Person.objects.count(), Honour.objects.count()) == counts
    assert Household.objects.filter(notes="已走访").exists()
    assert DibaoStandard.objects.count() == 2


def test_seed_demo_with_households_builds_that_many(db):
    seed("--seed", "3", "--households", "50", "--years", "0")
    assert Household.objects.count() == 50
    assert 50 <= Person.objects.count() <= 250


def test_same_seed_gives_the_same_register_and_another_seed_another(db):
    # --years 0: no outreach records, which would protect the households from deletion
    seed("--seed", "9", "--households", "40", "--years", "0")
    first = fingerprint()
    Honour.objects.all().delete()
    Person.objects.all().delete()
    Household.objects.all().delete()
    seed("--seed", "9", "--households", "40", "--years", "0")
    assert fingerprint() == first
    Honour.objects.all().delete()
    Person.objects.all().delete()
    Household.objects.all().delete()
    seed("--seed", "10", "--households", "40", "--years", "0")
    assert fingerprint() != first


def test_benchmark_size_fixes_the_number_of_persons(db):
    from residents import demo

    seed("--seed", "1", "--households", "0")  # the district without households
    with pytest.raises(ValueError):
        demo.build(seed=1, stdout=io.StringIO(), households=40, persons=201)
    demo.build(seed=1, stdout=io.StringIO(), households=40, persons=100)
    assert Household.objects.count() == 40
    assert Person.objects.count() == 100
