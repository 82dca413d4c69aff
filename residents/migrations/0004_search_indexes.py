"""Indexes for the registry search on PostgreSQL (a no-op on SQLite).

The search box finds a name or an address by any part of it: ``name LIKE '%晓东%'`` and
``address LIKE '%112号%'`` (Django's ``contains``, which on PostgreSQL compiles to
``col::text LIKE %s``; case does not matter for Chinese, so no UPPER() is involved). A btree
index cannot serve a pattern that starts with ``%``; a GIN trigram index (pg_trgm) can, for
patterns of three characters or more.

The prefix searches (pinyin, initials, reversed ID number: ``LIKE 'mxd%'``) need nothing
here: the fields have ``db_index=True``, for which Django already creates a
``varchar_pattern_ops`` index (``..._like``) that serves ``LIKE 'x%'`` under any collation.
"""

from django.db import migrations

TRIGRAM_INDEXES = [
    ("person_name_trgm", "residents_person", "name"),
    ("household_address_trgm", "residents_household", "address"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("residents", "0003_role_permissions")]
    operations = [migrations.RunPython(forwards, backwards)]
