from django.db import migrations

from network.roles import grant_default_permissions


def forwards(apps, schema_editor):
    # District bureau staff read and export the audit log (network/views_audit.py).
    grant_default_permissions(
        apps, "network", {"district": ["view_auditevent", "export_auditevent"]}
    )


class Migration(migrations.Migration):
    dependencies = [("network", "0005_security")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
