"""Domain errors: four kinds of refusal, and the errors that several packages raise.

Every error a service raises for something it was asked to do is one of four kinds:

* :class:`NotFound`: there is no such thing, or the asker may not know of it (the two look the same);
* :class:`Forbidden`: the asker may not do this;
* :class:`Conflict`: the thing is not in a state that allows it now (someone changed it meanwhile);
* :class:`Invalid`: what was given is wrong; the message names the field and the problem.

Errors particular to one package live beside the code that raises them and subclass one of the kinds
(``InvalidPractice`` in ``library.practice``, ``StaleEdit`` in ``review.submissions``, …), so that
``exchange.web.errors`` maps them all to HTTP in one place. Each kind also keeps the built-in base its
errors had before (``LookupError``, ``PermissionError``, ``ValueError``), so existing handlers still
catch them. This module knows nothing of the web.
"""

from __future__ import annotations


class DomainError(Exception):
    """Something asked of a service cannot be done; ``str(error)`` says why."""


class NotFound(DomainError, LookupError):
    """No such thing, or one the asker may not see (unknown and forbidden look the same outside)."""


class Forbidden(DomainError, PermissionError):
    """The asker may not do this."""


class Conflict(DomainError):
    """The thing is not in a state that allows this now."""


class Invalid(DomainError, ValueError):
    """What was given is not acceptable; the message names the field and the problem."""


class SettingError(Invalid):
    """A setting (the instance's config.py or an ``EXCHANGE_*`` variable) cannot be used; the message names it."""


class PracticeNotFound(NotFound):
    """No such practice, or one the viewer may not see (the two look the same outside)."""


class CityNotFound(NotFound):
    """No such partner city."""


class PackNotFound(NotFound):
    """No such pack, or one the person may not see."""


class NotAllowed(Forbidden):
    """The person may not do this (shown as 404 or 403, and audited)."""


class InvalidCity(Invalid):
    """A city cannot be added as given; the message says why."""
