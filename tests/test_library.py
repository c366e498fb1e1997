"""Publishing and reading practices through the library service."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from exchange import policy
from exchange.errors import PracticeNotFound
from exchange.library import publishing
from exchange.library import reading
from exchange.library.practice import InvalidPractice
from exchange.models import AuditEntry
from exchange.models import PracticeRecord


def test_publishing_creates_version_one_then_new_versions(instance, make_practice):
    first = publishing.publish(instance, make_practice(), "flood-warning", "test")
    assert (first.status, first.practice_id, first.version) == ("created", "jakarta/flood-warning", 1)
    again = publishing.publish(instance, make_practice(), "flood-warning", "test")
    assert (again.status, again.version) == ("unchanged", 1)
    changed = publishing.publish(instance, make_practice(title="Better title"), "flood-warning", "test", note="clearer")
    assert (changed.status, changed.version) == ("updated", 2)
    assert instance.store.read_version("jakarta/flood-warning", 1) == make_practice()
    assert instance.store.read_current("jakarta/flood-warning") == make_practice(title="Better title")
    with instance.db.session() as session:
        view = reading.get(instance, "jakarta/flood-warning", None)
        assert view.record.title == "Better title"
        assert [(v.version, v.note) for v in view.versions] == [(2, "clearer"), (1, "")]
        old = reading.get(instance, "jakarta/flood-warning", None, version=1)
        assert old.practice.title == "Community flood early warning" and not old.is_current
        actions = session.scalars(sa.select(AuditEntry.action).where(AuditEntry.target == "jakarta/flood-warning"))
        assert list(actions) == ["practice.publish", "practice.publish"]


def test_unknown_city_and_wrong_country_are_refused_without_writing(instance, make_practice):
    with pytest.raises(InvalidPractice, match="city: 'atlantis' is not a partner city"):
        publishing.publish(instance, make_practice(city="atlantis"), "x", "test")
    with pytest.raises(InvalidPractice, match="country: 'JP' does not match jakarta's country 'ID'"):
        publishing.publish(instance, make_practice(country="JP"), "x", "test")
    assert not list(instance.store.practice_ids())
    assert not (instance.path / "history").exists()


def test_partners_only_practices_are_not_found_for_anonymous_viewers(instance, make_practice):
    publishing.publish(instance, make_practice(visibility="partners"), "internal-contacts", "test")

    class PartnerStaff:
        is_authenticated = True
        is_partner_staff = True

    with pytest.raises(PracticeNotFound):
        reading.get(instance, "jakarta/internal-contacts", policy.ANONYMOUS)
    with pytest.raises(PracticeNotFound):
        reading.get(instance, "jakarta/internal-contacts", policy.ANONYMOUS, version=1)
    assert reading.get(instance, "jakarta/internal-contacts", PartnerStaff()).version == 1


def test_translations_are_linked_both_ways(instance, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "test")
    publishing.publish(instance, make_practice(language="id", title="Peringatan banjir",
                                            translation_of="jakarta/flood-warning"), "peringatan-banjir", "test")
    original = reading.get(instance, "jakarta/flood-warning", None)
    translation = reading.get(instance, "jakarta/peringatan-banjir", None)
    assert [r.id for r in original.translations] == ["jakarta/peringatan-banjir"]
    assert translation.original.id == "jakarta/flood-warning"


def test_catalogue_row_holds_the_metadata(instance, make_practice):
    publishing.publish(instance, make_practice(tags="[example]"), "flood-warning", "test")
    with instance.db.session() as session:
        record = session.get(PracticeRecord, "jakarta/flood-warning")
    assert record.hazards == ["riverine-flood", "extreme-rainfall"] and record.meta["tags"] == ["example"]
    assert record.meta["published"] == "2023-12-05" and record.visibility == "public"
