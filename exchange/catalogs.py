"""The interface's words outside a request: letters and notifications, pack exports, in a chosen language.

The web reads the same gettext catalogs (``exchange/translations``) through Flask-Babel, for the
language of each request; code that runs elsewhere (a service writing a notification for someone, the
export worker) names the language itself and gets it here. Messages are marked for extraction with
``N_`` where they are written and translated with :func:`gettext` where the reader is known.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.support import NullTranslations
from babel.support import Translations

#: the catalogs: messages.pot, and <language>/LC_MESSAGES/messages.{po,mo}
DIRECTORY = Path(__file__).resolve().parent / "translations"


def N_(message: str) -> str:  # noqa: N802  # gettext's name for "extract this message, translate it later"
    """``message`` itself: marks it for the catalogs where it is written, to be translated where it is read."""
    return message


@functools.cache
def translations(language: str) -> NullTranslations:
    """The catalog of ``language`` (English, the messages themselves, for a language without one)."""
    return Translations.load(str(DIRECTORY), [language])


def gettext(language: str | None, message: str, **values: Any) -> str:
    """``message`` in ``language`` (English when None) with ``values`` put in."""
    text = translations(language or "en").gettext(message)
    return text % values if values else text


class Message(str):
    """A sentence in English that keeps its catalog message and values, to be said again in another language.

    It is a ``str`` (the English sentence), so logs, the command line and tests read it as before; a
    page or a letter asks for :func:`said` in its reader's language. Values may be Messages too.
    """

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Message:
        text = super().__new__(cls, template % values if values else template)
        text.template, text.values = template, values
        return text


class Lines(str):
    """Several sentences, one a line after a dash, that keeps them to be said again (as a :class:`Message`'s
    value: a refusal that names every problem)."""

    parts: tuple[str, ...]

    def __new__(cls, parts: Iterable[str]) -> Lines:
        kept = tuple(parts)
        text = super().__new__(cls, "\n".join(f"- {part}" for part in kept))
        text.parts = kept
        return text


def stored(text: str) -> str:
    """``text`` as a text column keeps it: a :class:`Message` as JSON of its template and values (so
    :func:`restored` gives it back, to be said in each reader's language), other text as it is."""
    return json.dumps(_encoded(text), ensure_ascii=False) if isinstance(text, Message) else text


def restored(text: str | None) -> str | None:
    """What :func:`stored` kept: the :class:`Message` again, or the text as it is (text stored before, or plain)."""
    if not text or not text.startswith('{"template": '):
        return text
    try:
        kept = json.loads(text)
    except ValueError:
        return text
    return _decoded(kept) if _is_message(kept) else text


def _encoded(value: Any) -> Any:
    if isinstance(value, Message):
        return {"template": value.template, "values": {name: _encoded(v) for name, v in value.values.items()}}
    return value if isinstance(value, (int, float)) else str(value)


def _is_message(kept: Any) -> bool:
    return (isinstance(kept, dict) and set(kept) == {"template", "values"} and isinstance(kept["template"], str)
            and isinstance(kept["values"], dict))


def _decoded(kept: Any) -> Any:
    if not _is_message(kept):
        return kept
    return Message(kept["template"], **{name: _decoded(value) for name, value in kept["values"].items()})


def said(text: Any, language: str | None) -> Any:
    """``text`` in ``language`` when it is a :class:`Message` or :class:`Lines` (and its values that are); as it
    is otherwise."""
    if isinstance(text, Lines):
        return Lines(said(part, language) for part in text.parts)
    if not isinstance(text, Message):
        return text
    return gettext(language, text.template, **{name: said(value, language) for name, value in text.values.items()})


def environment_language(environ: Mapping[str, str] | None = None) -> str:
    """The language a command's environment asks for (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``,
    as gettext reads them), when it is one the interface speaks; English otherwise."""
    environ = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            for wanted in value.split(":"):  # LANGUAGE may list several, in order
                code = wanted.split(".")[0].split("_")[0].split("-")[0].lower()
                if code in ("id", "ja", "en"):
                    return code
            return "en"
    return "en"
