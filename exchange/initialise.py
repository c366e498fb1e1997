"""Creating or upgrading an instance: schema, secret key, partner cities and the bundled practices."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from exchange import settings
from exchange.library import cities
from exchange.library import publishing
from exchange.search import indexing
from exchange.search.backend import IndexUnavailable
from exchange.search.backend import SearchRequest
from exchange.search.preparation import prepare

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

BUNDLED_PRACTICES = Path(__file__).resolve().parent.parent / "practices"
#: a temporary file in the library store this old was left by an interrupted write, not one under way
#: (on another node sharing the store, say): only those are swept
SWEEP_AFTER_SECONDS = 3600.0


@dataclass
class Report:
    """What ``initialise`` did."""

    cities_added: list[str] = field(default_factory=list)
    seeded: list[publishing.Outcome] = field(default_factory=list)
    temporary_files_removed: int = 0
    indexed: int = 0


def initialise(instance: Instance, actor: str, seed: bool = True,
               practices: Path = BUNDLED_PRACTICES) -> Report:
    """Bring ``instance`` up to date; seed ``practices`` only into a library that has none yet.

    Safe to run again: it upgrades the schema and adds only what is missing.
    """
    report = Report()
    instance.db.migrate()
    # (the secret key's file is made by the settings when they are read, only if neither the environment
    # nor config.py gives the key: a node given its key never writes one)
    settings.write_config_template(instance.path)
    report.temporary_files_removed = instance.store.sweep_temporary_files(SWEEP_AFTER_SECONDS)
    publishing.record_version_visibility(instance)
    report.cities_added = [spec.slug for spec in cities.bundled() if cities.add(instance, spec, actor)]
    if seed and not any(instance.store.practice_ids()):
        report.seeded = list(publishing.import_paths(instance, [practices], actor))
    report.indexed = prepare_search(instance)
    return report


def prepare_search(instance: Instance) -> int:
    """Make the search index ready: rebuilt when missing or unusable or when it missed outbox rows since
    pruned (``indexing.behind``), else caught up with the outbox."""
    indexing.sweep_abandoned(instance)
    prepare()
    try:
        instance.search.verify()
    except IndexUnavailable:
        return indexing.rebuild(instance)
    if indexing.behind(instance):
        return indexing.rebuild(instance)
    return indexing.drain(instance)


#: what each kind of reader may read: the search caches are kept per set
READERS = (frozenset({"public"}), frozenset({"public", "partners"}))
#: a few words in each language, so that the first search reads the glossary and analysers of all three;
#: misspelt ones (a slip in English and in Indonesian, a word two letters off, a word beside the one it
#: makes a term with, the wrong kanji of the same sound), so that spelling's tables are built and its
#: vocabulary read; and a city's name, for the places
WARM_UP_QUERIES = ("flood warning", "banjir evakuasi", "避難", "evacuaton sheltr", "pengungsain", "evakuasion",
                   "gempa bumu", "非難所", "jakarta", "hinanjo")

#: practices (the newest) whose related practices the public's warm-up finds, for at most
#: ``WARM_UP_RELATED_SECONDS``: their words' counts are kept (``PostingsCache.frequency``), and the first
#: practice pages read after a start then weigh most of theirs from counts already made (each worker
#: inherits them) instead of reading the words' postings: at 10,000 practices the first 60 pages' related
#: practices cost 22 ms each after 16 were found in the warm-up, 46 ms after one
WARM_UP_RELATED = 16
WARM_UP_RELATED_SECONDS = 2.0


def warm_up(instance: Instance) -> None:
    """Load what the first requests would otherwise wait for: the index's per-document values and
    statistics for every kind of reader, the glossary and the analysers, related practices' key terms.

    A server calls it before it listens (and before it forks its workers, which then share it), so that
    a restart is not paid for by the first people to search. Answers nothing and writes nothing.
    """
    prepare()
    try:
        instance.search.verify()
    except IndexUnavailable:
        return
    try:
        for visibilities in READERS:
            newest = instance.search.search(SearchRequest(sort="newest", per_page=WARM_UP_RELATED), visibilities)
            for words in WARM_UP_QUERIES:
                instance.search.search(SearchRequest(q=words), visibilities)
            until = time.monotonic() + (WARM_UP_RELATED_SECONDS if visibilities == READERS[0] else 0)
            for number, hit in enumerate(newest.hits):
                if number and time.monotonic() > until:
                    break
                instance.search.related(hit.id, visibilities)
    except Exception:  # a courtesy: the server starts anyway, and the pages degrade as they do for a bad index
        log.exception("warming the search index up failed")


def warm_worker(instance: Instance) -> None:
    """Open a freshly forked worker's own index searcher (or, for an engine in the database, connection),
    which it may not share with the master, before it takes requests: its first search then waits for
    nothing (opening a searcher costs ~15 ms), the caches ``warm_up`` filled in the master being
    inherited. Answers nothing and writes nothing."""
    try:
        instance.search.search(SearchRequest(sort="newest", per_page=1), READERS[0])
    except Exception:  # a courtesy, as warm_up: the worker's first search opens them instead
        log.exception("warming a worker's searcher up failed")
