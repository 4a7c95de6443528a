"""State only: Django's internal paths use the refusing manager too (no SQL)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.AlterModelOptions(
            name="auditentry",
            options={
                "base_manager_name": "objects",
                "ordering": ["-seq"],
                "permissions": [("verify_chain", "Can run the audit chain verification")],
                "verbose_name_plural": "audit entries",
            },
        ),
    ]
