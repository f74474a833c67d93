from __future__ import annotations

import itertools
import re

import pytest

from kalamna.adapters.ai.chunker import TokenChunker
from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.domain.chunk import Chunk

COUNTER = TiktokenCounter()

ENGLISH = "\n\n".join(
    " ".join(
        f"Paragraph {p} sentence {s} explains how order {p * 10 + s} ships within 3.5 days." for s in range(6)
    )
    for p in range(12)
)
ARABIC = " ".join(
    f"هل يمكنني تتبع الطلب رقم {n}؟ نعم، يمكنك ذلك من صفحة الطلبات خلال يومين. شكراً لتواصلك معنا."
    for n in range(40)
)


def body(chunk: Chunk, header: str) -> str:
    assert chunk.content.startswith(header)
    return chunk.content[len(header) :]


def test_blank_text_gives_no_chunks() -> None:
    chunker = TokenChunker()
    assert chunker.chunk("Title", "") == []
    assert chunker.chunk("Title", " \n\t\n  ") == []


def test_short_text_is_one_chunk_with_the_title_prefix() -> None:
    [chunk] = TokenChunker().chunk("Shipping", "We ship worldwide.")
    assert chunk.content == "Shipping\n\nWe ship worldwide."
    assert chunk.position == 0
    assert chunk.token_count == COUNTER.count(chunk.content)


def test_chunking_is_deterministic() -> None:
    first = TokenChunker(120, 20).chunk("Orders", ENGLISH + "\n\n" + ARABIC)
    second = TokenChunker(120, 20).chunk("Orders", ENGLISH + "\n\n" + ARABIC)
    assert first == second
    assert len(first) > 3


@pytest.mark.parametrize("text", [ENGLISH, ARABIC, "word " * 3000, "x" * 20000, "مرحبا" * 4000])
def test_every_chunk_fits_the_budget_and_positions_are_dense(text: str) -> None:
    chunks = TokenChunker(100, 20).chunk("A title", text)
    assert len(chunks) > 1
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.token_count == COUNTER.count(chunk.content)
        assert chunk.token_count <= 100
        assert chunk.content.startswith("A title\n\n")


def test_no_text_is_lost() -> None:
    chunks = TokenChunker(80, 15).chunk("T", ENGLISH)
    covered = " ".join(chunk.content for chunk in chunks)
    for word in set(ENGLISH.split()):
        assert word in covered


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    chunks = TokenChunker(120, 30).chunk("Orders", ENGLISH)
    bodies = [body(chunk, "Orders\n\n") for chunk in chunks]
    for previous, current in itertools.pairwise(bodies):
        first_sentence = re.match(r".+?\.(?=\s|$)", current)
        assert first_sentence is not None
        assert current.startswith("Paragraph")  # a whole sentence, not a fragment
        repeated = previous[previous.index(first_sentence.group()) :]  # sentences are unique
        assert current.startswith(repeated)  # the previous chunk's tail opens this one
        assert 0 < COUNTER.count(repeated) <= 30


def test_zero_overlap_repeats_nothing() -> None:
    chunks = TokenChunker(120, 0).chunk("Orders", ENGLISH)
    sentences = [s for chunk in chunks for s in re.findall(r"Paragraph \d+ sentence \d+", chunk.content)]
    assert len(sentences) == len(set(sentences)) == 72


def test_arabic_is_split_at_arabic_punctuation_not_inside_sentences() -> None:
    chunks = TokenChunker(120, 40).chunk("الطلبات", ARABIC)
    assert len(chunks) > 3
    for chunk in chunks:
        text = body(chunk, "الطلبات\n\n")
        assert text[-1] in "؟،."
        assert text.split()[0] in {"هل", "نعم،", "يمكنك", "شكراً"}  # starts at a sentence or clause


def test_monster_sentence_is_cut_by_tokens_at_spaces() -> None:
    text = " ".join(f"word{n}" for n in range(2000))  # no punctuation at all
    chunks = TokenChunker(100, 10).chunk("T", text)
    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.token_count <= 100
        assert re.fullmatch(r"T\n\n(word\d+ )*word\d+", chunk.content)


