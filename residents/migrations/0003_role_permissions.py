from django.db import migrations

from network.roles import grant_default_permissions

CASEWORK = [
    f"{action}_{model}"
    for model in ("household", "person", "honour")
    for action in ("view", "add", "change")
]
DEFAULTS = {
    "district": [
        *CASEWORK,
        "view_dibaostandard", "add_dibaostandard", "change_dibaostandard",
        "view_full_id_number", "view_sensitive", "import_households", "export_households",
        "merge_records", "hand_over_household", "view_idnumberreveal", "view_ethnicity",
    ],
    "subdistrict": [
        *CASEWORK,
        "view_dibaostandard", "add_dibaostandard", "change_dibaostandard",
        "view_full_id_number", "view_sensitive", "import_households", "export_households",
        "merge_records", "hand_over_household", "view_ethnicity",
    ],
    "community": [*CASEWORK, "view_sensitive", "export_households", "view_ethnicity"],
    "liaison": ["view_household", "view_person", "view_honour", "view_ethnicity"],
}


def forwards(apps, schema_editor):
    grant_default_permissions(apps, "residents", DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("residents", "0002_ethnic_groups"), ("network", "0002_role_groups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
