"""The query language: what each piece of syntax means, its limits, and that nothing makes it fail."""

from __future__ import annotations

import random

import pytest

from exchange.search.backend import FACETS
from exchange.search.query import MAX_QUERY_CHARS
from exchange.search.query import MAX_TERMS
from exchange.search.query import All
from exchange.search.query import Any
from exchange.search.query import Filter
from exchange.search.query import Not
from exchange.search.query import Phrase
from exchange.search.query import Prefix
from exchange.search.query import Word
from exchange.search.query import parse
from exchange.search.query import replace_words
from exchange.search.query import to_text

SHORTENED = f"Your search was shortened to its first {MAX_QUERY_CHARS} characters."
TOO_MANY = f"Only the first {MAX_TERMS} search terms were used."
UNREADABLE = "The search could not be read as a query, so its words were searched for."


def leaves(node) -> list:  # type: ignore[no-untyped-def]
    """Every word, phrase, prefix and filter in a parsed tree."""
    if node is None:
        return []
    if isinstance(node, All | Any):
        return [leaf for child in node.nodes for leaf in leaves(child)]
    if isinstance(node, Not):
        return leaves(node.node)
    return [node]


def test_plain_words_must_all_match():
    parsed = parse("flood warning")
    assert parsed.tree == All((Word("flood"), Word("warning")))
    assert parsed.plain and parsed.notices == []
    assert parsed.words() == ["flood", "warning"]


@pytest.mark.parametrize(("text", "words"), [
    ("大雨のときの高齢者の避難", ["大雨", "高齢者", "避難"]),
    ("避難所を開くときの手順を知りたい", ["避難所", "開く", "手順"]),
    ("BOKOMIの訓練", ["BOKOMI", "訓練"]),
])
def test_a_japanese_sentence_is_read_as_the_words_a_person_would_have_spaced(text, words):
    assert parse(text).tree == All(tuple(Word(word) for word in words))


def test_a_japanese_sentences_words_stand_beside_the_querys_other_words():
    assert parse("仮設住宅 こころのケア").tree == All((Word("仮設住宅"), Word("こころ"), Word("ケア")))
    assert parse("flood-prone title:area").tree == All((Word("flood-prone"), All((Word("title"), Word("area")))))


def test_a_japanese_compound_stays_one_word_and_a_quoted_sentence_one_phrase():
    assert parse("避難行動要支援者").tree == Word("避難行動要支援者")
    assert parse('"高齢者の避難"').tree == Word("高齢者の避難")


def test_quoted_words_are_a_phrase():
    parsed = parse('"early warning" drill')
    assert parsed.tree == All((Phrase("early warning"), Word("drill")))
    assert not parsed.plain
    assert parsed.words() == ["early", "warning", "drill"]
    assert parse('"flood"').tree == Word("flood")


def test_or_binds_looser_than_and():
    assert parse("tsunami OR earthquake").tree == Any((Word("tsunami"), Word("earthquake")))
    assert parse("flood warning OR tsunami").tree == Any((All((Word("flood"), Word("warning"))), Word("tsunami")))
    assert parse("flood or tsunami").tree == All((Word("flood"), Word("or"), Word("tsunami")))  # only upper-case OR


@pytest.mark.parametrize("text", ["flood NOT drill", "flood -drill"])
def test_not_and_minus_leave_a_word_out(text):
    parsed = parse(text)
    assert parsed.tree == All((Word("flood"), Not(Word("drill"))))
    assert not parsed.plain


def test_not_takes_a_phrase_or_a_group():
    assert parse('flood NOT "early warning"').tree == All((Word("flood"), Not(Phrase("early warning"))))
    assert parse("flood NOT (drill OR siren)").tree == All((Word("flood"), Not(Any((Word("drill"), Word("siren"))))))


@pytest.mark.parametrize(("text", "left_out"), [
    ('flood -"early warning"', Phrase("early warning")),
    ("flood -(drill OR siren)", Any((Word("drill"), Word("siren")))),
])
def test_minus_leaves_out_a_phrase_or_a_group(text, left_out):
    assert parse(text).tree == All((Word("flood"), Not(left_out)))


