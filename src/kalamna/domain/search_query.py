"""How a question becomes a full-text query, and the fusion constant: pure rules shared by every
``ChunkIndex`` adapter (PostgreSQL and the in-memory fake) so that they rank alike."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kalamna.domain.terms import content_terms, equivalents

RRF_K = 60
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "yours",
        "hi",
        "hello",
        "please",
        "في",
        "من",
        "على",
        "الى",
        "الي",
        "عن",
        "مع",
        "هل",
        "ما",
        "ماذا",
        "كيف",
        "متى",
        "اين",
        "لماذا",
        "هو",
        "هي",
        "هذا",
        "هذه",
        "ذلك",
        "تلك",
        "انا",
        "نحن",
        "انت",
        "انتم",
        "كان",
        "يكون",
        "او",
        "ام",
        "ثم",
        "لا",
        "لم",
        "لن",
        "قد",
        "كل",
        "بعض",
        "عند",
        "لدي",
        "لديكم",
        "لدى",
        "التي",
        "الذي",
        "الذين",
        "و",
        "ف",
        "ب",
        "ل",
    ]
)


def query_terms(normalized: str) -> list[str]:
    """The meaningful words of a query, each quoted as a ``to_tsquery`` operand (unstemmed)."""
    words = [w for w in _WORD.findall(normalized) if w not in STOPWORDS and len(w) > 1]
    return ["'" + w.replace("'", "''") + "'" for w in list(dict.fromkeys(words))[:32]]


def or_query(normalized: str) -> str:
    """A tsquery string that matches any meaningful word (used by tests)."""
    return " | ".join(query_terms(normalized))


def and_query(normalized: str) -> str:
    """A tsquery string that matches every meaningful word (kept for comparison in tests)."""
    return " & ".join(query_terms(normalized))


MAX_GROUPS = 12


@dataclass(frozen=True, slots=True)
class TextQuery:
    """The full-text side of a search. Each meaningful stemmed term of the question is a *group*:
    the term or any of its lexicon equivalents (other language, dialect). A chunk is a candidate
    when it matches at least ``minimum`` groups (minimum should match): one for one- or two-term
    questions, half of them (rounded up) beyond; candidates rank by groups matched, then by
    ``ts_rank_cd``. ``any_of`` matches a chunk that has any group; ``prefilter`` is the indexed condition."""

    groups: tuple[frozenset[str], ...]
    minimum: int

    @property
    def any_of(self) -> str:
        return " | ".join(_group_query(g) for g in self.groups)

    @property
    def prefilter(self) -> str:
        """The GIN-indexable condition: any group when one match suffices, else any *pair* of
        groups (a superset of "at least ``minimum``" that keeps common single words from pulling in
        most of a large tenant's chunks, as a plain OR did in the chat benchmark)."""
        if self.minimum < 2:
            return self.any_of
        parts = [_group_query(g) for g in self.groups]
        return " | ".join(f"({a} & {b})" for i, a in enumerate(parts) for b in parts[i + 1 :])

    def selective_prefilter(self, shares: Mapping[str, float], budget_share: float) -> str:
        """The indexed condition, made selective for one tenant: ``shares`` gives the share of the
        tenant's chunks that contain each term (a term missing from it is rare; a group's share is the
        sum of its terms'), ``budget_share`` the share of chunks the caller is willing to score.

        It starts from :attr:`prefilter` (any pair of groups, or any group when one suffices) and, while
        its estimated share (independent words) exceeds the budget, drops the most common group. A
        chunk matching ``minimum`` of the groups still matches ``minimum - dropped`` of those kept, so
        while that is 2 or more (pairs) or 1 (any), the condition stays a superset of the rule, only
        far more selective; past that, common words are demoted (as the answerer weighs words by
        rarity): when "any kept group" is still over budget, a pair of them is required. One group
        left is used as is (the caller also caps the rows scored)."""
        share = [min(1.0, sum(shares.get(t, 0.0) for t in g)) for g in self.groups]
        keep = sorted(range(len(self.groups)), key=lambda i: share[i])  # rarest first
        dropped = 0
        while True:
            need = max(1, self.minimum - dropped)
            estimate = _pairs_share([share[i] for i in keep]) if need >= 2 else sum(share[i] for i in keep)
            if need < 2 and estimate > budget_share and len(keep) >= 2:
                need, estimate = 2, _pairs_share([share[i] for i in keep])
            if estimate <= budget_share or len(keep) == 1:
                break
            keep.pop()
            dropped += 1
        parts = [_group_query(self.groups[i]) for i in sorted(keep)]
        if need < 2:
            return " | ".join(parts)
        return " | ".join(f"({a} & {b})" for i, a in enumerate(parts) for b in parts[i + 1 :])

    def group_queries(self) -> list[str]:
        return [_group_query(g) for g in self.groups]

    def matched(self, document_terms: set[str]) -> int:
        return sum(1 for g in self.groups if g & document_terms)


def _pairs_share(shares: list[float]) -> float:
    return sum(a * b for i, a in enumerate(shares) for b in shares[i + 1 :])


def _quote(term: str) -> str:
    return "'" + term.replace("'", "''") + "'"


def _group_query(group: frozenset[str]) -> str:
    return "(" + " | ".join(_quote(t) for t in sorted(group)) + ")"


def minimum_should_match(groups: int) -> int:
    return 1 if groups <= 2 else (groups + 1) // 2


def text_query(question: str) -> TextQuery | None:
    """The full-text query for ``question`` (``None`` when it has no meaningful word)."""
    terms = content_terms(question)[:MAX_GROUPS]
    if not terms:
        return None
    groups: list[frozenset[str]] = []
    for term in terms:
        if not any(term in group for group in groups):  # "monthly installments": one meaning
            groups.append(frozenset({term, *equivalents(term)}))
    return TextQuery(tuple(groups), minimum_should_match(len(groups)))
