from django.db import migrations

from network.roles import grant_default_permissions


def crud(model, *actions):
    return [f"{action}_{model}" for action in actions]


DEFAULTS = {
    "district": [
        *crud("area", "view", "add", "change"),
        *crud("areapopulation", "view", "add", "change"),
        *crud("liaisongroup", "view", "add", "change"),
        *crud("user", "view", "add", "change"),
        *crud("post", "view", "add", "change"),
        "import_users",
    ],
    "subdistrict": [
        "view_area",
        "view_areapopulation",
        *crud("liaisongroup", "view", "add", "change"),
        *crud("user", "view", "add", "change"),
        *crud("post", "view", "add", "change"),
    ],
    "community": [
        "view_area",
        "view_areapopulation",
        *crud("liaisongroup", "view", "add", "change"),
        "view_user",
        "view_post",
    ],
    "liaison": ["view_area", "view_liaisongroup"],
}


def forwards(apps, schema_editor):
    grant_default_permissions(apps, "network", DEFAULTS)


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
