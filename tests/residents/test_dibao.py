"""The minority dibao supplement: standards, arithmetic, the monthly roster and its export."""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from network.models import ExportLog
from residents.dibao import monthly_supplement, parse_month, standard_for, supplement_amount
from residents.models import DibaoStandard
from tests.factories import HouseholdFactory, PersonFactory, _ethnicity

ROSTER = reverse("residents:dibao-roster")
XLSX = reverse("residents:dibao-roster-xlsx")
STANDARDS = reverse("residents:dibao-standard-list")
CREATE = reverse("residents:dibao-standard-create")


def standard(area, amount, year=2026, rate="0.200"):
    return DibaoStandard.objects.create(
        area=area, year=year, monthly_standard=Decimal(amount), supplement_rate=Decimal(rate)
    )


@pytest.fixture
def three_person_household(world):
    """A Hui dibao household of three in 干将社区."""
    household = HouseholdFactory(community=world.ganjiang, address="干将西路8号", is_dibao=True)
    for name in ("丁德明", "金桂芳", "丁小军"):
        PersonFactory(household=household, name=name)
    return household


# ---------------------------------------------------------------- arithmetic


def test_supplement_is_standard_times_persons_times_rate(world, three_person_household):
    standard(world.district, "1095")
    assert monthly_supplement(three_person_household, 2026) == Decimal("657.00")


def test_recorded_covered_persons_take_precedence(world, three_person_household):
    standard(world.district, "1095")
    three_person_household.dibao_persons = 2
    assert monthly_supplement(three_person_household, 2026) == Decimal("438.00")


def test_archived_and_moved_members_are_not_covered(world, three_person_household):
    standard(world.district, "1095")
    PersonFactory(household=three_person_household, name="丁永祥", status="deceased")
    PersonFactory(household=three_person_household, name="丁海燕", archived_at=timezone.now())
    assert monthly_supplement(three_person_household, 2026) == Decimal("657.00")


def test_rounding_is_half_up_to_the_fen():
    rule = DibaoStandard(monthly_standard=Decimal("1.05"), supplement_rate=Decimal("0.500"))
    assert supplement_amount(rule, 1) == Decimal("0.53")  # 0.525; banker's rounding gives 0.52
    rule = DibaoStandard(monthly_standard=Decimal("1095.10"), supplement_rate=Decimal("0.125"))
    assert supplement_amount(rule, 3) == Decimal("410.66")  # 410.6625


def test_nearest_area_up_the_tree_applies(world, django_assert_num_queries):
    district = standard(world.district, "1095")
    subdistrict = standard(world.pingjiang, "1100")
    assert standard_for(world.daoqian, 2026) == district
    with django_assert_num_queries(1):
        assert standard_for(world.pingjianglu, 2026) == subdistrict  # through the zone
    own = standard(world.pingjianglu, "1120")
    assert standard_for(world.pingjianglu, 2026) == own
    assert standard_for(world.pingjianglu, 2025) is None


def test_rate_is_set_per_area_and_year(world, register, three_person_household):
    standard(world.district, "1000")
    standard(world.canglang, "1000", rate="0.300")
    standard(world.district, "1000", year=2025, rate="0.100")
    dq = register.daoqian_household
    dq.is_dibao = True
    assert monthly_supplement(dq, 2026) == Decimal("300.00")
    assert monthly_supplement(three_person_household, 2026) == Decimal("600.00")
    assert monthly_supplement(three_person_household, 2025) == Decimal("300.00")


def test_no_standard_gives_none(world, three_person_household):
    assert monthly_supplement(three_person_household, 2026) is None


@pytest.mark.parametrize(
    ("typed", "month"),
    [("2026-05", datetime.date(2026, 5, 1)), ("2026年5月", datetime.date(2026, 5, 1))],
)
def test_month_parsing(typed, month):
    assert parse_month(typed) == month


@pytest.mark.parametrize("typed", ["2026-13", "May", "", "2026-5-1", "0000-01"])
def test_bad_months_are_refused(typed):
    assert parse_month(typed) is None


# ---------------------------------------------------------------- the roster


@pytest.fixture
def roster_data(world, register, three_person_household):
    """Minority dibao households in 平江街道 (马, 丁), a Han dibao household and a minority
    household without dibao (neither listed), and one in 沧浪街道."""
    standard(world.district, "1095")
    han = HouseholdFactory(community=world.ganjiang, address="干将东路1号", is_dibao=True)
    PersonFactory(household=han, name="张志强", ethnicity=_ethnicity("01"))
    dq = register.daoqian_household
    dq.is_dibao = True
    dq.save()
    return three_person_household


