"""A closed (banned, inactive) app account may have no birthdate: it was erased (issue 7).

The check `app_user_has_birthdate_and_country` gains one alternative: `status = 'banned' AND NOT
is_active AND birthdate IS NULL`, which is what `accounts.closure.close_account` leaves behind.

The model (`User.Meta.constraints`) states the same condition.
"""

from django.db import migrations, models
from django.db.models import Q

OLD = models.CheckConstraint(
    condition=Q(is_staff=True) | (Q(birthdate__isnull=False) & ~Q(country="")),
    name="app_user_has_birthdate_and_country",
    violation_error_message="An app user needs a birthdate and a country.",
)
NEW = models.CheckConstraint(
    condition=Q(is_staff=True)
    | (Q(birthdate__isnull=False) & ~Q(country=""))
    | Q(status="banned", is_active=False, birthdate__isnull=True),
    name="app_user_has_birthdate_and_country",
    violation_error_message="An app user needs a birthdate and a country.",
)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_erasure_sanction")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RemoveConstraint(model_name="user", name=OLD.name),
                migrations.AddConstraint(model_name="user", constraint=NEW),
            ],
            state_operations=[
                migrations.RemoveConstraint(model_name="user", name=OLD.name),
                migrations.AddConstraint(model_name="user", constraint=NEW),
            ],
        ),
    ]
