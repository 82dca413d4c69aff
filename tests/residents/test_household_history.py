"""A household's history of changes: it names changed fields only to those who may see them,
and shows every change reason the register records in the user's language."""

from unittest import mock

from django.urls import reverse

from residents import selectors
from residents.models import Household, Person
from tests.factories import _ethnicity


def detail(household):
    return reverse("residents:household-detail", args=[household.pk])


def verbose(model, name):
    return str(model._meta.get_field(name).verbose_name)


def changed_fields(response):
    return [field for entry in response.context["history"] for field in entry.fields]


def test_liaison_is_not_told_that_hardship_income_or_ethnicity_changed(world, register, login):
    household = register.ma_household
    household.is_low_income = True
    household.income_band = "low"
    household.phone = "0512-65550000"
    household.save()
    ma = Person.objects.get(pk=register.ma_xiaodong.pk)
    ma.ethnicity = _ethnicity("05")
    ma.is_key_person = True
    ma.mobile = "13912345678"
    ma.save()
    hidden = [
        verbose(Household, "is_low_income"),
        verbose(Household, "income_band"),
        verbose(Person, "ethnicity"),
        verbose(Person, "is_key_person"),
    ]
    staff = changed_fields(login(world.pingjianglu_staff).get(detail(household)))
    assert set(hidden) <= set(staff)
    liaison_page = login(world.pingjianglu_liaison).get(detail(household))
    liaison = changed_fields(liaison_page)
    assert set(hidden).isdisjoint(liaison)
    # what a liaison may see still shows
    assert verbose(Household, "phone") in liaison
    assert verbose(Person, "mobile") in liaison
    assert verbose(Household, "income_band") not in liaison_page.content.decode()


def test_a_change_of_hidden_fields_only_leaves_no_entry_for_a_liaison(world, register, login):
    household = register.ma_household
    household.is_dibao = False
    household.save()
    liaison = login(world.pingjianglu_liaison).get(detail(household)).context["history"]
    staff = login(world.pingjianglu_staff).get(detail(household)).context["history"]
    assert [e.kind for e in staff if e.model == "household"] == ["~", "+"]
    assert [e.kind for e in liaison if e.model == "household"] == ["+"]


def test_handover_merge_and_import_reasons_are_translated():
    """Every reason the casework records goes through gettext (here a marker stands in for
    the Chinese catalogue), with its names and numbers kept."""
    with mock.patch.object(selectors, "_", side_effect=lambda text: "译:" + text):
        shown = {
            reason: selectors.reason_text(reason)
            for reason in [
                "handover sent to 道前社区",
                "handover to 道前社区 cancelled",
                "handover to 道前社区 declined: 该户已搬走",
                "handed over from 平江路社区 to 道前社区",
                "moved from 平江路社区 to 干将社区",
                "merged into #12",
                "merged #13 into this record",
                "moved from #13, merged into #12",
                "ledger import 平江路台账.xlsx",
                "archived",
            ]
        }
    assert all(text.startswith("译:") for text in shown.values()), shown
    assert shown["handover to 道前社区 declined: 该户已搬走"] == (
        "译:handover to 道前社区 declined: 该户已搬走"
    )
    assert shown["moved from #13, merged into #12"] == "译:moved from #13, merged into #12"
    assert selectors.reason_text("typed by hand") == "typed by hand"


def test_accepted_handover_shows_its_reasons_on_the_household_page(world, register, login):
    household = register.ma_household
    send = reverse("residents:handover-send", args=[household.pk])
    assert login(world.pingjiang_staff).post(send, {"community": world.daoqian.pk}).status_code
    accept = reverse("residents:handover-accept", args=[household.pk])
    assert login(world.canglang_staff).post(accept).status_code == 302
    history = login(world.canglang_staff).get(detail(household)).context["history"]
    household_reasons = [e.reason for e in history if e.model == "household" and e.reason]
    assert len(household_reasons) == 2  # sent, then accepted
    assert all("道前社区" in reason for reason in household_reasons)
    assert "平江路社区" in household_reasons[0]  # handed over from 平江路社区
