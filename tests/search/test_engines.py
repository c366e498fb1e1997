"""Every engine in ``ENGINES`` offers the whole ``SearchBackend`` protocol, with its exact signatures.

The search suite checks what engines answer; this checks what they are, so that a method an engine
spells differently (or lacks) fails here rather than in the first page that calls it.
"""

from __future__ import annotations

import inspect

import pytest

from exchange.search.backend import CAPABILITIES
from exchange.search.backend import SearchBackend
from tests.search.conftest import ENGINES

MEMBERS = sorted(name for name, value in vars(SearchBackend).items() if inspect.isfunction(value)
                 and not name.startswith("_"))


def test_the_protocol_is_what_the_engines_are_checked_against():
    assert {"search", "related", "suggest", "update", "rebuild", "check", "verify"} <= set(MEMBERS)


@pytest.mark.parametrize("name", list(ENGINES))
def test_an_engine_has_every_method_of_the_protocol_with_its_signature(name):
    engine_class, _make = ENGINES[name]
    for member in MEMBERS:
        wanted = inspect.signature(getattr(SearchBackend, member))
        offered = getattr(engine_class, member, None)
        assert callable(offered), f"{name} lacks {member}"
        got = inspect.signature(offered)
        assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == \
               [(p.name, p.kind, p.default) for p in wanted.parameters.values()], f"{name}.{member}{got} != {wanted}"
        assert got.return_annotation == wanted.return_annotation, f"{name}.{member} returns {got.return_annotation}"


@pytest.mark.parametrize("name", list(ENGINES))
def test_an_engine_names_only_known_capabilities(name):
    engine_class, _make = ENGINES[name]
    assert isinstance(engine_class.capabilities, frozenset) and engine_class.capabilities <= CAPABILITIES
