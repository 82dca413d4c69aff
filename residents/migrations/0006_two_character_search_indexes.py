"""Indexes for two-character searches on PostgreSQL (a no-op on SQLite).

A trigram index cannot serve ``LIKE '%马晓%'``: two characters hold no trigram, so such a
search read every household's address. Chinese names and place words are mostly two
characters, so this is the common search. These indexes cover each name and address with
every character doubled (马晓东 → 马马晓晓东东); ``x`` contains ``马晓`` exactly when the doubled
``x`` contains ``马马晓晓``, which has trigrams. ``residents.selectors.search_persons`` adds that
condition next to the plain ``LIKE`` for short searches.
"""

from django.db import migrations

DOUBLED_INDEXES = [
    ("person_name_doubled_trgm", "residents_person", "name"),
    ("household_address_doubled_trgm", "residents_household", "address"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in DOUBLED_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin "
            f"(regexp_replace({column}::text, '(.)', '\\1\\1', 'g') gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in DOUBLED_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("residents", "0005_current_order_index")]
    operations = [migrations.RunPython(forwards, backwards)]
