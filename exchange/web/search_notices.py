"""The search engines' notices ("Only the first 20 search terms were used.") in the interface language.

The engines speak English and know nothing of requests; each notice they give is matched here against
the sentence it is, and said again in the reader's language with the same values. A notice not listed
(an engine gained a new one) is shown as the engine wrote it, and the page tests that look for English
in Indonesian and Japanese pages find it.
"""

from __future__ import annotations

import re

from flask_babel import gettext


def N_(message: str) -> str:  # noqa: N802  # gettext's name for "extract this message, translate it later"
    return message


_QUOTED = "“(?P<query>.*)”; showing results for “(?P<corrected>.*)”"

#: each notice of the engines (exchange/search), as a pattern and as a message of the catalogs
NOTICES = [
    (re.compile(r"Your search was shortened to its first (?P<count>\d+) characters\."),
     N_("Your search was shortened to its first %(count)s characters.")),
    (re.compile(r"The search could not be read as a query, so its words were searched for\."),
     N_("The search could not be read as a query, so its words were searched for.")),
    (re.compile(r"Only the first (?P<count>\d+) search terms were used\."),
     N_("Only the first %(count)s search terms were used.")),
    (re.compile(r"No practice has all of these words; showing practices with any of them\."),
     N_("No practice has all of these words; showing practices with any of them.")),
    (re.compile(r"The search took too long and was stopped; try fewer or more specific words\."),
     N_("The search took too long and was stopped; try fewer or more specific words.")),
    (re.compile(f"Nothing matched {_QUOTED}\\."),
     N_("Nothing matched “%(query)s”; showing results for “%(corrected)s”.")),
    (re.compile(r"Showing results for “(?P<corrected>.*)” instead of “(?P<query>.*)”\."),
     N_("Showing results for “%(corrected)s” instead of “%(query)s”.")),
    (re.compile(r"There is no (?P<name>\w+) “(?P<value>.*)”, so that filter was left out\."),
     N_("There is no %(name)s “%(value)s”, so that filter was left out.")),
    (re.compile(r"There is no (?P<name>\w+) “(?P<value>.*)”, so that filter was left out\. "
                r"Did you mean (?P<meant>.*)\?"),
     N_("There is no %(name)s “%(value)s”, so that filter was left out. Did you mean %(meant)s?")),
    (re.compile(r"Full-text search is unavailable for now; only titles and summaries are searched, "
                r"without spelling suggestions or snippets\."),
     N_("Full-text search is unavailable for now; only titles and summaries are searched, "
        "without spelling suggestions or snippets.")),
    (re.compile(r"Full-text search is being rebuilt; for now only titles and summaries are searched, "
                r"without spelling suggestions or snippets\."),
     N_("Full-text search is being rebuilt; for now only titles and summaries are searched, "
                  "without spelling suggestions or snippets.")),
]


def translated(notice: str) -> str:
    """``notice`` in the interface language (as it is, when it is not one of the engines' known notices)."""
    for pattern, message in NOTICES:
        found = pattern.fullmatch(notice)
        if found:
            return str(gettext(message, **found.groupdict()))
    return notice
