"""Accounts: people, their passwords, sign-in and its throttling, invitation and link tokens."""