def test_parentheses_group():
    assert parse("(banjir OR rob) semarang").tree == All((Any((Word("banjir"), Word("rob"))), Word("semarang")))
    assert parse("((flood))").tree == Word("flood")


#: A value each filter's vocabulary has (city, country and year take any value).
KNOWN = {"hazard": "tsunami", "kind": "plan", "phase": "response", "language": "id"}


@pytest.mark.parametrize("name", FACETS)
def test_named_filters_are_understood(name):
    value = KNOWN.get(name, "value")
    assert parse(f"{name}:{value}").tree == Filter(name, value)
    assert parse(f"{name.upper()}:{value}").tree == Filter(name, value)


def test_filters_combine_with_words():
    parsed = parse("drill hazard:tsunami city:padang")
    assert parsed.tree == All((Word("drill"), Filter("hazard", "tsunami"), Filter("city", "padang")))
    assert not parsed.plain


@pytest.mark.parametrize("text", [
    "visibility:partners", "status:draft", "title:secret", "id:jakarta/x", "group:x", "spell_public:x",
    "sha:0", "content:x", "card:x", "published:2024", "title_en:flood", "body_ja:避難",
])
def test_unknown_field_names_are_read_as_plain_words(text):
    parsed = parse(text)
    assert parsed.plain
    assert all(isinstance(leaf, Word) for leaf in leaves(parsed.tree))
    name = text.partition(":")[0]
    assert Word(name) in leaves(parsed.tree)


@pytest.mark.parametrize("text", ["*", "*:*", "**", "a*", "fl*", "*a*", "*flood", "?", "title:*"])
def test_leading_and_short_wildcards_are_ignored(text):
    assert not [leaf for leaf in leaves(parse(text).tree) if isinstance(leaf, Prefix)]


@pytest.mark.parametrize("text", ["*", "*:*", "**"])
def test_bare_wildcards_become_an_empty_query(text):
    assert parse(text).tree is None


def test_three_letters_and_a_star_are_a_prefix():
    assert parse("flo*").tree == Prefix("flo")
    assert parse("banjir* semarang").tree == All((Prefix("banjir"), Word("semarang")))


def test_length_is_capped_with_a_notice():
    parsed = parse("x" * 300)
    assert SHORTENED in parsed.notices
    assert parsed.tree == Word("x" * MAX_QUERY_CHARS)
    assert parse("x" * MAX_QUERY_CHARS).notices == []


def test_number_of_terms_is_capped_with_a_notice():
    parsed = parse(" ".join(f"w{i}" for i in range(30)))
    assert TOO_MANY in parsed.notices
    assert leaves(parsed.tree) == [Word(f"w{i}") for i in range(MAX_TERMS)]
    assert parse(" ".join(f"w{i}" for i in range(MAX_TERMS))).notices == []


def test_a_long_or_query_is_shortened_and_capped():
    parsed = parse(" OR ".join(f"w{i}" for i in range(200)))
    assert SHORTENED in parsed.notices and TOO_MANY in parsed.notices
    assert len(leaves(parsed.tree)) == MAX_TERMS


@pytest.mark.parametrize("text", [
    "title:(", "(flood", "flood)", ")(", '"unbalanced', 'flood "early warning', "flood OR", "OR flood", "NOT",
    "flood NOT", "()", "(" * 100 + "flood" + ")" * 100, "(" * 100, "((((((((flood))))))))",
])
def test_malformed_queries_fall_back_to_plain_words(text):
    parsed = parse(text)
    assert UNREADABLE in parsed.notices
    assert parsed.plain
    assert all(isinstance(leaf, Word) for leaf in leaves(parsed.tree))


@pytest.mark.parametrize("text", ["OR", "AND", "NOT", "OR OR", "AND NOT"])
def test_a_query_of_operators_alone_is_searched_for_as_words_never_as_everything(text):
    parsed = parse(text)
    assert parsed.tree is not None
    assert [leaf.text for leaf in leaves(parsed.tree)] == text.split()


