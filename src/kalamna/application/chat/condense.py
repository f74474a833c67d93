"""Follow-ups: a short message after a question ("and for headphones?", "وخلال كم ساعة يصل؟") is
searched twice — alone, and together with the customer's previous message — and the two result
lists are fused by rank (reciprocal rank fusion), so the follow-up's own words lead and the previous
question supplies the topic. Longer messages are searched alone. A message in Arabizi (Arabic in Latin
letters and digits) is also searched in its rule-based Arabic reading, fused the same way."""

from __future__ import annotations

import re
from collections.abc import Sequence
from uuid import UUID

from kalamna.application.knowledge.retrieval import SearchKnowledge
from kalamna.domain.chat import ChatMessage, MessageRole
from kalamna.domain.knowledge import SearchHit
from kalamna.domain.search_query import RRF_K
from kalamna.domain.terms import arabizi_to_arabic, content_terms, looks_like_arabizi

FOLLOW_UP_TERMS = 3  # at most this many meaningful terms makes a message a possible follow-up
_FOLLOW_UP_OPENING = re.compile(
    r"^\s*(?:and|what about|how about|also|same for|و|طيب|وماذا عن|وما|وكم|وهل|وبالنسبة|بالنسبة)",
    re.IGNORECASE,
)


def follow_up_context(text: str, history: Sequence[ChatMessage]) -> str | None:
    """The previous customer message when ``text`` reads as a follow-up of it, else ``None``."""
    previous = [m.content for m in history if m.role is MessageRole.USER]
    if not previous:
        return None
    if len(content_terms(text)) > FOLLOW_UP_TERMS and not _FOLLOW_UP_OPENING.match(text):
        return None
    return previous[-1]


def fuse(lists: Sequence[Sequence[SearchHit]], top_k: int) -> list[SearchHit]:
    """Reciprocal rank fusion of hit lists (one hit per chunk, the best score kept)."""
    fused: dict[UUID, float] = {}
    best: dict[UUID, SearchHit] = {}
    for hits in lists:
        for rank, hit in enumerate(hits, 1):
            fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + 1 / (RRF_K + rank)
            if hit.chunk_id not in best or hit.score > best[hit.chunk_id].score:
                best[hit.chunk_id] = hit
    order = sorted(fused, key=lambda chunk_id: -fused[chunk_id])
    return [best[chunk_id] for chunk_id in order[:top_k]]


async def search_in_conversation(
    search: SearchKnowledge, organization_id: UUID, text: str, history: Sequence[ChatMessage], top_k: int
) -> list[SearchHit]:
    lists = [await search(organization_id, text, top_k)]
    if looks_like_arabizi(text):  # Arabic in Latin letters: search its Arabic reading too
        lists.append(await search(organization_id, arabizi_to_arabic(text), top_k))
    previous = follow_up_context(text, history)
    if previous is not None:
        lists.append(await search(organization_id, previous + "\n" + text, top_k))
    return lists[0] if len(lists) == 1 else fuse(lists, top_k)
