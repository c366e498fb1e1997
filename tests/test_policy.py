"""The access policy as a table: who may do what, decided from a Viewer and plain facts (no database)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from exchange import policy
from exchange.accounts.people import Account
from exchange.policy import ANONYMOUS
from exchange.policy import Viewer

READER = Viewer(id=1, email="r@x.example", name="R", roles=("reader",))
CONTRIBUTOR = Viewer(id=2, email="c@x.example", name="C", roles=("contributor",), cities=("jakarta",))
HOMELESS_CONTRIBUTOR = Viewer(id=3, email="h@x.example", name="H", roles=("contributor",))
REVIEWER = Viewer(id=4, email="v@x.example", name="V", roles=("reviewer",))
ADMIN = Viewer(id=5, email="a@x.example", name="A", roles=("admin",))
NO_ROLE = Viewer(id=6, email="n@x.example", name="N")


@dataclass(frozen=True)
class Text:
    visibility: str


@dataclass(frozen=True)
class Submission:
    author_id: int


@dataclass(frozen=True)
class Pack:
    id: int
    owner_id: int
    sharing: str = "private"
    share_token_hash: str | None = None


def test_an_account_is_a_viewer_and_anonymous_is_nobody():
    account = Account(id=7, email="e@x.example", name="E", roles=("reader",), cities=(), session_version=1)
    assert isinstance(account, Viewer) and account.is_authenticated and account.is_partner_staff
    assert not ANONYMOUS.is_authenticated and not ANONYMOUS.is_partner_staff
    assert not NO_ROLE.is_partner_staff


@pytest.mark.parametrize(("viewer", "public", "partners"), [
    (None, True, False), (ANONYMOUS, True, False), (NO_ROLE, True, False), (READER, True, True),
    (CONTRIBUTOR, True, True), (REVIEWER, True, True),
])
def test_partners_only_texts_are_for_partner_staff(viewer, public, partners):
    assert policy.may_read(viewer, Text("public")) is public
    assert policy.may_read(viewer, Text("partners")) is partners
    assert policy.may_read_visibility(viewer, None) is partners  # a version whose visibility was not recorded
    # A version is read under its own visibility and the practice's now.
    assert policy.may_read_version(viewer, Text("public"), Text("partners")) is partners
    assert policy.may_read_version(viewer, Text("partners"), Text("public")) is partners


@pytest.mark.parametrize(("viewer", "jakarta", "anywhere", "translate", "review", "administer"), [
    (ANONYMOUS, False, False, False, False, False),
    (READER, False, False, False, False, False),
    (CONTRIBUTOR, True, True, True, False, False),
    (HOMELESS_CONTRIBUTOR, False, False, True, False, False),
    (REVIEWER, False, False, False, True, False),
    (ADMIN, False, False, False, False, True),
])
def test_roles(viewer, jakarta, anywhere, translate, review, administer):
    assert policy.may_contribute(viewer, "jakarta") is jakarta
    assert policy.may_contribute(viewer, "kobe") is False
    assert policy.may_contribute_anywhere(viewer) is anywhere
    assert policy.may_translate(viewer) is translate
    assert policy.may_review(viewer) is review and policy.told_of_submissions(viewer) is review
    assert policy.may_administer(viewer) is administer
    assert policy.told_of_review_due(viewer, "jakarta") is jakarta


def test_submissions_are_seen_by_their_author_and_reviewers_and_decided_by_another_reviewer():
    mine, theirs = Submission(author_id=CONTRIBUTOR.id), Submission(author_id=99)
    assert policy.is_author(CONTRIBUTOR, mine) and policy.may_see_submission(CONTRIBUTOR, mine)
    assert not policy.may_see_submission(CONTRIBUTOR, theirs) and not policy.may_see_submission(ANONYMOUS, theirs)
    assert policy.may_see_submission(REVIEWER, theirs) and policy.may_decide(REVIEWER, theirs)
    own = Submission(author_id=REVIEWER.id)
    assert policy.may_see_submission(REVIEWER, own) and not policy.may_decide(REVIEWER, own)
    assert not policy.may_decide(CONTRIBUTOR, mine)


def test_administrators_disable_others_not_themselves():
    assert policy.may_disable(ADMIN, READER.id) and not policy.may_disable(ADMIN, ADMIN.id)
    assert not policy.may_disable(REVIEWER, READER.id)


@pytest.mark.parametrize(("pack", "viewer", "colleagues", "digest", "read", "edit"), [
    (Pack(1, owner_id=READER.id), READER, (), None, True, True),
    (Pack(1, owner_id=READER.id), CONTRIBUTOR, (), None, False, False),
    (Pack(1, owner_id=READER.id, sharing="colleagues"), CONTRIBUTOR, (CONTRIBUTOR.id,), None, True, False),
    (Pack(1, owner_id=READER.id, sharing="colleagues"), REVIEWER, (CONTRIBUTOR.id,), None, False, False),
    (Pack(1, owner_id=READER.id, sharing="private"), CONTRIBUTOR, (CONTRIBUTOR.id,), None, False, False),
    (Pack(1, owner_id=READER.id, sharing="link", share_token_hash="d"), ANONYMOUS, (), "d", True, False),
    (Pack(1, owner_id=READER.id, sharing="link", share_token_hash="d"), ANONYMOUS, (), "e", False, False),
    (Pack(1, owner_id=READER.id, sharing="colleagues", share_token_hash="d"), ANONYMOUS, (), "d", False, False),
])
def test_packs_are_read_by_owner_colleagues_and_link_holders_and_changed_by_the_owner(pack, viewer, colleagues,
                                                                                      digest, read, edit):
    assert policy.may_read_pack(viewer, pack, colleagues, digest) is read
    assert policy.may_edit_pack(viewer, pack) is edit
    assert policy.may_export_trainer_edition(viewer, pack) is edit
    assert policy.may_see_trainer_notes(viewer, pack) is edit


def test_role_names_appear_only_in_the_policy_and_the_accounts_module():
    root = Path(__file__).resolve().parent.parent
    # (not a blueprint's name, nor Dublin Core's element "contributor" in OAI-PMH records)
    role = re.compile(r"(?<!Blueprint\()(?<!element\()[\"'](reader|contributor|reviewer|admin)[\"']")
    files = [*root.glob("exchange/**/*.py"), *root.glob("templates/**/*.html")]
    found = {str(f.relative_to(root)) for f in files if "migrations" not in f.parts and role.search(f.read_text())}
    assert found == {"exchange/accounts/people.py", "exchange/policy.py"}
