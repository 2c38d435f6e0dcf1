from django.db import migrations


def install(apps, schema_editor):
    from relatiebeheer.satisfaction.defaults import install as install_defaults

    install_defaults(apps.get_model("satisfaction", "Survey"), apps.get_model("satisfaction", "Question"))
    Settings = apps.get_model("satisfaction", "SatisfactionSettings")
    Settings.objects.get_or_create(pk=1, defaults={"auto_send_kinds": ["service"]})


class Migration(migrations.Migration):
    dependencies = [("satisfaction", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
