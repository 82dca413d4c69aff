# ruff: noqa: F811  (pytest fixtures imported from tests.residents.conftest are arguments)
"""No lost updates (issue 7 §3): two people edit the same household, member or visit; the
second save of a page loaded before the first save is refused, shows who changed what, keeps
what was typed and writes nothing; after a reload it saves. Every other write (move,
archive, restore) makes an open page stale as well.

Two sessions, as in the office: 周晓红 (平江路社区 staff, A) and 李秀英 (平江街道 staff, B)
open the edit page of 马晓东's household at 平江路112号3幢201室 (哈丽娜 is his wife)."""

import datetime

import pytest
from django import forms
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from network import versioning
from network.versioning import StaleEdit
from outreach.forms_visits import VisitEntry
from outreach.models import Visit
from residents import operations
from residents.archiving import set_archived
from residents.id_numbers import mask_id_number
from residents.models import Household, Person
from residents.selectors import Viewer
from tests.factories import valid_id_number
from tests.outreach.test_visits_support import make_visit
from tests.residents.conftest import register  # noqa: F401  (the register fixture)

INVALID = str(versioning.INVALID_VERSION)


def session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def a(world):
    return session(world.pingjianglu_staff)  # 周晓红, 平江路社区


@pytest.fixture
def b(world):
    return session(world.pingjiang_staff)  # 李秀英, 平江街道


def edit_url(household):
    return reverse("residents:household-update", args=[household.pk])


def visit_url(visit):
    return reverse("outreach:visit-edit", args=[visit.pk])


