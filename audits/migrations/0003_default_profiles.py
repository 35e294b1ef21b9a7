from django.db import migrations

from audits.checklist.profiles import PROFILES


def create(apps, schema_editor):
    profile = apps.get_model("audits", "HardeningProfile")
    for fields in PROFILES:
        profile.objects.update_or_create(slug=fields["slug"], defaults=fields)


def remove(apps, schema_editor):
    profile = apps.get_model("audits", "HardeningProfile")
    profile.objects.filter(slug__in=[p["slug"] for p in PROFILES]).delete()


class Migration(migrations.Migration):
    dependencies = [("audits", "0002_audit_log_append_only")]
    operations = [migrations.RunPython(create, remove)]