def test_headings_are_carried_into_their_chunks() -> None:
    text = (
        "# Help Center\n\nWelcome.\n\n## Billing\n\n"
        + " ".join(f"Billing fact {n} is important." for n in range(60))
        + "\n\n### Refunds\n\nRefunds take five days.\n\n## Shipping\n\nWe ship worldwide."
    )
    chunks = TokenChunker(100, 10).chunk("Help Center", text)
    headers = [chunk.content.split("\n\n", 1)[0] for chunk in chunks]
    assert headers[0] == "Help Center\nBilling"  # the document's own "# Help Center" is not repeated
    assert chunks[0].content.startswith(
        "Help Center\nBilling\n\nWelcome.\n\nBilling fact 0"
    )  # lead-in joined
    billing = [chunk for chunk in chunks if "Billing fact" in chunk.content]
    assert len(billing) > 1
    assert all(chunk.content.startswith("Help Center\nBilling\n\n") for chunk in billing)
    [refunds] = [chunk for chunk in chunks if "Refunds take" in chunk.content]
    assert refunds.content == "Help Center\nBilling > Refunds\n\nRefunds take five days."
    [shipping] = [chunk for chunk in chunks if "ship worldwide" in chunk.content]
    assert shipping.content == "Help Center\nShipping\n\nWe ship worldwide."
    assert not any("Billing fact" in chunk.content and "Refunds" in chunk.content for chunk in chunks)


def test_hash_lines_inside_code_fences_are_not_headings() -> None:
    text = "## Setup\n\n```bash\n# install it\npip install kalamna\n```\n\nDone."
    [chunk] = TokenChunker().chunk("Guide", text)
    assert chunk.content.startswith("Guide\nSetup\n\n```bash\n# install it\n")


def test_chunk_ends_prefer_paragraph_breaks() -> None:
    paragraphs = [" ".join(f"Topic {p} detail {s}." for s in range(8)) for p in range(10)]
    chunks = TokenChunker(150, 0).chunk("T", "\n\n".join(paragraphs))
    for chunk in chunks:
        assert chunk.content.endswith("detail 7.")


def test_long_titles_are_truncated_so_bodies_still_fit() -> None:
    chunks = TokenChunker(64, 8).chunk("very long title " * 100, "Some body text. " * 50)
    assert all(chunk.token_count <= 64 for chunk in chunks)
    assert all("Some body text." in chunk.content for chunk in chunks)


def test_token_counter_truncate_returns_a_fitting_prefix() -> None:
    for text in ["hello world " * 50, "مرحبا بكم في متجرنا " * 50, "🙂🎉" * 100]:
        cut = COUNTER.truncate(text, 17)
        assert text.startswith(cut)
        assert 0 < COUNTER.count(cut) <= 17
    assert COUNTER.truncate("short", 10) == "short"
    assert COUNTER.truncate("anything", 0) == ""


def test_token_counter_treats_special_tokens_as_text() -> None:
    assert COUNTER.count("<|endoftext|>") > 1
    assert COUNTER.count("") == 0


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenChunker(target_tokens=10)
    with pytest.raises(ValueError):
        TokenChunker(target_tokens=100, overlap_tokens=80)


def test_a_tiny_lead_in_is_merged_into_the_next_section_never_a_chunk_of_its_own() -> None:
    text = "Home\n\n# Delivery\n\nOrders inside Cairo arrive within two working days, others in five."
    chunks = TokenChunker(100, 10).chunk("Delivery", text)
    assert [chunk.content for chunk in chunks] == [
        "Delivery\n\nHome\n\nOrders inside Cairo arrive within two working days, others in five."
    ]
    one_word = "# Shipping\n\nFast.\n\n# Returns\n\nUnopened products can be returned within 14 days."
    assert len(TokenChunker(100, 10).chunk("Shop", one_word)) == 1
