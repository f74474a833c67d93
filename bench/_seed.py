"""Seed a chat benchmark without email round-trips: a superuser, organizations with a widget key and
a knowledge base written straight into the chunk index (vectors from the fake OpenAI server's
deterministic embedding), then the HNSW index. Used by ``bench/chat_load.py``."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from uuid import UUID

from dishka import AsyncContainer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.fakes.openai_server import FakeOpenAI

from kalamna.adapters.postgres.chunk_index import ensure_vector_index
from kalamna.application.auth.principal import Principal
from kalamna.application.auth.superuser import CreateSuperuser
from kalamna.application.credentials import RotateApiKey
from kalamna.application.knowledge.entries import CreateEntry
from kalamna.application.organizations import UpdateBotConfig
from kalamna.application.platform import CreateOrganization, NewOrganization
from kalamna.domain.identity import Role
from kalamna.domain.knowledge import IndexedChunk, KnowledgeEntry
from kalamna.domain.terms import search_document
from kalamna.ports.ai import TokenCounter
from kalamna.ports.knowledge import ChunkIndex, KnowledgeRepository
from kalamna.ports.repositories import UnitOfWork
from kalamna.ports.security import Clock

PASSWORD = "benchmark passphrase 42 for the chat load"
CHUNKS_PER_ENTRY = 50

_SYLLABLES = [
    "zen",
    "tri",
    "kor",
    "vex",
    "lum",
    "nar",
    "pix",
    "qua",
    "rho",
    "sol",
    "tav",
    "ul",
    "mir",
    "dex",
    "fol",
    "gan",
    "bri",
    "cas",
    "dor",
    "ely",
    "fen",
    "gor",
    "hal",
    "ix",
]
_SUFFIXES = ["", " Pro", " Mini", " 300", " X", " Max", " Air", " Go", " Plus", " 2"]
FEATURES = [
    "password reset", "refund", "invoice", "shipping", "warranty", "subscription", "api key", "battery",
    "firmware update", "account deletion", "two-factor login", "data export", "payment method",
    "delivery address", "return label", "order tracking", "discount code", "gift card", "screen repair",
    "bluetooth pairing", "storage plan", "family sharing", "parental controls", "backup", "sync",
    "notifications", "dark mode", "language settings", "tax receipt", "bulk order", "loyalty points",
    "price match", "trade-in", "installation", "calibration", "charging cable", "wifi setup",
]  # fmt: skip
VERBS = [
    "reset", "change", "cancel", "renew", "activate", "request", "download", "update", "track",
    "transfer", "enable", "disable", "replace", "configure", "extend", "pause", "verify",
]  # fmt: skip
PLACES = ["Egypt", "Jordan", "Morocco", "the UAE", "Saudi Arabia", "Tunisia", "Qatar", "Lebanon", "Oman"]
MENUS = ["Settings", "Account", "Billing", "Orders", "Support", "Devices", "Security", "Profile"]
_FILLER = [
    "customers",
    "often",
    "ask",
    "about",
    "this",
    "before",
    "contacting",
    "support",
    "because",
    "the",
    "steps",
    "differ",
    "slightly",
    "between",
    "regions",
    "and",
    "plans",
    "while",
    "the",
    "basic",
    "idea",
    "stays",
    "the",
    "same",
    "please",
    "keep",
    "your",
    "receipt",
    "and",
    "serial",
    "number",
    "nearby",
    "since",
    "our",
    "team",
    "may",
    "request",
    "them",
    "to",
    "confirm",
    "ownership",
    "business",
    "days",
    "exclude",
    "public",
    "holidays",
    "and",
    "weekends",
    "in",
    "most",
    "countries",
    "where",
    "we",
    "operate",
    "the",
    "mobile",
    "app",
    "and",
    "the",
    "website",
    "show",
    "the",
    "same",
    "options",
    "although",
    "some",
    "labels",
    "are",
    "shorter",
    "on",
    "small",
    "screens",
    "premium",
    "members",
    "get",
    "priority",
    "handling",
    "and",
    "a",
    "dedicated",
    "phone",
    "line",
    "during",
    "working",
    "hours",
]
_SENTENCES = [
    "Q: How do I {verb} the {feature} on my {product}? A: Open {menu} > {feature}, choose {verb} and "
    "confirm; it takes about {n} minutes.",
    "The {feature} for {product} is available in {place} and usually completes within {n} business days.",
    "If you cannot {verb} the {feature}, restart the {product}, sign in again and retry from the {menu} page.",
    "{product} owners on the {plan} plan can {verb} their {feature} up to {n} times per month at no cost.",
    "Note: a {feature} request made after {n} days needs the original order number and a photo of the "
    "{product}.",
    "Our support team in {place} answers {feature} questions about the {product} from 9:00 to 18:00.",
    "To {verb} {feature} settings for several {product} devices at once, use {menu} > Bulk actions.",
    "Refunds for {product} accessories follow the {feature} policy; fees are waived for the {plan} plan.",
]
PLANS = ["Basic", "Plus", "Business", "Family", "Student", "Enterprise"]
QUESTIONS = [
    "How do I {verb} the {feature} on my {product}?",
    "Is {feature} available for {product} in {place}?",
    "Can I {verb} {feature} on the {plan} plan for my {product}?",
    "My {product} {feature} does not work, what should I do?",
    "How long does the {feature} take for a {product}?",
    "Where is the {feature} option for {product} in {menu}?",
]


def product_names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
        names.add(stem.capitalize() + rng.choice(_SUFFIXES))
    return sorted(names)


def _fill(
    template: str,
    rng: random.Random,
    products: list[str],
    product: str | None = None,
    feature: str | None = None,
) -> str:
    return template.format(
        verb=rng.choice(VERBS),
        feature=feature or rng.choice(FEATURES),
        product=product or rng.choice(products),
        place=rng.choice(PLACES),
        menu=rng.choice(MENUS),
        plan=rng.choice(PLANS),
        n=rng.randint(2, 30),
    )


def chunk_text(rng: random.Random, title: str, products: list[str], product: str, feature: str) -> str:
    """An FAQ-like chunk of roughly 150-250 words that starts with its entry title (as real chunks do)
    and is mostly about its entry's product and feature."""
    parts = [title]
    for _ in range(rng.randint(7, 11)):
        on_topic = rng.random() < 0.75
        parts.append(
            _fill(
                rng.choice(_SENTENCES),
                rng,
                products,
                product if on_topic else None,
                feature if on_topic else None,
            )
        )
        if rng.random() < 0.6:
            words = rng.sample(_FILLER, rng.randint(8, 16))
            parts.append(" ".join(words).capitalize() + ".")
    return " ".join(parts)