def test_roster_lists_minority_dibao_households_with_totals(world, roster_data, login):
    response = login(world.pingjiang_staff).get(
        ROSTER, {"area": world.pingjiang.pk, "month": "2026-05"}
    )
    assert response.status_code == 200
    roster = response.context["roster"]
    assert [r.household.address for r in roster.rows] == ["平江路112号3幢201室", "干将西路8号"]
    assert [r.supplement for r in roster.rows] == [Decimal("438.00"), Decimal("657.00")]
    assert roster.total_persons == 5
    assert roster.total_supplement == Decimal("1095.00")
    assert roster.total == Decimal("6570.00")  # 1095 × 5 + 1095
    page = response.content.decode()
    assert "1095.00" in page and "丁小军" in page
    assert "干将东路1号" not in page  # Han household
    assert "道前街45号" not in page  # other sub-district


def test_households_without_a_standard_are_listed_as_problems(world, register, login):
    standard(world.north_zone, "1100")  # covers 平江路社区, not 干将社区
    bai = register.bai_household
    bai.is_dibao = True
    bai.save()
    response = login(world.pingjiang_staff).get(
        ROSTER, {"area": world.pingjiang.pk, "month": "2026-05"}
    )
    roster = response.context["roster"]
    assert [r.household.address for r in roster.rows] == ["平江路112号3幢201室"]
    assert [r.household.address for r in roster.problems] == ["干将东路88号"]
    assert "干将东路88号" in response.content.decode()
    assert roster.total_supplement == Decimal("440.00")


def test_roster_for_a_year_without_standards_lists_every_household_as_problem(
    world, roster_data, login
):
    response = login(world.pingjiang_staff).get(
        ROSTER, {"area": world.pingjiang.pk, "month": "2025-12"}
    )
    roster = response.context["roster"]
    assert roster.rows == [] and len(roster.problems) == 2


def test_roster_defaults_to_the_users_area_and_this_month(world, roster_data, login):
    response = login(world.pingjianglu_staff).get(ROSTER)
    roster = response.context["roster"]
    assert roster.area == world.pingjianglu
    assert roster.month == timezone.localdate().replace(day=1)


@pytest.mark.parametrize(
    "params", [{"area": "abc"}, {"area": "987654"}, {"month": "2026-13"}, {"month": "<b>"}]
)
def test_bad_roster_input_is_a_form_error(world, roster_data, login, params):
    response = login(world.pingjiang_staff).get(ROSTER, params)
    assert response.status_code == 200
    assert response.context["roster"] is None
    assert response.context["form"].errors


def test_area_of_another_sub_district_cannot_be_chosen(world, roster_data, login):
    response = login(world.pingjiang_staff).get(ROSTER, {"area": world.canglang.pk})
    assert response.context["roster"] is None
    response = login(world.pingjiang_staff).get(ROSTER, {"area": world.district.pk})
    assert response.context["roster"] is None


def test_liaison_cannot_open_the_roster(world, roster_data, login):
    client = login(world.pingjianglu_liaison)
    assert client.get(ROSTER).status_code == 403
    assert client.get(XLSX).status_code == 403


def test_roster_in_constant_queries(world, roster_data, login, django_assert_max_num_queries):
    client = login(world.pingjiang_staff)
    params = {"area": world.pingjiang.pk, "month": "2026-05"}
    with django_assert_max_num_queries(11):
        assert len(client.get(ROSTER, params).context["roster"].rows) == 2
    for n in range(30):
        household = HouseholdFactory(
            community=world.ganjiang if n % 2 else world.pingjianglu,
            address=f"十全街{n}号",
            is_dibao=True,
        )
        PersonFactory(household=household, name=f"沙{n}")
        PersonFactory(household=household, name=f"穆{n}")
    standard(world.pingjiang, "1100")
    with django_assert_max_num_queries(11):
        assert len(client.get(ROSTER, params).context["roster"].rows) == 32


