"""Give the staff roles the moderation permissions, which exist from 0002/0003 on.

`accounts.roles.ROLE_PERMISSIONS` lists `moderation.claim_case`, `decide_case`, `take_over_case`,
`decide_appeal`, `review_flag`, `export_statements`, ...; `accounts/migrations/0003`
ran before these permissions existed and skipped them, so the roles are synced again here (the
pattern that migration's docstring asks for).
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.roles import sync_roles

    sync_roles(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0003_message_and_thread_subjects"),
        ("accounts", "0003_staff_roles"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
