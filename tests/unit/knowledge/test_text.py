from __future__ import annotations

import pytest

from kalamna.domain.text import normalize_for_search, sentence_spans, split_sentences


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("مُحَمَّدٌ", "محمد"),  # harakat, shadda, tanween
        ("الســـــلام", "السلام"),  # tatweel
        ("أحمد إيمان آمنة ٱلقرآن", "احمد ايمان امنه القران"),  # alef forms, ta marbuta
        ("مستشفى على", "مستشفي علي"),  # alef maqsura
        ("مؤسسة شاطئ", "موسسه شاطي"),  # hamza on waw / yeh
        ("٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹", "0123456789 0123456789"),
        ("ﻻ ﷲ", "لا الله"),  # presentation forms, via NFKC
        ("ذٰلك", "ذلك"),  # superscript alef
        ("  Hello\t\nWORLD  Straße ", "hello world strasse"),
        ("ﬁle Ｆｕｌｌ", "file full"),  # ligature and full-width, via NFKC
        ("كلمة\u200cمنفصلة", "كلمهمنفصله"),  # zero-width non-joiner
        ("", ""),
    ],
)
def test_normalize_for_search(raw: str, expected: str) -> None:
    assert normalize_for_search(raw) == expected


def test_normalize_for_search_is_idempotent_and_matches_spelling_variants() -> None:
    variants = ["إِسْتِرْجَاعُ الأموال", "استرجاع الاموال", "اسْتِرجـاع الأمْوال"]
    normalized = {normalize_for_search(variant) for variant in variants}
    assert len(normalized) == 1
    (single,) = normalized
    assert normalize_for_search(single) == single


def test_split_sentences_english_keeps_punctuation_decimals_and_abbreviations() -> None:
    text = "The plan costs 3.5 USD, e.g. for students! Dr. Smith agreed. Is it ok? Visit example.com now."
    assert split_sentences(text) == [
        "The plan costs 3.5 USD, e.g. for students!",
        "Dr. Smith agreed.",
        "Is it ok?",
        "Visit example.com now.",
    ]


def test_split_sentences_arabic_punctuation() -> None:
    text = "هل يمكنني الإرجاع؟ نعم، خلال 30 يوماً. الشحن مجاني؛ والدفع عند الاستلام۔ شكراً"
    assert split_sentences(text) == [
        "هل يمكنني الإرجاع؟",
        "نعم،",
        "خلال 30 يوماً.",
        "الشحن مجاني؛",
        "والدفع عند الاستلام۔",
        "شكراً",
    ]


def test_split_sentences_lines_lists_and_runs_of_punctuation() -> None:
    text = "Steps:\r\n1. Open the app\n2. Tap Settings\n\nReally?! Yes... fine."
    assert split_sentences(text) == [
        "Steps:",
        "1. Open the app",
        "2. Tap Settings",
        "Really?!",
        "Yes...",
        "fine.",
    ]


def test_split_sentences_of_blank_text_is_empty() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\t \n") == []


def test_sentence_spans_point_into_the_text() -> None:
    text = "  First one.  Second one?\nThird"
    spans = sentence_spans(text)
    assert [text[start:end] for start, end in spans] == ["First one.", "Second one?", "Third"]
