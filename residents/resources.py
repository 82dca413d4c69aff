"""django-import-export resources for the register.

``PersonResource`` maps a person to the ledger's Chinese column names. It is the stock
per-row import path the ledger import (``ledger_import.py``) is measured against in
``bench/import_bench.py``: it reads clean values only (回族, not 回; M, not 男), saves one
row at a time and checks none of the ledger's rules (ID check digit, scope, duplicates).

It is deliberately NOT registered on the admin: an admin import would bypass those rules
and the scoping of communities, and an admin export would bypass the masking of ID numbers
— the app's own import page and exports are the ways in and out.
"""

from import_export import fields, resources
from import_export.widgets import BooleanWidget, DateWidget, ForeignKeyWidget

from residents.models import Ethnicity, Household, Person


class PersonResource(resources.ModelResource):
    household = fields.Field(
        attribute="household", column_name="household_id", widget=ForeignKeyWidget(Household)
    )
    name = fields.Field(attribute="name", column_name="姓名")
    relation = fields.Field(attribute="relation", column_name="与户主关系")
    sex = fields.Field(attribute="sex", column_name="性别")
    ethnicity = fields.Field(
        attribute="ethnicity", column_name="民族", widget=ForeignKeyWidget(Ethnicity, "name")
    )
    id_number = fields.Field(attribute="id_number", column_name="身份证号")
    birth_date = fields.Field(
        attribute="birth_date", column_name="出生日期", widget=DateWidget("%Y-%m-%d")
    )
    mobile = fields.Field(attribute="mobile", column_name="手机")
    workplace = fields.Field(attribute="workplace", column_name="工作单位")
    education = fields.Field(attribute="education", column_name="文化程度")
    is_key_person = fields.Field(
        attribute="is_key_person", column_name="重点人士", widget=BooleanWidget(), default=False
    )
    is_volunteer = fields.Field(
        attribute="is_volunteer", column_name="志愿者", widget=BooleanWidget(), default=False
    )
    residence_permit_number = fields.Field(
        attribute="residence_permit_number", column_name="居住证号"
    )
    residence_permit_expires_on = fields.Field(
        attribute="residence_permit_expires_on",
        column_name="居住证有效期",
        widget=DateWidget("%Y-%m-%d"),
    )
    notes = fields.Field(attribute="notes", column_name="备注")

    class Meta:
        model = Person
        fields = (
            "id",
            "household",
            "name",
            "relation",
            "sex",
            "ethnicity",
            "id_number",
            "birth_date",
            "mobile",
            "workplace",
            "education",
            "is_key_person",
            "is_volunteer",
            "residence_permit_number",
            "residence_permit_expires_on",
            "notes",
        )
