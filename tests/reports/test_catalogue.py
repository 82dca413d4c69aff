"""The catalogue's mechanics: every figure is complete and can list its records; shares and
areas; a table's figures cost the same queries whatever the number of rows and records; each
drill-down list is as long as its figure, for every figure of the catalogue."""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from network.models import Area, AreaLevel, AreaPopulation, LiaisonGroup
from outreach.models import GroupMembership, Liaison
from reports import catalogue
from reports.catalogue import COUNT, CUSTOM, DISTINCT, SHARE, SUM, Figure, Section
from reports.periods import parse_period
from residents.models import Honour, HonourKind
from services.cards import issue_card, record_consent
from services.models import Agreement, AgreementItem, Merchant
from services.uses import record_use
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity
from tests.reports.conftest import drilldown_size

D = datetime.date
Y2025 = parse_period("2025")


def test_every_figure_is_complete():
    figures = catalogue.catalogue()
    assert len(figures) > 40  # the catalogue grows; never pin its length
    sections = [f.section for f in figures.values()]
    assert sections == sorted(sections, key=Section.ORDER.index)  # seed 003's order
    for key, f in figures.items():
        assert key == f.key and key.isascii() and key == key.lower() and " " not in key
        assert str(f.label) and str(f.unit) and str(f.definition), key
        if f.measure == SHARE:
            assert f.numerator in figures and f.denominator in figures, key
        elif f.measure == CUSTOM:
            assert f.compute_fn is not None, key
        else:
            assert f.records is not None, key
        if f.records is not None:
            apps.get_model(f.record_model)  # the drill-down knows what it lists


def test_every_figure_lists_its_records_or_says_it_has_none(world):
    for key, f in catalogue.catalogue().items():
        target = catalogue.figure(f.drill_key)
        if target.records is None and target.list_records is None:
            # a custom figure worked out from no records (meetings due by the obligations)
            with pytest.raises(LookupError):
                catalogue.records(key, world.pingjiang, Y2025)
        else:
            assert isinstance(catalogue.records(key, world.pingjiang, Y2025), QuerySet), key


def test_a_key_is_registered_once():
    with pytest.raises(ValueError, match="minority_persons"):
        catalogue.register(catalogue.figure("minority_persons"))
    with pytest.raises(ValueError, match="needs its records"):
        catalogue.register(
            Figure(key="orphan", label="孤儿", unit="个", definition="", section=Section.BASIC)
        )
    assert "orphan" not in catalogue.catalogue()


def test_unknown_key():
    with pytest.raises(KeyError):
        catalogue.figure("minority_persons; DROP TABLE")


def test_share_of_nothing_is_unknown():
    assert catalogue.share(1, 3) == Decimal("33.3")
    assert catalogue.share(2, 3) == Decimal("66.7")
    assert catalogue.share(0, 4) == Decimal("0.0")
    assert catalogue.share(3, 0) is None
    assert catalogue.share(None, 5) is None


def test_areas_of_a_table_lie_under_one_of_them(world):
    assert catalogue.top_area([world.pingjianglu, world.north_zone, world.pingjiang]) == (
        world.pingjiang
    )
    with pytest.raises(ValueError):
        catalogue.top_area([world.pingjiang, world.canglang])


# ---------------------------------------------------------------- queries against rows


