"""One list of every notice an app user is sent (issue 12.2): moderation's notices (decisions,
reporter outcomes, appeals, restrictions ended) and the account notices of `outbox.UserNotice` (tier
changes, rule changes, the minimum-age sweep), as a view read through the unmanaged model
`NoticeFeedItem`. Staff alerts (case_overdue) are not a user's notices. A filter on the user is
pushed into both branches, each served by its (recipient, created_at) index."""

from django.db import migrations

VIEW = """
CREATE VIEW moderation_notice_feed AS
SELECT 'moderation-' || n.id AS uid, 'moderation' AS source, n.id AS source_id,
       n.recipient_id AS user_id, n.kind AS kind, n.code AS code, n.tier AS tier,
       n.subject AS subject, n.body AS body, n.created_at AS created_at,
       n.delivered_at AS delivered_at, n.read_at AS read_at
  FROM moderation_notice n
 WHERE n.kind <> 'case_overdue'
UNION ALL
SELECT 'account-' || u.id, 'account', u.id, u.user_id, u.kind, u.kind, u.tier, u.subject, u.body,
       u.created_at, u.delivered_at, u.read_at
  FROM outbox_usernotice u
"""


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0009_notice_code_and_delivery_state"),
        ("outbox", "0004_user_notice_delivery_state"),
    ]

    operations = [
        migrations.RunSQL(VIEW, reverse_sql="DROP VIEW moderation_notice_feed"),
    ]