def test_xlsx_download_has_the_rows_and_is_logged(world, roster_data, login):
    roster_data.address = '=HYPERLINK("http://x")'
    roster_data.save()
    response = login(world.pingjiang_staff).get(
        XLSX, {"area": world.pingjiang.pk, "month": "2026-05"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert rows[0][2] == "平江路112号3幢201室"
    assert rows[0][3] == "马晓东、哈丽娜"
    assert rows[0][4] == 2
    assert Decimal(str(rows[0][8])) == Decimal("438.00")
    formula_cell = sheet.cell(row=4, column=3)
    assert formula_cell.value == '=HYPERLINK("http://x")'
    assert formula_cell.data_type == "s"
    assert Decimal(str(rows[-1][8])) == Decimal("1095.00")  # totals row
    log = ExportLog.objects.get()
    assert log.user == world.pingjiang_staff
    assert log.exporter == "dibao_roster"
    assert log.row_count == 2
    assert log.area == world.pingjiang
    assert log.filters == {"area": world.pingjiang.pk, "month": "2026-05"}


def test_xlsx_lists_missing_standard_rows(world, register, login):
    bai = register.bai_household
    bai.is_dibao = True
    bai.save()
    response = login(world.pingjiang_staff).get(
        XLSX, {"area": world.pingjiang.pk, "month": "2026-05"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    addresses = [row[2] for row in rows[:-1]]
    assert addresses == ["平江路112号3幢201室", "干将东路88号"]
    assert all(row[10] for row in rows[:-1])  # each says what is missing
    assert ExportLog.objects.get().row_count == 2


def test_xlsx_needs_the_export_permission(world, roster_data, login):
    export = Permission.objects.get(codename="export_households")
    Group.objects.get(name="community staff").permissions.remove(export)
    client = login(world.pingjianglu_staff)
    assert client.get(ROSTER).status_code == 200
    assert client.get(XLSX).status_code == 403
    assert not ExportLog.objects.exists()


# ---------------------------------------------------------------- standards pages


def test_standard_list_shows_own_and_inherited_standards(world, login):
    district = standard(world.district, "1095")
    own = standard(world.pingjiang, "1100")
    other = standard(world.canglang, "1090")
    response = login(world.pingjiang_staff).get(STANDARDS)
    listed = {s.pk: s.changeable for s in response.context["page"]}
    assert listed == {district.pk: False, own.pk: True}
    assert other.pk not in listed
    page = response.content.decode()
    assert reverse("residents:dibao-standard-update", args=[own.pk]) in page
    assert reverse("residents:dibao-standard-update", args=[district.pk]) not in page


def test_create_a_standard(world, login):
    response = login(world.pingjiang_staff).post(
        CREATE,
        {
            "area": world.pingjiang.pk,
            "year": 2026,
            "monthly_standard": "1095",
            "supplement_rate": "0.2",
        },
    )
    assert response.status_code == 302
    created = DibaoStandard.objects.get()
    assert created.monthly_standard == Decimal("1095.00")
    assert created.supplement_rate == Decimal("0.200")


def test_create_refuses_areas_outside_the_users_and_duplicates(world, login):
    client = login(world.pingjiang_staff)
    data = {"year": 2026, "monthly_standard": "1095", "supplement_rate": "0.2"}
    response = client.post(CREATE, {**data, "area": world.canglang.pk})
    assert response.status_code == 200
    assert not DibaoStandard.objects.exists()
    standard(world.pingjiang, "1100")
    response = client.post(CREATE, {**data, "area": world.pingjiang.pk})
    assert response.status_code == 200
    assert DibaoStandard.objects.count() == 1
    response = client.post(CREATE, {**data, "area": world.ganjiang.pk, "year": "两千"})
    assert response.status_code == 200
    assert DibaoStandard.objects.count() == 1


def test_update_a_standard(world, login):
    rule = standard(world.pingjiang, "1100")
    url = reverse("residents:dibao-standard-update", args=[rule.pk])
    response = login(world.pingjiang_staff).post(
        url,
        {
            "area": world.pingjiang.pk,
            "year": 2026,
            "monthly_standard": "1120",
            "supplement_rate": "0.25",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.monthly_standard == Decimal("1120.00")
    assert rule.supplement_rate == Decimal("0.250")


def test_standard_of_another_sub_district_gives_404(world, login):
    rule = standard(world.pingjiang, "1100")
    url = reverse("residents:dibao-standard-update", args=[rule.pk])
    client = login(world.canglang_staff)
    assert client.get(url).status_code == 404
    data = {
        "area": world.canglang.pk,
        "year": 2026,
        "monthly_standard": "1",
        "supplement_rate": "0",
    }
    assert client.post(url, data).status_code == 404
    rule.refresh_from_db()
    assert rule.monthly_standard == Decimal("1100.00")


def test_inherited_standard_cannot_be_edited_from_below(world, login):
    rule = standard(world.district, "1095")
    url = reverse("residents:dibao-standard-update", args=[rule.pk])
    assert login(world.pingjiang_staff).get(url).status_code == 404


@pytest.mark.parametrize("who", ["pingjianglu_staff", "pingjianglu_liaison"])
def test_standards_need_the_permission(world, login, who):
    rule = standard(world.pingjianglu, "1100")
    client = login(getattr(world, who))
    assert client.get(STANDARDS).status_code == 403
    assert client.get(CREATE).status_code == 403
    url = reverse("residents:dibao-standard-update", args=[rule.pk])
    assert client.post(url, {"monthly_standard": "1"}).status_code == 403


def test_standard_forms_open(world, login):
    rule = standard(world.pingjiang, "1100")
    client = login(world.pingjiang_staff)
    assert client.get(CREATE).status_code == 200
    url = reverse("residents:dibao-standard-update", args=[rule.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "1100.00" in response.content.decode()
