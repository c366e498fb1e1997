"""A Hypothesis state machine over the library: whatever people do, in whatever order, the promises hold.

Rules: create, edit through review, two reviewers approving edits of one version at once, restrict,
make public, restore, import, a crash (before the commit, or after it before the library file is
replaced) followed by a restart, and searches as an anonymous visitor and as partner staff.
Invariants after every step: no accepted text is lost, history is complete, nothing restricted is
ever visible to an anonymous visitor (pages, compare, search counts and facets), and the files, the
database and the index agree.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import string
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule

from exchange import consistency
from exchange import policy
from exchange.accounts import people
from exchange.app import create_app
from exchange.errors import PracticeNotFound
from exchange.initialise import initialise
from exchange.instance import Instance
from exchange.library import publishing
from exchange.library import reading
from exchange.review import submissions
from exchange.search import discovery
from exchange.search.backend import SearchRequest
from tests.conftest import SEARCH_SECONDS
from tests.conftest import Databases
from tests.conftest import practice_text
from tests.test_accounts import PASSWORD

#: Examples per run and steps per example (PX_STATEFUL_EXAMPLES asks for a longer run by hand).
EXAMPLES = int(os.environ.get("PX_STATEFUL_EXAMPLES", "30"))
STEPS = 12
SLUGS = ("sirens", "shelter", "pumps")
PEOPLE = (("siti@jakarta.example", "Siti", ["contributor"]), ("ayu@jakarta.example", "Ayu", ["contributor"]),
          ("rina@network.example", "Rina", ["reviewer"]), ("budi@network.example", "Budi", ["reviewer"]))


@pytest.fixture(scope="module")
def template(tmp_path_factory, database: Databases) -> Iterator[tuple[Path, str | None]]:  # type: ignore[no-untyped-def]
    """An instance with its schema, cities, people and an empty index, copied for each example: its folder
    and the URL of its database (None: the SQLite file in the folder)."""
    folder = tmp_path_factory.mktemp("template") / "instance"
    with database.fresh() as url:
        app = create_app({"INSTANCE": folder, "TESTING": True, "DATABASE_URL": url})
        instance = app.extensions["exchange"]
        initialise(instance, "test", seed=False)
        for email, name, roles in PEOPLE:
            people.create_user(instance, email, name, roles, ["jakarta"], "test", PASSWORD)
        instance.search.close()
        instance.db.dispose()
        yield folder, url


def word(n: int) -> str:
    """A made-up word that occurs in exactly one version's text: letters only (every analyser keeps it),
    far from every other such word (so that no spelling correction turns one into another)."""
    chooser = random.Random(n)
    return "zq" + "".join(chooser.choice(string.ascii_lowercase) for _ in range(8))


@dataclass
class Version:
    text: bytes
    visibility: str
    word: str


@dataclass
class Practice:
    versions: list[Version] = field(default_factory=list)


class Library(RuleBasedStateMachine):
    template: Path
    template_url: str | None
    databases: Databases

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="px-state-"))
        shutil.copytree(self.template, self.folder / "instance")
        self.database = contextlib.ExitStack()
        url = self.database.enter_context(self.databases.fresh(like=self.template_url))
        self.instance = Instance.open(self.folder / "instance", url, search_seconds=SEARCH_SECONDS)
        self.people = [people.load(self.instance, f"{n}:1") for n in range(1, len(PEOPLE) + 1)]
        self.practices: dict[str, Practice] = {}
        self.counter = 0

    def teardown(self) -> None:
        self.instance.search.close()
        self.instance.db.dispose()
        self.database.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # Helpers ------------------------------------------------------------------------------------

    def _text(self, visibility: str, summary: str = "A practice.") -> tuple[bytes, str]:
        self.counter += 1
        secret = word(self.counter)
        return practice_text(body=f"## Steps\n\nSay {secret} on the radio.\n", visibility=visibility,
                             summary=summary), secret

    def _accepted(self, slug: str, text: bytes, visibility: str, secret: str, version: int | None) -> None:
        practice = self.practices.setdefault(slug, Practice())
        if version is not None and version > len(practice.versions):
            practice.versions.append(Version(text, visibility, secret))
        assert version == len(practice.versions), (slug, version, len(practice.versions))

    def _current(self, slug: str) -> Version:
        return self.practices[slug].versions[-1]

    def _publish(self, slug: str, visibility: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        text, secret = self._text(visibility)
        outcome = publishing.publish(self.instance, text, slug, "test", **kwargs)
        self._accepted(slug, text, visibility, secret, outcome.version)

    # Rules --------------------------------------------------------------------------------------

    @initialize(slug=st.sampled_from(SLUGS), visibility=st.sampled_from(["public", "partners"]))
    def first_practice(self, slug: str, visibility: str) -> None:
        self._publish(slug, visibility)

    @rule(slug=st.sampled_from(SLUGS), visibility=st.sampled_from(["public", "partners"]))
    def create(self, slug: str, visibility: str) -> None:
        if slug in self.practices:
            return
        self._publish(slug, visibility, expected_version=None)

    @precondition(lambda self: self.practices)
    @rule(data=st.data(), visibility=st.sampled_from(["public", "partners"]))
    def edit_through_review(self, data, visibility: str) -> None:  # type: ignore[no-untyped-def]
        slug = data.draw(st.sampled_from(sorted(self.practices)))
        siti, _ayu, rina, _budi = self.people
        text, secret = self._text(visibility, "Edited.")
        base = len(self.practices[slug].versions)
        draft = submissions.save(self.instance, siti, "jakarta", slug, text.decode(), base)
        submissions.submit(self.instance, siti, draft.id)
        version = submissions.review(self.instance, rina, draft.id, "approve")
        self._accepted(slug, text, visibility, secret, version)

    @precondition(lambda self: self.practices)
    @rule(data=st.data())
    def two_reviewers_approve_at_once(self, data) -> None:  # type: ignore[no-untyped-def]
        slug = data.draw(st.sampled_from(sorted(self.practices)))
        siti, ayu, rina, budi = self.people
        base = len(self.practices[slug].versions)
        visibility = self._current(slug).visibility
        drafts = []
        for author in (siti, ayu):
            text, secret = self._text(visibility, f"By {author.name}.")
            draft = submissions.save(self.instance, author, "jakarta", slug, text.decode(), base)
            submissions.submit(self.instance, author, draft.id)
            drafts.append((draft.id, text, secret))
        results: list[object] = [None, None]
        barrier = threading.Barrier(2)

        def approve(index: int, reviewer) -> None:  # type: ignore[no-untyped-def]
            barrier.wait()
            try:
                results[index] = submissions.review(self.instance, reviewer, drafts[index][0], "approve")
            except submissions.StaleEdit as error:
                results[index] = error

        threads = [threading.Thread(target=approve, args=(i, r)) for i, r in enumerate((rina, budi))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [i for i, r in enumerate(results) if isinstance(r, int)]
        assert len(winners) == 1, results  # one publishes, the other is refused as stale
        _id, text, secret = drafts[winners[0]]
        self._accepted(slug, text, visibility, secret, results[winners[0]])  # type: ignore[arg-type]

    @precondition(lambda self: self.practices)
    @rule(data=st.data())
    def restrict(self, data) -> None:  # type: ignore[no-untyped-def]
        self._publish(data.draw(st.sampled_from(sorted(self.practices))), "partners")

    @precondition(lambda self: self.practices)
    @rule(data=st.data())
    def make_public(self, data) -> None:  # type: ignore[no-untyped-def]
        self._publish(data.draw(st.sampled_from(sorted(self.practices))), "public")

    @precondition(lambda self: any(len(p.versions) > 1 for p in self.practices.values()))
    @rule(data=st.data())
    def restore(self, data) -> None:  # type: ignore[no-untyped-def]
        slug = data.draw(st.sampled_from(sorted(s for s, p in self.practices.items() if len(p.versions) > 1)))
        versions = self.practices[slug].versions
        number = data.draw(st.integers(1, len(versions) - 1))
        old = versions[number - 1]
        if old.text == versions[-1].text:
            return
        outcome = publishing.restore(self.instance, self.people[2], f"jakarta/{slug}", number)
        self._accepted(slug, old.text, old.visibility, old.word, outcome.version)

    @rule(slug=st.sampled_from(SLUGS), visibility=st.sampled_from(["public", "partners"]))
    def import_file(self, slug: str, visibility: str) -> None:
        text, secret = self._text(visibility, "Imported.")
        folder = self.folder / f"import-{self.counter}" / "jakarta"
        folder.mkdir(parents=True)
        (folder / f"{slug}.md").write_bytes(text)
        [outcome] = list(publishing.import_paths(self.instance, [folder.parent], "test"))
        assert not outcome.failed, outcome.line()
        self._accepted(slug, text, visibility, secret, outcome.version)

    @precondition(lambda self: self.practices)
    @rule(data=st.data(), after_commit=st.booleans())
    def crash_and_restart(self, data, after_commit: bool) -> None:  # type: ignore[no-untyped-def]
        """A publish dies before its commit (nothing accepted) or after it (accepted, library file behind);
        the restart runs 'exchange check --repair'."""
        slug = data.draw(st.sampled_from(sorted(self.practices)))
        visibility = self._current(slug).visibility
        text, secret = self._text(visibility, "Crashed.")
        if after_commit:
            before = self.instance.store.read_current(f"jakarta/{slug}")
            outcome = publishing.publish(self.instance, text, slug, "test", index=False)
            self.instance.store.set_current(f"jakarta/{slug}", before)  # the replacement never happened
            self._accepted(slug, text, visibility, secret, outcome.version)
        else:
            def die(_session, _outcome):  # type: ignore[no-untyped-def]
                raise KeyboardInterrupt  # stands for the process being killed mid-transaction

            with pytest.raises(KeyboardInterrupt):
                publishing.publish(self.instance, text, slug, "test", also=die)
        consistency.repair(self.instance, consistency.check(self.instance), "restart")

    @rule(viewer=st.sampled_from(["anonymous", "partner"]))
    def search_everything(self, viewer: str) -> None:
        who = policy.ANONYMOUS if viewer == "anonymous" else self.people[0]
        results = discovery.find(self.instance, SearchRequest(per_page=100), who)
        visible = {s for s, p in self.practices.items()
                   if viewer == "partner" or p.versions[-1].visibility == "public"}
        assert {h.id.split("/")[1] for h in results.hits} == visible
        assert results.total == len(visible) and sum(results.facets["city"].values()) == len(visible)

    # Invariants ---------------------------------------------------------------------------------

    @invariant()
    def nothing_accepted_is_lost_and_history_is_complete(self) -> None:
        store = self.instance.store
        for slug, practice in self.practices.items():
            practice_id = f"jakarta/{slug}"
            assert store.versions(practice_id) == list(range(1, len(practice.versions) + 1))
            for number, version in enumerate(practice.versions, start=1):
                assert store.read_version(practice_id, number) == version.text
            assert store.read_current(practice_id) == practice.versions[-1].text

    @invariant()
    def nothing_restricted_is_visible_to_anonymous(self) -> None:
        for slug, practice in self.practices.items():
            current_public = practice.versions[-1].visibility == "public"
            for number, version in enumerate(practice.versions, start=1):
                readable = current_public and version.visibility == "public"
                try:
                    view = reading.get(self.instance, f"jakarta/{slug}", policy.ANONYMOUS, number)
                    assert readable and version.word in view.practice.body
                except PracticeNotFound:
                    assert not readable
                found = discovery.find(self.instance, SearchRequest(q=version.word), policy.ANONYMOUS)
                shown = current_public and version.word == practice.versions[-1].word  # only the current text
                assert found.total == (1 if shown else 0), (slug, number, version.word)
                assert sum(found.facets.get("city", {}).values()) == found.total

    @invariant()
    def files_database_and_index_agree(self) -> None:
        assert consistency.check(self.instance) == []


def test_the_library_keeps_its_promises(template, database):
    (Library.template, Library.template_url), Library.databases = template, database
    run = Library.TestCase
    run.settings = settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                            phases=[Phase.explicit, Phase.reuse, Phase.generate])
    run().runTest()
