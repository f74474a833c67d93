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
# A word group found in at least this share of a tenant's chunks is *common* for that tenant: it no
# longer selects rows for full-text scoring (it still counts towards "groups matched" on the rows kept).
COMMON_SHARE = 0.08


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

    def selective_prefilter(self, shares: Mapping[str, float], budget_share: float = 1.0) -> str:
        """The indexed condition built from the question's *rare* groups, given the share of the
        tenant's chunks that contain each term (terms absent from ``shares`` are rare).

        A group's share is the sum of its terms' (an upper bound). Groups at or above
        :data:`COMMON_SHARE` are common. A chunk matching ``minimum`` of the ``n`` groups matches at
        least ``minimum - common`` rare ones, so when that is 1 or more the condition "any pair of rare
        groups" (or "any rare group") is still a superset of the rule, only far more selective. When
        it is not (the question's common words alone could reach the minimum), at least one rare group
        is required: common words are demoted, as the answerer weighs words by rarity. With no rare
        group at all, the rarest group is required (the caller caps the rows scored). When one rare
        group would do but the rare groups together are estimated in more than ``budget_share`` of the
        chunks (the rows the caller will score), a pair of them is required instead."""
        share = [min(1.0, sum(shares.get(t, 0.0) for t in g)) for g in self.groups]
        rare = [i for i, s in enumerate(share) if s < COMMON_SHARE]
        if not rare:
            rare = [min(range(len(share)), key=share.__getitem__)]
        need = max(1, self.minimum - (len(self.groups) - len(rare)))
        if need < 2 and len(rare) >= 2 and sum(share[i] for i in rare) > budget_share:
            need = 2
        parts = [_group_query(self.groups[i]) for i in rare]
        if need < 2:
            return " | ".join(parts)
        return " | ".join(f"({a} & {b})" for i, a in enumerate(parts) for b in parts[i + 1 :])

    def group_queries(self) -> list[str]:
        return [_group_query(g) for g in self.groups]

    def matched(self, document_terms: set[str]) -> int:
        return sum(1 for g in self.groups if g & document_terms)


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