def question(rng: random.Random, products: list[str]) -> str:
    return _fill(rng.choice(QUESTIONS), rng, products)


@dataclass
class SeededOrg:
    id: UUID
    name: str
    products: list[str]
    api_key: str | None = None
    chunks: int = 0
    entries: list[UUID] = field(default_factory=list)


@dataclass
class SeedReport:
    main: SeededOrg
    noise: list[SeededOrg]
    seconds: dict[str, float]


async def _create_org(
    container: AsyncContainer, principal: Principal, name: str, email: str, *, key: bool
) -> tuple[UUID, str | None]:
    async with container() as scope:
        create = await scope.get(CreateOrganization)
        organization, _ = await create(
            principal, NewOrganization(profile={"name": name}, owner_email=email, owner_full_name="Owner")
        )
    async with container() as scope:
        await (await scope.get(UpdateBotConfig))(principal, organization.id, {"min_score": 0.0})
    raw: str | None = None
    if key:
        async with container() as scope:
            raw, _ = await (await scope.get(RotateApiKey))(principal, organization.id)
    return organization.id, raw


async def _fill_knowledge(
    container: AsyncContainer,
    principal: Principal,
    org: SeededOrg,
    chunk_count: int,
    rng: random.Random,
    model: str,
    dimensions: int,
) -> None:
    tokens = await container.get(TokenCounter)
    clock = await container.get(Clock)
    remaining = chunk_count
    number = 0
    while remaining > 0:
        size = min(CHUNKS_PER_ENTRY, remaining)
        product = rng.choice(org.products)
        feature = rng.choice(FEATURES)
        title = f"{product} {feature} guide {number + 1}"
        texts = [chunk_text(rng, title, org.products, product, feature) for _ in range(size)]
        async with container() as scope:
            entry: KnowledgeEntry = await (await scope.get(CreateEntry)).from_text(
                principal, org.id, title, "\n\n".join(texts)
            )
        async with container() as scope:
            index = await scope.get(ChunkIndex)
            entries = await scope.get(KnowledgeRepository)
            uow = await scope.get(UnitOfWork)
            chunks = [
                IndexedChunk(
                    position=i, content=t, token_count=tokens.count(t), search_text=search_document(t)
                )
                for i, t in enumerate(texts)
            ]
            await index.replace(entry, chunks)
            pending = await index.pending_embeddings(entry.id, model)
            await index.store_embeddings(
                model, {chunk_id: FakeOpenAI.vector(content, dimensions) for chunk_id, content in pending}
            )
            locked = await entries.get_for_update(entry.id)
            assert locked is not None
            now = clock.now()
            locked.chunked(chunk_count=size, token_count=sum(c.token_count for c in chunks), now=now)
            locked.ready(embedding_model=model, now=now)
            await entries.save(locked)
            await uow.commit()
        org.entries.append(entry.id)
        org.chunks += size
        remaining -= size
        number += 1


async def seed(
    container: AsyncContainer,
    *,
    chunks: int,
    noise_orgs: int,
    noise_chunks: int,
    model: str,
    dimensions: int,
    rng_seed: int = 7,
) -> SeedReport:
    rng = random.Random(rng_seed)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    async with container() as scope:
        superuser = await (await scope.get(CreateSuperuser))(
            "bench-admin@example.test", PASSWORD, "Bench administrator"
        )
    principal = Principal(
        employee_id=superuser.id,
        organization_id=None,
        role=Role.SUPERUSER,
        jti="bench-chat-load",
        expires_at=time.time() + 24 * 3600,
    )
    main_id, key = await _create_org(container, principal, "Bench Shop", "owner@bench.test", key=True)
    main = SeededOrg(main_id, "Bench Shop", product_names(rng, 40), api_key=key)
    noise: list[SeededOrg] = []
    for i in range(noise_orgs):
        org_id, _ = await _create_org(container, principal, f"Noise {i}", f"owner{i}@noise.test", key=False)
        noise.append(SeededOrg(org_id, f"Noise {i}", product_names(rng, 12)))
    seconds["organizations"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    await _fill_knowledge(container, principal, main, chunks, rng, model, dimensions)
    for org in noise:
        await _fill_knowledge(container, principal, org, noise_chunks, rng, model, dimensions)
    seconds["chunks + embeddings"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    engine = await container.get(AsyncEngine)
    await ensure_vector_index(engine, model, dimensions)
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE knowledge_chunks"))
        await autocommit.execute(text("ANALYZE knowledge_entries"))
    seconds["HNSW index + analyze"] = time.perf_counter() - t0
    return SeedReport(main=main, noise=noise, seconds=seconds)
