"""The full-text pre-filter made selective with a tenant's word statistics
(``TextQuery.selective_prefilter``): common words leave the indexed condition first."""

from __future__ import annotations

import itertools
import random

from kalamna.domain.search_query import TextQuery, text_query


def query(text: str) -> TextQuery:
    built = text_query(text)
    assert built is not None
    return built


def pairs(parts: list[str]) -> str:
    return " | ".join(f"({a} & {b})" for a, b in itertools.combinations(parts, 2))


def test_without_statistics_it_is_the_plain_prefilter() -> None:
    q = query("zircon velvet lantern harbour")
    assert q.minimum == 2
    assert q.selective_prefilter({}, budget_share=0.01) == q.prefilter
    one = query("zircon")
    assert one.selective_prefilter({}, budget_share=0.01) == one.prefilter == one.group_queries()[0]


def test_a_common_word_leaves_and_the_rest_still_cover_the_rule() -> None:
    q = query("zircon velvet lantern harbour orchid")  # 5 groups, at least 3 must match
    g = q.group_queries()
    assert q.minimum == 3
    shares = {"velvet": 0.9, "zircon": 0.01, "lantern": 0.01, "harbour": 0.01, "orchid": 0.01}
    # without "velvet", a chunk matching 3 groups still matches 2 of the other four: pairs of those
    assert q.selective_prefilter(shares, budget_share=0.01) == pairs([g[0], g[2], g[3], g[4]])


def test_over_budget_any_word_becomes_a_pair_of_rare_words() -> None:
    q = query("zircon velvet lantern harbour")  # 4 groups, at least 2 must match
    g = q.group_queries()
    shares = {"velvet": 0.5, "lantern": 0.4, "zircon": 0.01, "harbour": 0.01}
    # all pairs ≈ 0.22 > budget -> drop "velvet"; any of the three ≈ 0.42 > budget -> a pair of them
    assert q.selective_prefilter(shares, budget_share=0.01) == pairs([g[0], g[2], g[3]])
    # a generous budget keeps the plain rule
    assert q.selective_prefilter(shares, budget_share=0.5) == q.prefilter


def test_only_common_words_leave_the_rarest_one() -> None:
    q = query("velvet lantern")  # 2 groups, one suffices
    g = q.group_queries()
    assert q.selective_prefilter({"velvet": 0.5, "lantern": 0.4}, budget_share=0.01) == g[1]


def test_a_groups_share_is_the_sum_of_its_words() -> None:
    q = query("installments zircon")  # installment / تقسيط / قسط ... is one group
    g = q.group_queries()
    shares = {"تقسيط": 0.3, "installment": 0.3}
    assert q.selective_prefilter(shares, budget_share=0.7) == f"{g[0]} | {g[1]}"
    # each word is under 0.5 but the group holds 0.6: over budget, both groups are required
    assert q.selective_prefilter(shares, budget_share=0.5) == f"({g[0]} & {g[1]})"


def test_while_words_are_only_dropped_the_condition_keeps_every_chunk_the_rule_keeps() -> None:
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(12)]
    q = query(" ".join(vocabulary[:6]))
    shares = {w: rng.choice([0.01, 0.05, 0.3, 0.8]) for w in vocabulary}
    condition = q.selective_prefilter(shares, budget_share=0.1)
    alternatives = [
        set(part.replace("(", "").replace(")", "").replace("'", "").split(" & "))
        for part in condition.split(" | ")
    ]
    assert q.minimum == 3 and len(alternatives) > 1  # pairs remain: every chunk with 3 groups passes
    for _ in range(2000):
        document = {w for w in vocabulary if rng.random() < 0.4}
        if q.matched(document) >= q.minimum:
            assert any(alternative <= document for alternative in alternatives)
