"""The rapport judgement's field is called ``rapport`` (it was ``klik``); its column keeps
the name ``klik``, so no data moves. The settings record which version the stored
scorecards were last all computed with."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0002_settings_version"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(model_name="rapport", old_name="klik", new_name="rapport"),
                migrations.AlterField(
                    model_name="rapport",
                    name="rapport",
                    field=models.BooleanField(db_column="klik", verbose_name="is there rapport?"),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelOptions(
            name="rapport",
            options={
                "ordering": ["-judged_on", "-id"],
                "verbose_name": "rapport judgement",
                "verbose_name_plural": "rapport judgements",
            },
        ),
        migrations.AddField(
            model_name="loyaltysettings",
            name="scored_version",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
    ]
