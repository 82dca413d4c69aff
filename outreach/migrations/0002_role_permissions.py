from django.db import migrations

from network.roles import grant_default_permissions

CASEWORK = ["visit", "followup", "assistance", "photo", "meeting", "consultation", "pairing"]
NETWORK = ["liaison", "groupmembership", "zonepost", "workgroup", "workgroupmember"]


def actions(models, verbs=("view", "add", "change")):
    return [f"{verb}_{model}" for model in models for verb in verbs]


STAFF = [
    *actions(CASEWORK),
    *actions(NETWORK),
    "view_festival",
    "view_obligation",
    "export_outreach",
    "view_compliance",
]
DEFAULTS = {
    "district": STAFF,
    "subdistrict": [*STAFF, "hand_over_pairing"],
    "community": [*STAFF, "hand_over_pairing"],
    # A liaison logs visits and meetings of their own group and reads what their
    # community does; they neither manage the network nor export.
    "liaison": [
        *actions(["visit", "followup", "assistance", "photo", "meeting"]),
        "view_pairing",
        "view_liaison",
        "view_groupmembership",
        "view_festival",
    ],
}


def forwards(apps, schema_editor):
    grant_default_permissions(apps, "outreach", DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("outreach", "0001_initial"), ("network", "0002_role_groups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
