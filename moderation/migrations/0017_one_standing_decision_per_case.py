"""At most one standing final decision per case (docs/decisions.md D37).

Before the index is built, the migration looks for cases that already break the rule and stops
with their ids, so that an operator sees which cases to resolve (overturn the extra decision
through an appeal, or correct the data with a reviewed script) instead of a bare "could not create
unique index". The index locks writes to the decision table while it is built; the table grows
with decisions taken by people, so the lock is short.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, Q


def refuse_if_already_broken(apps, schema_editor):
    Decision = apps.get_model("moderation", "Decision")
    broken = list(
        Decision.objects.using(schema_editor.connection.alias)
        .exclude(type="escalate")
        .filter(overturned_at__isnull=True)
        .values("case_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("case_id", flat=True)
        .order_by("case_id")[:50]
    )
    if broken:
        raise RuntimeError(
            "These cases have more than one standing final decision: "
            + ", ".join(map(str, broken))
            + ". Overturn the extra decision of each (or correct the data with a reviewed "
            "script), then run the migration again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0016_report_receipts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(refuse_if_already_broken, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.UniqueConstraint(
                condition=Q(Q(("type", "escalate"), _negated=True), ("overturned_at__isnull", True)),
                fields=("case",),
                name="one_standing_decision_per_case",
            ),
        ),
    ]
