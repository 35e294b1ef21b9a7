"""Per-department counters for the reports (DepartmentTally), counted once from the existing
host states; and indexes for the webhook's lookup of a host by Zoom user id (the snapshots')
and by e-mail in any case (on PostgreSQL: `iexact` is UPPER(email) = UPPER(...), which the
trigram index of 0005 answers slowly when every address shares the institution's domain)."""

from django.conf import settings
from django.db import migrations, models


def count_existing(apps, schema_editor):
    from audits.reports.state import rebuild_tallies

    rebuild_tallies(
        apps.get_model("audits", "HostState"),
        apps.get_model("audits", "FailingItem"),
        apps.get_model("audits", "DepartmentTally"),
    )


def index_email(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS webhook_user_email_upper "
            'ON auth_user ((UPPER("email"::text)))'
        )


def drop_email_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS webhook_user_email_upper")


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0007_job_retry_in_database"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DepartmentTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("department_key", models.CharField(blank=True, max_length=200)),
                ("figure", models.CharField(max_length=80)),
                ("count", models.BigIntegerField(default=0)),
                (
                    "name",
                    models.CharField(
                        blank=True, help_text="The department as last seen", max_length=200
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="snapshot",
            index=models.Index(fields=["zoom_user_id"], name="snapshot_zoom_user"),
        ),
        migrations.AddConstraint(
            model_name="departmenttally",
            constraint=models.UniqueConstraint(
                fields=("department_key", "figure"), name="one_tally_per_dept_figure"
            ),
        ),
        migrations.RunPython(count_existing, migrations.RunPython.noop),
        migrations.RunPython(index_email, drop_email_index),
    ]
