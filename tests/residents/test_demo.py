"""``seed_demo`` registers a realistic, deterministic register in the demo district."""

import datetime
import io
import re
from collections import Counter

import pytest
from django.core.management import call_command

from network.models import Area
from residents.id_numbers import parse_id_number
from residents.models import DibaoStandard, Honour, Household, Person
from residents.names import initials_of, pinyin_of


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(module_db):
    """The default demo register (about 300 households) for seed 5, built once for the
    module (tests that seed for themselves are in test_demo_runs.py)."""
    seed("--seed", "5", "--years", "0")  # the register only: no years of outreach


@pytest.fixture
def demo(seeded, db):
    """Each test in a savepoint of the module's seeded database."""


def fingerprint():
    return list(
        Person.objects.order_by(
            "household__community__code", "household__ledger_number", "pk"
        ).values_list(
            "household__community__name",
            "household__ledger_number",
            "household__address",
            "household__is_dibao",
            "name",
            "sex",
            "ethnicity__code",
            "id_number",
            "birth_date",
            "mobile",
        )
    )


def test_every_demo_community_has_households(demo):
    communities = Area.objects.filter(level="community")
    assert communities.count() == 14
    for community in communities:
        assert Household.objects.filter(community=community).count() >= 10, community.name
    assert 280 <= Household.objects.count() <= 320


def test_households_have_one_to_five_members_and_one_head(demo):
    sizes = Counter(h.members.count() for h in Household.objects.prefetch_related("members"))
    assert set(sizes) <= {1, 2, 3, 4, 5}
    assert len(sizes) == 5
    heads = Counter(Person.objects.filter(relation="head").values_list("household", flat=True))
    assert set(heads.values()) == {1}
    assert len(heads) == Household.objects.count()


def test_most_persons_are_minorities_and_the_hui_are_the_largest_group(demo):
    groups = Counter(Person.objects.values_list("ethnicity__code", flat=True))
    total = sum(groups.values())
    assert groups["01"] / total < 0.25  # Han spouses and children of mixed households only
    assert groups["01"] > 0
    largest = [code for code, _n in groups.most_common(2)]
    assert largest[0] == "03"  # 回族
    assert groups["03"] > 2 * groups[largest[1]] or largest[1] == "01"
    assert len(groups) >= 20
    uyghur = Person.objects.filter(ethnicity__code="05").values_list("name", flat=True)
    assert uyghur and all("·" in name for name in uyghur)


def test_a_few_per_cent_are_dibao_floating_honoured_and_volunteers(demo):
    households = Household.objects.count()
    dibao = Household.objects.filter(is_dibao=True).count()
    assert 0.01 * households <= dibao <= 0.08 * households
    floating = Household.objects.exclude(registration_kind="registered")
    assert 0.15 * households <= floating.count() <= 0.4 * households
    assert Honour.objects.filter(title="民族团结文明家庭").exists()
    persons = Person.objects.count()
    volunteers = Person.objects.filter(is_volunteer=True).count()
    assert 0.02 * persons <= volunteers <= 0.15 * persons
    assert Person.objects.filter(is_key_person=True).exists()
    assert Person.objects.filter(is_association_member=True).exists()
    permits = Person.objects.filter(household__in=floating).exclude(residence_permit_number="")
    assert permits.count() > 0.5 * Person.objects.filter(household__in=floating).count()
    soon = datetime.date.today() + datetime.timedelta(days=60)
    assert permits.filter(residence_permit_expires_on__lte=soon).exists()
    registered = Person.objects.filter(household__registration_kind="registered")
    assert not registered.exclude(residence_permit_number="").exists()


def test_dibao_standard_of_the_district(demo):
    standard = DibaoStandard.objects.get(area__code="320508000000", year=2026)
    assert str(standard.monthly_standard) == "1095.00"
    assert str(standard.supplement_rate) == "0.200"


def test_every_id_number_is_valid_and_matches_sex_and_birth_date(demo):
    for person in Person.objects.all():
        parsed = parse_id_number(person.id_number)  # raises on a wrong check digit or date
        assert parsed.number == person.id_number
        assert parsed.sex == person.sex, person.name
        assert parsed.birth_date == person.birth_date, person.name
        assert parsed.warnings == [], person.id_number  # a real region code
    numbers = list(Person.objects.values_list("id_number", flat=True))
    assert len(numbers) == len(set(numbers))


def test_names_carry_their_pinyin_and_initials(demo):
    for person in Person.objects.all()[:200]:
        assert person.name_pinyin == pinyin_of(person.name)
        assert person.name_initials == initials_of(person.name)
        assert person.id_number_reversed == person.id_number[::-1]
        assert person.community_id == person.household.community_id


def test_addresses_are_on_the_streets_of_their_community(demo):
    from residents.demo import STREETS

    for household in Household.objects.select_related("community"):
        streets = STREETS[household.community.name]
        assert household.address.startswith(tuple(streets)), household.address
        assert re.search(r"\d+(号|室)$", household.address), household.address
    assert Household.objects.filter(community__name="平江路社区", address__startswith="平江路")
    mobiles = Person.objects.exclude(mobile="").values_list("mobile", flat=True)
    assert all(len(m) == 11 and m.startswith("1") for m in mobiles)
