"""The staff portal in the browser (issue 5): moderators' pages, the admin site, two-factor login.

Views are thin: they read through the domain's QuerySet vocabulary and change state only by calling
the managers and services of `accounts`, `messaging` and `moderation`, which check the rules and
write the audit entries. No rule is re-implemented here (STYLE.md idea 1).
"""
