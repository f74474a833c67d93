"""Matching words: light stemming, the bilingual lexicon and the full-text query rules."""

from __future__ import annotations

from kalamna.domain.search_query import minimum_should_match, text_query
from kalamna.domain.terms import (
    arabizi_to_arabic,
    content_terms,
    equivalents,
    guess_language,
    looks_like_arabizi,
    search_document,
    stem,
)


def test_arabic_light_stemming_joins_the_forms_of_a_word() -> None:
    assert len({stem(w) for w in ("الشحن", "شحن", "للشحن", "والشحن", "بالشحن")}) == 1
    assert stem("بطاقات") == stem("بطاقه")  # plural and singular (ta marbuta already folded)
    assert search_document("تُقَسَّط المشتريات بالبطاقات") == "تقسط مشتري بطاق"


def test_english_light_stemming() -> None:
    assert {stem(w) for w in ("ship", "ships", "shipping", "shipped")} == {"ship"}
    assert stem("batteries") == "battery"


def test_stopwords_and_dialect_framing_are_not_content() -> None:
    assert content_terms("How long does delivery take?") == ["delivery"]
    assert content_terms("عايز اعرف الشحن بياخد قد ايه؟") == ["اعرف", "شحن"]


def test_the_lexicon_crosses_languages_and_dialect() -> None:
    assert {"تقسيط", "installment"} <= equivalents(stem("اقسط")) | {stem("اقسط")}
    assert stem("تقسيط") in equivalents("installment")
    assert "شحن" in equivalents(stem("تشحنون"))  # a verb prefix is dropped for the lookup
    assert equivalents("zzz") == frozenset()


def test_the_full_text_query_is_minimum_should_match_over_word_groups() -> None:
    assert text_query("the of and") is None
    query = text_query("Can I pay in monthly installments?")
    assert query is not None
    assert len(query.groups) == 2  # "monthly" and "installments" are one group of the lexicon
    assert query.minimum == 1
    assert query.matched({"تقسيط", "دفع"}) == 2  # an Arabic passage matches an English question
    assert text_query("warranty on laptops for students").minimum == 2  # type: ignore[union-attr]
    assert [minimum_should_match(n) for n in (1, 2, 3, 4, 5, 6)] == [1, 1, 2, 2, 3, 3]
    assert "&" in text_query("warranty laptop student").prefilter  # type: ignore[union-attr]
    assert "&" not in text_query("warranty").prefilter  # type: ignore[union-attr]


def test_the_customers_language_is_guessed_from_the_script() -> None:
    assert guess_language("هل تشحنون إلى الكويت؟") == "ar"
    assert guess_language("Do you ship to Kuwait?") == "en"
    assert guess_language("12345") == "en"


def test_arabizi_gets_a_rule_based_arabic_reading() -> None:
    assert looks_like_arabizi("ta8yeer el shasha b kam?")
    assert looks_like_arabizi("el 3eyada fein?")
    assert not looks_like_arabizi("Do you sell the PlayStation 5 or mp3 players?")
    assert not looks_like_arabizi("هل تشحنون؟")
    assert arabizi_to_arabic("ta8yeer el shasha b kam?") == "تغيير الششه بكام"
    assert "تقسيت" in arabizi_to_arabic("el ta2seet 3la kam shahr")
