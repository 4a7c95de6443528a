"""Messaging reacts to account changes (thread locking); filled in by the messaging issue."""
