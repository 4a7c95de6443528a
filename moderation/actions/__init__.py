"""Moderation's use cases that write several aggregates, one module each.

A manager holds the guarded writes of one aggregate; a use case that changes a case, a decision,
an account and messages together (filing a report, deciding, appealing, closing an under-age
account) is a module here, calling those managers inside one transaction.
"""
