"""The ground floor: what every app stands on and that knows no domain.

audit (the append-only, hash-chained log), clock (one `today()`), errors (the domain exceptions),
outbox (work published after commit), the admin site, and the API base (clients, scopes,
authentication, pagination, throttling, idempotency, webhooks). Nothing here imports a rule, an
app or the roof; import-linter checks that in `make test`.
"""
