from django.db import migrations

from network.roles import grant_default_permissions


def forwards(apps, schema_editor):
    grant_default_permissions(apps, "network", {"district": ["view_exportlog"]})


class Migration(migrations.Migration):
    dependencies = [("network", "0003_export_log")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
