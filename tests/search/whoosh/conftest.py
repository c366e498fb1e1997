"""Tests of the Whoosh engine's own workings: only that engine."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def engine() -> str:
    return "whoosh"
