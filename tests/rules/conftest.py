"""The pure rules' tests: plain pytest, no database, no Django settings, no clock (issue 10)."""
