"""Practice Exchange: a library where partner cities share disaster-risk practices.

The application is made in ``exchange.app`` (``create_app``); ARCHITECTURE.md is the map of the rest.
"""