def add_community(subdistrict: Area, n: int, user):
    """A community of 双塔街道 with a bit of everything: two Hui residents (one a volunteer)
    in a dibao household honoured as a model family, a population row, a liaison group and a
    serving liaison, a merchant serving it with a card use."""
    community = Area.objects.create(
        code=f"320508003{n:03d}",
        name=f"双塔{n}号社区",
        level=AreaLevel.COMMUNITY,
        parent=subdistrict,
    )
    household = HouseholdFactory(community=community, address=f"十全街{n}号", is_dibao=True)
    head = PersonFactory(household=household, name=f"马德{n}", is_volunteer=True)
    PersonFactory(household=household, name=f"马秀{n}", sex="F", ethnicity=_ethnicity("11"))
    Honour.objects.create(household=household, year=2025, kind=HonourKind.MODEL_FAMILY)
    AreaPopulation.objects.create(area=community, year=2025, registered=1000 + n)
    group = LiaisonGroup.objects.create(community=community, name=f"双塔{n}号社区联络组")
    liaison = Liaison.objects.create(
        community=community, name=f"白{n}", is_committee_secretary=True
    )
    GroupMembership.objects.create(liaison=liaison, group=group, start_date=D(2024, 1, 1))
    merchant = Merchant.objects.create(
        area=subdistrict, name=f"十全街{n}号清真面馆", category="halal_food", address="十全街"
    )
    merchant.serves.set([community])
    agreement = Agreement.objects.create(
        merchant=merchant,
        area=subdistrict,
        valid_from=D(2025, 1, 1),
        valid_to=D(2025, 12, 31),
        status="signed",
    )
    item = AgreementItem.objects.create(
        agreement=agreement, category="halal_food", description="牛肉面", benefit_kind="free"
    )
    record_consent(head, given_on=D(2025, 1, 2), form_reference=f"ST-{n}", user=user)
    card = issue_card(head, user=user, issued_on=D(2025, 1, 3))
    record_use(
        card=card,
        merchant=merchant,
        item=item,
        value_before=Decimal("18"),
        used_on=D(2025, 5, 4),
        user=user,
    )
    return community


def queries_per_figure(areas, period) -> dict[str, int]:
    counts = {}
    for key in catalogue.catalogue():
        with CaptureQueriesContext(connection) as captured:
            catalogue.compute([key], areas, period)
        counts[key] = len(captured.captured_queries)
    return counts


def test_a_table_costs_the_same_queries_for_2_or_6_communities(world):
    shuangta = Area.objects.create(
        code="320508003000", name="双塔街道", level=AreaLevel.SUBDISTRICT, parent=world.district
    )
    for n in (1, 2):
        add_community(shuangta, n, world.bureau)

    def rows():
        return [*Area.objects.filter(parent=shuangta).order_by("code"), shuangta]

    assert len(rows()) == 3
    catalogue.compute(list(catalogue.catalogue()), rows(), Y2025)  # warm the caches
    two = queries_per_figure(rows(), Y2025)
    for n in (3, 4, 5, 6):
        add_community(shuangta, n, world.bureau)
    assert len(rows()) == 7
    six = queries_per_figure(rows(), Y2025)
    assert {k: (two[k], six[k]) for k in two if six[k] > two[k]} == {}
    result = catalogue.compute(["minority_persons", "liaisons", "card_uses"], rows(), Y2025)
    assert [result.value("minority_persons", a) for a in rows()] == [2] * 6 + [12]
    assert result.value("liaisons", shuangta) == 6
    assert result.value("card_uses", shuangta) == 6


# ---------------------------------------------------------------- drill-down = figure


def listed(f: Figure) -> bool:
    """Figures whose drill-down list adds up to the figure itself."""
    return f.measure in (COUNT, SUM) or (f.measure == DISTINCT and f.list_records is not None)


@pytest.mark.parametrize("period", ["2025", "2024"])
def test_every_drilldown_list_is_as_long_as_its_figure(reports_world, period):
    w = reports_world.world
    span = parse_period(period)
    keys = [k for k, f in catalogue.catalogue().items() if listed(f)]
    for top in (w.district, w.pingjiang):
        rows = [*Area.objects.filter(parent=top).order_by("code"), top]
        result = catalogue.compute(keys, rows, span)
        wrong = {
            (key, area.name): (result.value(key, area), drilldown_size(key, area, span))
            for key in keys
            for area in rows
            if result.value(key, area) != drilldown_size(key, area, span)
        }
        assert wrong == {}
