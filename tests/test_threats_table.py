"""The threats table of tests/README.md: a row for every threat of reference/threats.md, naming tests that exist.

The catalogue is kept in tests/data/threats.md, a copy of the shared folder's
``../shared/reference/threats.md`` (a clone of the repository alone, as CI has, has no shared folder);
where the shared folder is beside the repository the copy must be the same, so a changed catalogue is
taken in knowingly. Test names are read from the test files with ``ast``, so a renamed or deleted test
fails here, not silently in the table.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "tests" / "README.md"
HEADING = "## Threats and the tests that cover them"
THREAT_ID = re.compile(r"^[A-Z]{1,2}-\d+$")
CITED_TEST = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
IN_PROGRESS = re.compile(r"issue 1[45] parts? [\d ,and]+, in progress")


CATALOGUE = ROOT / "tests" / "data" / "threats.md"
SHARED = ROOT.parent / "shared" / "reference" / "threats.md"


def catalogue() -> str:
    """The text of reference/threats.md (our copy of it)."""
    return CATALOGUE.read_text("utf-8")


def test_the_copy_of_the_catalogue_is_the_shared_one() -> None:
    if not SHARED.is_file():
        pytest.skip(f"no shared folder beside the repository ({SHARED}): the copy is what there is")
    assert CATALOGUE.read_text("utf-8") == SHARED.read_text("utf-8"), \
        "reference/threats.md changed: copy it to tests/data/threats.md and map its new rows in tests/README.md"


def table_ids(markdown: str) -> list[str]:
    """The ids in the first cell of every table row of ``markdown``, in order."""
    cells = (line.split("|")[1].strip() for line in markdown.splitlines() if line.startswith("|"))
    return [cell for cell in cells if THREAT_ID.match(cell)]


def rows() -> dict[str, str]:
    """Each row of the README's threats table by its id: the rest of the row."""
    section = README.read_text("utf-8").split(HEADING, 1)[1].split("\n## ", 1)[0]
    found: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("|") and THREAT_ID.match(line.split("|")[1].strip()):
            threat_id = line.split("|")[1].strip()
            assert threat_id not in found, f"{threat_id} has two rows"
            found[threat_id] = line
    return found


def defined_tests(path: Path) -> set[str]:
    """The names of the test functions (module level and in classes) defined in ``path``."""
    tree = ast.parse(path.read_text("utf-8"))
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    for cls in (node for node in tree.body if isinstance(node, ast.ClassDef)):
        names |= {node.name for node in cls.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    return {name for name in names if name.startswith("test")}


def test_every_threat_has_exactly_one_row_and_no_row_is_unknown():
    threats = table_ids(catalogue())
    assert len(threats) >= 70 and len(set(threats)) == len(threats)
    table = rows()
    assert [t for t in threats if t not in table] == [], "threats without a row in tests/README.md"
    assert [t for t in table if t not in threats] == [], "rows for threats the catalogue does not have"


def test_every_row_names_a_test_or_the_part_that_builds_it():
    bare = [threat for threat, row in rows().items() if not CITED_TEST.search(row) and not IN_PROGRESS.search(row)]
    assert bare == []


def test_every_test_the_table_names_exists():
    cited = {(path, name) for row in rows().values() for path, name in CITED_TEST.findall(row)}
    assert len(cited) > 100
    files = {path for path, _name in cited}
    defined = {path: defined_tests(ROOT / path) for path in files if (ROOT / path).is_file()}
    missing = sorted(f"{path}::{name}" for path, name in cited if name not in defined.get(path, set()))
    assert missing == []
