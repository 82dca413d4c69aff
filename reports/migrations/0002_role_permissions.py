from django.db import migrations

from network.roles import grant_default_permissions


def actions(models, verbs=("view", "add", "change")):
    return [f"{verb}_{model}" for model in models for verb in verbs]


DEFAULTS = {
    # The bureau defines reports, sets rules and budgets, and accepts what comes up.
    "district": [
        *actions(["reportdefinition", "figurerule", "budget", "report"]),
        "view_summary",
        "submit_report",
        "accept_report",
        "export_reports",
    ],
    # A sub-district reports, approves or returns its communities' reports, keeps budgets.
    "subdistrict": [
        *actions(["reportdefinition", "figurerule"], verbs=("view",)),
        *actions(["budget", "report"]),
        "view_summary",
        "submit_report",
        "approve_report",
        "export_reports",
    ],
    "community": [
        *actions(["reportdefinition", "figurerule", "budget"], verbs=("view",)),
        *actions(["report"]),
        "view_summary",
        "submit_report",
        "export_reports",
    ],
}


def forwards(apps, schema_editor):
    grant_default_permissions(apps, "reports", DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("network", "0002_role_groups")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
