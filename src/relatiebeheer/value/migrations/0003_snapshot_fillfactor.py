"""Leave half of each snapshot page free on PostgreSQL.

The recompute updates every snapshot row in place (``value.services._write_postgres``);
with room on the same page, an update that leaves the indexed columns alone is a
heap-only tuple update and touches no index. SQLite rewrites the rows and needs nothing.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE "value_accountmetrics" SET (fillfactor = 50)')


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE "value_accountmetrics" RESET (fillfactor)')


class Migration(migrations.Migration):
    dependencies = [("value", "0002_snapshot_lighter")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
