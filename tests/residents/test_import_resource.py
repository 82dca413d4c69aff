"""PersonResource (django-import-export): the benchmark's baseline keeps working, and it is
not offered on the admin, where it would bypass the ledger's checks and scoping."""

import tablib
from django.contrib import admin
from import_export.admin import ImportExportMixinBase

from residents.models import Person
from residents.resources import PersonResource
from tests.factories import HouseholdFactory, valid_id_number


def test_person_resource_imports_clean_rows_with_history(world):
    household = HouseholdFactory(community=world.pingjianglu)
    resource = PersonResource()
    headers = [f.column_name for f in resource.get_import_fields()]
    row = {
        "household_id": household.pk,
        "姓名": "马德明",
        "性别": "M",
        "民族": "回族",
        "身份证号": valid_id_number(sequence="151"),
        "出生日期": "1984-07-14",
        "与户主关系": "head",
    }
    dataset = tablib.Dataset([row.get(h, "") for h in headers], headers=headers)
    result = resource.import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    person = Person.objects.get(name="马德明")
    assert (person.community, person.name_pinyin) == (world.pingjianglu, "mademing")
    assert person.history.count() == 1


def test_the_admin_offers_no_import_or_export_of_persons():
    assert not isinstance(admin.site._registry.get(Person), ImportExportMixinBase)
