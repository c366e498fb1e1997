"""Contributions and review: drafts, submissions, reviewers' decisions, and the notifications they send."""
