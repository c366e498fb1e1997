"""Saved searches and alerts: a person's searches with their private feeds (``saved``), and the alerts of new
and updated practices sent to them, and to pack owners of their pinned practices (``sending``)."""
