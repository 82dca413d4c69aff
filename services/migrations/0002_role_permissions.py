from django.db import migrations

from network.roles import grant_default_permissions


def actions(models, verbs=("view", "add", "change")):
    return [f"{verb}_{model}" for model in models for verb in verbs]


CASEWORK = ["consent", "servicecard", "carduse", "survey", "surveyanswer"]
PARTNERS = ["merchant", "agreement", "agreementitem"]
DEFAULTS = {
    # The bureau reviews and counts; the offices sign and issue.
    "district": [
        *actions(PARTNERS + CASEWORK + ["merchantaccount"], verbs=("view",)),
        "export_services",
    ],
    "subdistrict": [
        *actions(PARTNERS + CASEWORK + ["merchantaccount"]),
        "export_services",
    ],
    "community": [
        *actions(PARTNERS, verbs=("view",)),
        *actions(CASEWORK),
        "export_services",
    ],
    # A liaison reads which merchants serve the community and records surveys.
    "liaison": [
        *actions(PARTNERS, verbs=("view",)),
        *actions(["survey", "surveyanswer"]),
    ],
}


def forwards(apps, schema_editor):
    grant_default_permissions(apps, "services", DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("services", "0001_initial"), ("network", "0002_role_groups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