def what_the_browser_sends(*forms_) -> dict:
    """The POST a browser makes of the forms as the page showed them (hidden inputs too)."""
    data: dict = {}
    for form in forms_:
        for field in form:
            widget = field.field.widget
            if field.field.disabled or isinstance(widget, forms.FileInput):
                continue
            value = field.value()
            if isinstance(widget, forms.CheckboxInput):
                if value:
                    data[field.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[field.html_name] = [str(v) for v in value]
            else:
                data[field.html_name] = "" if value is None else str(value)
    return data


def open_household(client, household) -> dict:
    response = client.get(edit_url(household))
    assert response.status_code == 200
    html = response.content.decode()
    # the page itself carries the versions it was loaded with
    stored = Household.objects.get(pk=household.pk).version
    assert f'name="household-version" value="{stored}"' in html
    assert 'type="hidden" name="members-0-version"' in html
    formset = response.context["formset"]
    return what_the_browser_sends(response.context["form"], formset.management_form, *formset)


def member_prefix(data, person) -> str:
    [key] = [k for k, v in data.items() if k.endswith("-id") and v == str(person.pk)]
    return key[: -len("id")]


def open_visit(client, visit) -> dict:
    response = client.get(visit_url(visit))
    assert response.status_code == 200
    stored = Visit.objects.get(pk=visit.pk).version
    assert f'name="version" value="{stored}"' in response.content.decode()
    entry = response.context["entry"]
    return what_the_browser_sends(
        entry.form,
        entry.follow_ups.management_form,
        *entry.follow_ups,
        entry.assistance.management_form,
        *entry.assistance,
    )


def conflict_text(response) -> str:
    return " ".join(str(c) for c in response.context["conflicts"])


# ---------------------------------------------------------------- a household


def test_a_stale_household_page_is_refused_and_shows_what_changed(world, register, a, b):
    household = register.ma_household
    phone = household.phone
    page_a = open_household(a, household)
    page_b = open_household(b, household)

    page_b["household-address"] = "平江路114号"
    assert b.post(edit_url(household), page_b).status_code == 302

    page_a["household-phone"] = "0512-67771234"
    response = a.post(edit_url(household), page_a)
    assert response.status_code == 200
    text = response.content.decode()
    [conflict] = response.context["conflicts"]
    assert conflict.changed_by == "李秀英"
    assert "李秀英" in text and "平江路112号3幢201室 → 平江路114号" in text
    assert [c.field for c in conflict.changes] == [
        str(Household._meta.get_field("address").verbose_name)
    ]
    # what A typed is still on the page, and nothing of it was written
    assert response.context["form"]["phone"].value() == "0512-67771234"
    assert 'value="0512-67771234"' in text
    household.refresh_from_db()
    assert (household.address, household.phone) == ("平江路114号", phone)
    assert household.version == 2
    assert household.history.first().history_user == world.pingjiang_staff

    # the same page sent again is refused again: it still carries the old version
    assert a.post(edit_url(household), page_a).status_code == 200
    household.refresh_from_db()
    assert household.phone == phone

    # A reloads, types the phone again and saves: both changes are kept
    fresh = open_household(a, household)
    fresh["household-phone"] = "0512-67771234"
    assert a.post(edit_url(household), fresh).status_code == 302
    household.refresh_from_db()
    assert (household.address, household.phone) == ("平江路114号", "0512-67771234")
    assert household.version == 3
    assert household.history.first().version == 3


def test_a_stale_member_card_is_refused_even_when_the_user_changed_only_the_household(
    world, register, a, b
):
    household, wife = register.ma_household, register.ma_wife
    phone = household.phone
    page_a = open_household(a, household)
    page_b = open_household(b, household)
    page_b[member_prefix(page_b, wife) + "mobile"] = "13912345678"
    assert b.post(edit_url(household), page_b).status_code == 302

    page_a["household-phone"] = "0512-67771234"  # A's card of 哈丽娜 still has no mobile
    response = a.post(edit_url(household), page_a)
    assert response.status_code == 200
    [conflict] = response.context["conflicts"]
    assert conflict.subject == "哈丽娜" and conflict.changed_by == "李秀英"
    assert "— → 13912345678" in conflict_text(response)
    wife.refresh_from_db()
    household.refresh_from_db()
    assert wife.mobile == "13912345678"  # B's value, not overwritten by A's empty card
    assert household.phone == phone

    fresh = open_household(a, household)
    fresh["household-phone"] = "0512-67771234"
    assert a.post(edit_url(household), fresh).status_code == 302
    wife.refresh_from_db()
    assert wife.mobile == "13912345678"


def test_a_changed_id_number_is_shown_masked_to_community_staff(world, register, a, b):
    household, ma = register.ma_household, register.ma_xiaodong
    old_number = ma.id_number
    new_number = valid_id_number(birth="19840714", sequence="157")
    page_a = open_household(a, household)
    page_b = open_household(b, household)  # 平江街道 staff see and type full numbers
    page_b[member_prefix(page_b, ma) + "id_number"] = new_number
    response = b.post(edit_url(household), page_b)
    assert response.status_code == 302
    ma.refresh_from_db()
    assert ma.id_number == new_number

    response = a.post(edit_url(household), page_a)
    text = response.content.decode()
    assert f"{mask_id_number(old_number)} → {mask_id_number(new_number)}" in text
    assert new_number not in text and old_number not in text


def test_a_household_archived_while_the_page_was_open_is_not_saved(world, register, a, b):
    household = register.ma_household
    phone = household.phone
    page_a = open_household(a, household)
    assert b.post(reverse("residents:household-archive", args=[household.pk])).status_code == 302
    page_a["household-phone"] = "0512-67771234"
    response = a.post(edit_url(household), page_a)
    assert response.status_code == 200
    changed = [c.field for c in response.context["conflicts"][0].changes]
    assert str(Household._meta.get_field("archived_at").verbose_name) in changed
    household.refresh_from_db()
    assert household.phone == phone and household.is_archived


def test_a_member_archived_while_the_page_was_open_is_not_overwritten(world, register, a, b):
    household, wife = register.ma_household, register.ma_wife
    page_a = open_household(a, household)
    assert b.post(reverse("residents:person-archive", args=[wife.pk])).status_code == 302
    page_a[member_prefix(page_a, wife) + "mobile"] = "13912345678"
    response = a.post(edit_url(household), page_a)
    assert response.status_code == 200
    assert response.context["conflicts"][0].subject == "哈丽娜"
    wife.refresh_from_db()
    assert wife.is_archived and wife.mobile == ""


@pytest.mark.parametrize(
    ("raw", "version"),
    [
        ("1", 1),
        (" 12 ", 12),
        ("2147483647", 2147483647),
        *((raw, None) for raw in (None, "", "abc", "0", "-1", "2.0", "１", "1e3", "2147483648")),
        ("99999999999999999999", None),  # no integer column holds it: never queried
    ],
)
def test_posted_versions_are_read_strictly(raw, version):
    assert versioning.parse_version(raw) == version


@pytest.mark.parametrize("version", [None, "abc", "99999999999999999999", "999"])
def test_a_missing_or_forged_household_version_writes_nothing(world, register, a, version):
    household = register.ma_household
    phone = household.phone
    page = open_household(a, household)
    page["household-phone"] = "0512-67771234"
    if version is None:
        del page["household-version"]
    else:
        page["household-version"] = version
    response = a.post(edit_url(household), page)
    assert response.status_code == 200
    assert INVALID in response.content.decode()
    household.refresh_from_db()
    assert (household.phone, household.version) == (phone, 1)


@pytest.mark.parametrize("version", [None, "x' OR 1=1 --"])
def test_a_missing_or_forged_member_version_writes_nothing(world, register, a, version):
    household, wife = register.ma_household, register.ma_wife
    page = open_household(a, household)
    prefix = member_prefix(page, wife)
    page[prefix + "mobile"] = "13912345678"
    if version is None:
        del page[prefix + "version"]
    else:
        page[prefix + "version"] = version
    response = a.post(edit_url(household), page)
    assert response.status_code == 200
    assert INVALID in response.content.decode()
    wife.refresh_from_db()
    assert (wife.mobile, wife.version) == ("", 1)


def test_an_older_version_than_the_page_had_counts_as_stale(world, register, a, b):
    """A forged lower version is no way around the check: it is stale, and says so."""
    household = register.ma_household
    page = open_household(b, household)
    page["household-address"] = "平江路114号"
    b.post(edit_url(household), page)
    page = open_household(a, household)
    page["household-version"] = "1"
    page["household-notes"] = "新的备注"
    response = a.post(edit_url(household), page)
    assert response.status_code == 200 and response.context["conflicts"]
    household.refresh_from_db()
    assert household.notes == ""


def test_a_save_that_lost_the_race_under_the_lock_writes_nothing(world, register):
    """The page was fresh when checked, but another save committed before the row lock:
    the check under the lock refuses, and nothing of the household or members is written."""
    from residents.forms import HouseholdUpdateForm, person_formset
    from residents.views import _ethnicity_table

    household, wife = register.ma_household, register.ma_wife
    phone = household.phone
    user = world.pingjianglu_staff
    viewer = Viewer.of(user)
    members = household.members.current()
    kwargs = {"user": user, "viewer": viewer, "ethnicity_table": _ethnicity_table()}
    unbound = person_formset(extra=0, max_forms=2)(
        instance=household, queryset=members, prefix="members", form_kwargs=kwargs
    )
    form = HouseholdUpdateForm(instance=household, user=user, prefix="household")
    data = what_the_browser_sends(form, unbound.management_form, *unbound)
    data["household-phone"] = "0512-67771234"
    data[member_prefix(data, wife) + "mobile"] = "13912345678"

    household = Household.objects.get(pk=household.pk)
    form = HouseholdUpdateForm(data, instance=household, user=user, prefix="household")
    formset = person_formset(extra=0, max_forms=2)(
        data, instance=household, queryset=members, prefix="members", form_kwargs=kwargs
    )
    assert (
        operations.household_edit_conflicts(
            household=household, form=form, formset=formset, viewer=viewer
        )
        == []
    )
    assert form.is_valid() and formset.is_valid()

    other = Person.objects.get(pk=wife.pk)  # someone else saves the member meanwhile
    other.workplace = "观前街清真饭店"
    other.save()

    with pytest.raises(StaleEdit) as refused:
        operations.household_save_edit(
            household=household, form=form, formset=formset, viewer=viewer
        )
    assert refused.value.conflicts[0].subject == "哈丽娜"
    household.refresh_from_db()
    wife.refresh_from_db()
    assert (household.phone, household.version) == (phone, 1)
    assert (wife.mobile, wife.workplace, wife.version) == ("", "观前街清真饭店", 2)


def test_the_check_under_the_lock_takes_the_row_lock(world, register):
    """On PostgreSQL the version is re-read with SELECT … FOR UPDATE (SQLite serialises
    writers with its IMMEDIATE transactions and has no row locks)."""
    from django.db import transaction

    household = register.ma_household
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert versioning.check(household, 1, subject="这户", lock=True) is None
    locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == (1 if connection.features.has_select_for_update else 0)


# ---------------------------------------------------------------- every write raises the version


def test_moves_archiving_and_restoring_raise_the_version_and_history_records_it(world, register):
    household, wife = register.ma_household, register.ma_wife
    by = world.pingjiang_staff
    operations.household_move(by=by, household=household, community=world.ganjiang)
    assert Household.objects.get(pk=household.pk).version == 2
    assert Person.objects.get(pk=wife.pk).version == 2  # members follow, and are saved
    operations.household_archive(by=by, household=household)
    operations.household_restore(by=by, household=household)
    assert Household.objects.get(pk=household.pk).version == 4
    operations.person_archive(by=by, person=wife)
    operations.person_restore(by=by, person=wife)
    stored = Person.objects.get(pk=wife.pk)
    assert stored.version == 6
    assert [r.version for r in stored.history.all()[:3]] == [6, 5, 4]
    assert household.history.first().version == 4


def test_an_archive_from_a_stale_object_keeps_the_newer_edit(world, register):
    """Archiving saves the whole row: it starts from the stored values, not the ones the
    view read before another save committed."""
    seen = Household.objects.get(pk=register.ma_household.pk)
    fresh = Household.objects.get(pk=register.ma_household.pk)
    fresh.phone = "0512-67771234"
    fresh.save()
    operations.household_archive(by=world.pingjiang_staff, household=seen)
    stored = Household.objects.get(pk=seen.pk)
    assert stored.phone == "0512-67771234" and stored.is_archived and stored.version == 3


def test_set_archived_with_update_fields_raises_the_version(world, register):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    set_archived(visit, True)
    stored = Visit.objects.get(pk=visit.pk)
    assert stored.version == 2 and stored.history.first().version == 2


# ---------------------------------------------------------------- a visit


def test_a_stale_visit_page_is_refused_and_shows_what_changed(world, register, a, b):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    page_a = open_visit(a, visit)
    page_b = open_visit(b, visit)
    page_b["needs"] = "需要申请廉租房"
    assert b.post(visit_url(visit), page_b).status_code == 302

    page_a["learned"] = "马师傅已能下地行走。"
    response = a.post(visit_url(visit), page_a)
    assert response.status_code == 200
    [conflict] = response.context["conflicts"]
    assert conflict.changed_by == "李秀英"
    assert "希望了解大病救助政策。" not in conflict_text(response)  # only what changed
    assert "— → 需要申请廉租房" in conflict_text(response)
    text = response.content.decode()
    assert "李秀英" in text and "马师傅已能下地行走。" in text  # A's text is kept
    visit.refresh_from_db()
    assert visit.needs == "需要申请廉租房"
    assert visit.learned == "家中老人腿脚不便，希望社区帮忙申请助行器。"

    fresh = open_visit(a, visit)
    fresh["learned"] = "马师傅已能下地行走。"
    assert a.post(visit_url(visit), fresh).status_code == 302
    visit.refresh_from_db()
    assert (visit.needs, visit.learned) == ("需要申请廉租房", "马师傅已能下地行走。")
    assert visit.version == 3


def test_a_visitor_added_meanwhile_is_listed_by_name(world, register, a, b):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    page_a = open_visit(a, visit)
    page_b = open_visit(b, visit)
    page_b["visitors"] = [str(world.pingjiang_staff.pk)]
    assert b.post(visit_url(visit), page_b).status_code == 302
    response = a.post(visit_url(visit), page_a)
    assert response.status_code == 200
    assert "— → 李秀英" in conflict_text(response)
    assert list(Visit.objects.get(pk=visit.pk).visitors.all()) == [world.pingjiang_staff]


def test_a_visit_archived_while_the_page_was_open_is_not_saved(world, register, a, b):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    page_a = open_visit(a, visit)
    assert b.post(reverse("outreach:visit-archive", args=[visit.pk])).status_code == 302
    page_a["needs"] = "需要申请廉租房"
    response = a.post(visit_url(visit), page_a)
    assert response.status_code == 200 and response.context["conflicts"]
    visit.refresh_from_db()
    assert visit.needs == "" and visit.is_archived


@pytest.mark.parametrize("version", [None, "latest", "7"])
def test_a_missing_or_forged_visit_version_writes_nothing(world, register, a, version):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    page = open_visit(a, visit)
    page["needs"] = "需要申请廉租房"
    if version is None:
        del page["version"]
    else:
        page["version"] = version
    response = a.post(visit_url(visit), page)
    assert response.status_code == 200
    assert INVALID in response.content.decode()
    visit.refresh_from_db()
    assert (visit.needs, visit.version) == ("", 1)


def test_a_visit_saved_meanwhile_under_the_lock_writes_nothing(world, register):
    visit = make_visit(register.ma_household, group=world.pingjianglu_group)
    user = world.pingjianglu_staff
    page = QueryDict(mutable=True)
    for key, value in what_the_browser_sends(VisitEntry(user=user, instance=visit).form).items():
        page.setlist(key, value if isinstance(value, list) else [value])
    page["needs"] = "需要申请廉租房"
    for prefix in ("follow_ups", "assistance"):
        page[f"{prefix}-TOTAL_FORMS"] = page[f"{prefix}-INITIAL_FORMS"] = "0"
    entry = VisitEntry(page, user=user, instance=Visit.objects.get(pk=visit.pk))
    assert entry.conflicts() == [] and entry.is_valid()
    other = Visit.objects.get(pk=visit.pk)
    other.visited_on = timezone.localdate() - datetime.timedelta(days=5)
    other.save()
    with pytest.raises(StaleEdit):
        entry.save(by=user)
    visit.refresh_from_db()
    assert (visit.needs, visit.version) == ("", 2)