def test_malformed_query_keeps_its_words():
    assert parse('title:( "flood warning').tree == All((Word("title"), Word("flood"), Word("warning")))


@pytest.mark.parametrize("text", ["flo\x00od", "flood\x00", "\x00", "flood\x1b[31m", "flood\r\nINFO admin"])
def test_control_characters_are_removed(text):
    for leaf in leaves(parse(text).tree):
        assert not any(ord(c) < 32 for c in leaf.text), leaf


@pytest.mark.parametrize("text", ["\\", "\\\\", "flood\\", '\\"', "\\(", "-", "--", ":", "hazard:", "::", "''", "~5",
                                  "term~5", "title:[a TO z]", "flood^10", "{a TO b}", "", "   "])
def test_odd_input_never_raises_and_never_makes_a_field_query(text):
    parsed = parse(text)
    assert all(isinstance(leaf, Word | Phrase | Prefix) for leaf in leaves(parsed.tree))


def test_backslashes_alone_are_an_empty_query():
    assert parse("\\\\").tree is None


def test_random_input_never_raises():
    alphabet = list('()"*:-\\~^[]{} \x00\tORNTADaz') + ["OR", "NOT", "AND", "hazard:", "title:", "避難"]
    rng = random.Random(20240501)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        parsed = parse(text)
        found = leaves(parsed.tree)
        assert len(found) <= MAX_TERMS, text
        assert all(leaf.name in FACETS for leaf in found if isinstance(leaf, Filter)), text


@pytest.mark.parametrize("query", [
    "flood", "flood warning", '"early warning" siren', "tsunami OR earthquake", "flood -drill", "flood NOT drill",
    'flood -"early warning"', "(banjir OR rob) semarang", "evacu* hazard:tsunami city:kobe", "a b OR c d",
    "(a OR b) OR c", "-(drill OR exercise) flood", "NOT hazard:tsunami evacuation", "避難所 -訓練", "flod*",
])
def test_a_query_written_back_reads_as_the_same_query(query):
    tree = parse(query).tree
    assert parse(to_text(tree)).tree == tree


def test_words_are_replaced_where_they_stand_and_never_inside_not():
    tree = parse('heet -melborne "early warnng" OR hazard:tsunami evacu*').tree
    fixed = replace_words(tree, {"heet": "heat", "melborne": "melbourne", "warnng": "warning", "evacu": "x"}.get)
    # (-melborne leaves its match out of both alternatives, and is written so)
    assert to_text(fixed) == '(heat "early warning" OR hazard:tsunami evacu*) -melborne'


@pytest.mark.parametrize(("text", "tree"), [
    ("tsunami OR 地震 -sendai", All((Any((Word("tsunami"), Word("地震"))), Not(Word("sendai"))))),
    ("flood -drill OR tsunami", All((Any((Word("flood"), Word("tsunami"))), Not(Word("drill"))))),
    ("heat (flood OR tsunami -padang)", All((Word("heat"), All((Any((Word("flood"), Word("tsunami"))),
                                                                Not(Word("padang"))))))),
])
def test_a_word_left_out_beside_or_is_left_out_of_every_alternative(text, tree):
    assert parse(text).tree == tree
    assert parse(to_text(tree)).tree == tree


def test_a_filter_on_a_value_its_vocabulary_lacks_is_left_out_with_what_was_meant():
    parsed = parse("hazard:flood banjir")
    assert parsed.tree == Word("banjir")
    assert parsed.notices == ["There is no hazard “flood”, so that filter was left out. Did you mean "
                              "hazard:riverine-flood, hazard:flash-flood, hazard:urban-flood, hazard:coastal-flood?"]
    assert parse("phase:respon").notices == ["There is no phase “respon”, so that filter was left out. "
                                             "Did you mean phase:response?"]
    assert parse("hazard:Tsunami kind:checklist").notices == []
