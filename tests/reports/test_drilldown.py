"""The list of records behind a figure: as many rows as the figure says (a sum: a value column
adding up to it), columns by the records' model, personal data masked as the register masks
it, a link to each record's page, and a fixed number of queries."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from network.models import AreaPopulation, User
from network.roles import GROUP_NAMES
from outreach.models import (
    Assistance,
    Consultation,
    ConsultationStatus,
    Meeting,
    MeetingKind,
    Visit,
    VisitKind,
)
from reports import catalogue
from reports.catalogue import COUNT, DISTINCT, SUM
from reports.drilldown import record_model, records_page, shown_value
from reports.periods import parse_period
from residents.models import Household, Person
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity

YEAR = parse_period("2025")


@dataclass
class Town:
    ma_household: Household  # 平江路社区, Hui, dibao
    ma_xiaodong: Person
    bai_household: Household  # 干将社区, Manchu
    bai_lan: Person
    daoqian_household: Household  # 道前社区 (沧浪街道), Uyghur


def build_town(world, extra_persons: int = 0) -> Town:
    """Three minority households in three communities, with visits, assistance, a meeting
    and a consultation in 2025 and a visit in 2024; ``extra_persons`` more Hui residents of
    平江路社区, each in a household visited once in 2025."""
    ma = HouseholdFactory(community=world.pingjianglu, address="平江路112号3幢201室", is_dibao=True)
    ma_xiaodong = PersonFactory(household=ma, name="马晓东", sex="M")
    PersonFactory(household=ma, name="哈丽娜", sex="F", relation="spouse")
    bai = HouseholdFactory(community=world.ganjiang, address="干将东路88号")
    bai_lan = PersonFactory(household=bai, name="白兰", sex="F", ethnicity=_ethnicity("11"))
    daoqian = HouseholdFactory(community=world.daoqian, address="道前街45号")
    PersonFactory(household=daoqian, name="阿依吐尔逊", sex="F", ethnicity=_ethnicity("05"))
    HouseholdFactory(community=world.pingjianglu, address="平江路20号")  # no minority member

    care = Visit.objects.create(
        household=ma, kind=VisitKind.CARE, visited_on=datetime.date(2025, 3, 5)
    )
    Visit.objects.create(
        household=ma, kind=VisitKind.HARDSHIP, visited_on=datetime.date(2025, 3, 20)
    )
    Visit.objects.create(household=bai, kind=VisitKind.CARE, visited_on=datetime.date(2025, 7, 1))
    Visit.objects.create(
        household=daoqian, kind=VisitKind.CARE, visited_on=datetime.date(2025, 7, 2)
    )
    Visit.objects.create(household=ma, kind=VisitKind.CARE, visited_on=datetime.date(2024, 6, 1))
    Assistance.objects.create(
        visit=care, kind="cash", description="低保补助", value=Decimal("300.00")
    )
    Assistance.objects.create(
        visit=care, kind="goods", description="米面油", value=Decimal("150.50")
    )
    Meeting.objects.create(
        kind=MeetingKind.LIAISON,
        title="二季度联络员会议",
        area=world.pingjiang,
        held_on=datetime.date(2025, 4, 10),
        other_attendees=5,
    )
    Consultation.objects.create(
        community=world.pingjianglu,
        person=ma_xiaodong,
        channel="walk_in",
        topic="housing",
        summary="咨询廉租房申请",
        received_at=timezone.make_aware(datetime.datetime(2025, 5, 6, 9, 30)),
        status=ConsultationStatus.RESOLVED,
        closed_on=datetime.date(2025, 5, 9),
    )
    AreaPopulation.objects.create(area=world.pingjianglu, year=2025, registered=8000)
    for n in range(extra_persons):
        household = HouseholdFactory(community=world.pingjianglu, address=f"平江路{200 + n}号")
        PersonFactory(household=household, name=f"马{n}号", sex="M")
        Visit.objects.create(
            household=household, kind=VisitKind.CARE, visited_on=datetime.date(2025, 9, 1)
        )
    return Town(
        ma_household=ma,
        ma_xiaodong=ma_xiaodong,
        bai_household=bai,
        bai_lan=bai_lan,
        daoqian_household=daoqian,
    )


def records_url(key, area, period="2025"):
    return f"{reverse('reports:figure-records', args=[key])}?area={area.pk}&period={period}"


def value_of(key, area, period=YEAR):
    return catalogue.compute([key], [area], period).value(key, area)


@pytest.fixture
def town(world):
    return build_town(world)


# ---------------------------------------------------------------- rows equal the figure


@pytest.mark.parametrize(
    ("key", "expected"),
    [("minority_persons", 3), ("minority_households", 2), ("ethnic_groups", 2)],
)
def test_register_figures_list_as_many_rows_as_they_say(world, town, login, key, expected):
    response = login(world.bureau).get(records_url(key, world.pingjiang))
    assert response.status_code == 200
    assert value_of(key, world.pingjiang) == expected
    assert response.context["count"] == expected
    assert len(response.context["rows"]) == expected
    assert f"{expected}</strong>" in response.content.decode()


def test_every_counted_figure_lists_as_many_rows_as_it_says(world, town, login):
    """Whatever the catalogue holds when the test runs: counts and distinct counts list as
    many records as they say, sums a value column adding up to them."""
    client = login(world.bureau)
    checked = 0
    for area in (world.district, world.pingjiang, world.pingjianglu):
        found = catalogue.compute(list(catalogue.catalogue()), [area], YEAR)
        for key, figure in catalogue.catalogue().items():
            if figure.measure not in (COUNT, DISTINCT, SUM):
                continue
            response = client.get(records_url(key, area))
            assert response.status_code == 200, key
            value = found.value(key, area)
            if figure.measure == SUM:
                assert Decimal(response.context["total"]) == Decimal(value), key
            else:
                assert response.context["count"] == value, (key, area.name)
            checked += 1
    assert checked >= 9


def test_a_sum_shows_each_value_and_their_total(world, town, login):
    if "assistance_value" not in catalogue.catalogue():
        pytest.skip("the catalogue has no assistance_value figure yet")
    response = login(world.bureau).get(records_url("assistance_value", world.pingjianglu))
    page = response.content.decode()
    assert response.context["total"] == "450.50"
    assert "300.00" in page and "150.50" in page
    assert "低保补助" in page


def test_a_share_lists_its_numerators_records(world, town, login):
    response = login(world.bureau).get(records_url("minority_share", world.pingjianglu))
    assert response.status_code == 200
    assert response.context["lists_other"]
    assert response.context["count"] == 2  # the minority residents of 平江路社区
    assert response.context["value"] == "0.0%"  # 2 of 8,000, to one decimal


# ---------------------------------------------------------------- columns and masking


def test_persons_show_name_ethnicity_and_link_to_their_household(world, town, login):
    response = login(world.pingjiang_staff).get(records_url("minority_persons", world.pingjianglu))
    page = response.content.decode()
    assert "马晓东" in page and "回族" in page and "平江路112号3幢201室" in page
    household = reverse("residents:household-detail", args=[town.ma_household.pk])
    assert f'href="{household}#person-{town.ma_xiaodong.pk}"' in page
    assert "道前街45号" not in page


def _request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_a_viewer_without_the_register_sees_names_and_ethnicity_masked(world, town):
    """A role configured without persons, sensitive data or households (the admin may make
    one) sees 马*东, no ethnicity and no link into the register."""
    group = Group.objects.get(name=GROUP_NAMES["community"])
    group.permissions.remove(
        *Permission.objects.filter(
            content_type__app_label="residents",
            codename__in=["view_person", "view_sensitive", "view_household"],
        )
    )
    staff = User.objects.get(pk=world.pingjianglu_staff.pk)
    figure = catalogue.figure("minority_persons")
    response = records_page(
        _request_for(staff),
        figure,
        figure.records(world.pingjianglu, YEAR),
        heading="少数民族人口",
    )
    page = response.content.decode()
    assert "马*东" in page and "马晓东" not in page
    assert "回族" not in page
    assert reverse("residents:household-detail", args=[town.ma_household.pk]) not in page


def test_visits_show_date_kind_and_household_and_link_to_the_visit(world, town, login):
    if "visits" not in catalogue.catalogue():
        pytest.skip("the catalogue has no visits figure yet")
    response = login(world.bureau).get(records_url("visits", world.pingjiang))
    page = response.content.decode()
    assert response.context["count"] == 3
    assert "平江路112号3幢201室" in page and "干将东路88号" in page
    visit = Visit.objects.filter(household=town.bai_household).get()
    assert reverse("outreach:visit-detail", args=[visit.pk]) in page


def test_meetings_show_subject_and_participants(world, town, login):
    if "meetings_held" not in catalogue.catalogue():
        pytest.skip("the catalogue has no meetings_held figure yet")
    response = login(world.bureau).get(records_url("meetings_held", world.pingjiang))
    page = response.content.decode()
    assert "二季度联络员会议" in page
    assert response.context["rows"][0].cells[4] == 5


def test_a_model_without_a_listing_shows_its_text():
    from reports.drilldown import GENERIC, listing_for
    from residents.models import DibaoStandard

    assert listing_for(DibaoStandard) is GENERIC


def test_record_model_of_a_share_is_its_numerators():
    assert record_model(catalogue.figure("minority_share")) is Person
    assert record_model(catalogue.figure("minority_households")) is Household


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("minority_persons", 12, "12"),
        ("minority_share", Decimal("12.5"), "12.5%"),
        ("minority_persons", None, "—"),
    ],
)
def test_values_are_shown_as_people_read_them(key, value, shown):
    assert shown_value(catalogue.figure(key), value) == shown


def test_money_is_shown_with_two_decimals():
    money = catalogue.Figure(
        key="x", label="帮困金额", unit="元", definition="", section="hardship", measure=SUM,
        records=lambda area, period: None, value_field="value",
    )  # fmt: skip
    assert shown_value(money, Decimal("450.5")) == "450.50"


# ---------------------------------------------------------------- queries


def _queries_for(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "key",
    [
        "minority_persons",
        "minority_households",
        "visits",
        "meetings_held",
        "assistance_value",
        "consultations",
    ],
)
def test_the_list_costs_the_same_queries_for_2_and_20_records(world, login, key):
    if key not in catalogue.catalogue():
        pytest.skip(f"the catalogue has no {key} figure yet")
    client = login(world.bureau)
    town = build_town(world)
    url = records_url(key, world.pingjianglu)

    def add(first: int, count: int):
        for n in range(first, first + count):
            household = HouseholdFactory(community=world.pingjianglu, address=f"平江路{300 + n}号")
            PersonFactory(household=household, name=f"白{n}号")
            visit = Visit.objects.create(
                household=household, kind=VisitKind.CARE, visited_on=datetime.date(2025, 10, 1)
            )
            Assistance.objects.create(visit=visit, kind="goods", value=Decimal("80.00"))
            Meeting.objects.create(
                kind=MeetingKind.STUDY,
                area=world.pingjianglu,
                held_on=datetime.date(2025, 10, n + 1),
            )
            Consultation.objects.create(
                community=world.pingjianglu,
                person=town.ma_xiaodong,
                channel="hotline",
                topic="policy",
                summary="咨询民族政策",
                received_at=timezone.make_aware(datetime.datetime(2025, 10, 1, 10, n)),
            )

    add(0, 2)
    few = _queries_for(client, url)
    assert 2 <= client.get(url).context["count"] <= 5
    add(2, 18)
    many = _queries_for(client, url)
    assert client.get(url).context["count"] >= 20
    assert many == few
