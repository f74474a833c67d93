"""Typed settings read from ``KALAMNA_*`` environment variables (and an optional ``.env`` file).

Every field is validated on its own so that start-up reports *all* bad values at once, each with
the variable name and the reason. Secrets that ``kalamna dev`` needs (JWT secret, internal token)
are generated once and kept in the data directory when they are not configured.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

ENV_PREFIX = "KALAMNA_"


class SettingsError(ValueError):
    """Raised with one line per invalid setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """All runtime configuration. Field ``foo`` is read from ``KALAMNA_FOO``."""

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    # External services; ``None`` means "start the embedded server inside data_dir".
    database_url: str | None = None
    redis_url: str | None = None
    database_pool_size: int = 10
    database_echo: bool = False

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Base URL of this API in emailed links; unset: http://<host>:<port> of this process.
    public_url: str | None = None
    # A separate dashboard for the reset/invitation links; unset: this API's own account pages.
    dashboard_url: str | None = None
    cors_allow_origins: list[str] = msgspec.field(default_factory=lambda: ["*"])
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "text"

    # Secrets: generated into data_dir/secrets.json for development when unset.
    jwt_secret: str | None = None
    internal_token: str | None = None

    # Access tokens. HS256 signs with jwt_secret; EdDSA/RS256/ES256 sign with jwt_private_key_file and
    # verify with its public key. jwt_previous_keys ("kid=ALG:path-or-secret", comma-separated) keep
    # verifying tokens signed by rotated-out keys until they expire.
    jwt_algorithm: Literal["HS256", "EdDSA", "RS256", "ES256"] = "HS256"
    jwt_key_id: str = "k1"
    jwt_private_key_file: Path | None = None
    jwt_previous_keys: list[str] = msgspec.field(default_factory=list)
    jwt_issuer: str = "kalamna"
    jwt_audience: str = "kalamna-api"
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 7 * 24 * 3600
    verification_token_ttl_s: int = 48 * 3600
    reset_token_ttl_s: int = 3600
    invitation_ttl_s: int = 7 * 24 * 3600

    # argon2id parameters (defaults: OWASP's m=19 MiB, t=2, p=1) and the hashing thread pool size.
    argon2_memory_kib: int = 19_456
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    # 0 = one thread fewer than the CPUs (at least 1): hashing never takes the event loop's core.
    argon2_threads: int = 0

    # Rate limits: "count/seconds".
    rate_limit_login_failures: str = "10/900"
    rate_limit_registrations: str = "10/3600"
    rate_limit_email_actions: str = "5/3600"
    # forgot-password and resend-verification together, per client IP
    rate_limit_email_actions_per_ip: str = "20/3600"
    rate_limit_widget_session_messages: str = "30/60"
    # Each client IP of a widget has its own share, under a larger ceiling for the whole key.
    rate_limit_widget_key_requests: str = "3000/60"
    rate_limit_widget_client_requests: str = "120/60"
    rate_limit_widget_feedback: str = "10/60"

    # Mail: "outbox" writes .eml files to data_dir/mail (development); "smtp" sends for real.
    mail_backend: Literal["outbox", "smtp"] = "outbox"
    mail_from: str = "Kalamna <no-reply@kalamna.local>"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"

    # Jobs
    worker_concurrency: int = 8
    # SAQ waits this long for running jobs on shutdown, then cancels them (jobs are retry-safe).
    worker_shutdown_grace_s: int = 10
    # An idle job loop waits this long for a job (one blocking Redis call), then checks whether the
    # worker is stopping: the longest an idle worker takes to stop. Lower polls Redis more often.
    worker_idle_wait_s: float = 1.0
    queue_name: str = "kalamna"

    # Knowledge processing
    # 300/30 (was 400/60): ~16 % less embedding CPU per document token, long-document retrieval
    # as good or better (tests/quality/test_long_document_retrieval.py; docs/knowledge.md).
    chunk_target_tokens: int = 300
    chunk_overlap_tokens: int = 30
    extraction_timeout_s: float = 30.0
    extraction_memory_mb: int = 1024
    # Cosine similarity the embedding model gives unrelated text (scores are rescaled so that it maps
    # to 0). Unset: 0.75 for the offline e5 model, 0.1 for OpenAI-compatible embeddings.
    embedding_similarity_floor: float | None = None
    embedding_dimensions: int | None = None

    # Answering. On an unreachable model: false → 503 llm_unavailable; true → the fallback message.
    llm_fallback_on_error: bool = False
    llm_timeout_s: float = 60.0
    llm_max_retries: int = 2

    # Handover and live events. At shutdown a reply still streaming this long after SIGTERM is cut,
    # stored as far as it got and marked interrupted (keep it below uvicorn's 20 s grace).
    reply_drain_s: float = 15.0
    events_keepalive_s: float = 15.0  # SSE comment interval on the event streams (at most 20 s)
    handover_notice_per_hour: int = 30  # "a customer is waiting" emails per organization per hour

    # Which adapters answer and embed: "auto" uses the OpenAI-compatible endpoint when one is
    # configured (KALAMNA_OPENAI_BASE_URL or KALAMNA_OPENAI_API_KEY), else the offline defaults.
    llm_provider: Literal["auto", "offline", "openai"] = "auto"
    embedding_provider: Literal["auto", "offline", "openai"] = "auto"

    # Models
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    chat_model: str = "gpt-4o-mini"
    embedding_model: str = "text-embedding-3-small"
    # Tenants with more chunks than this get a partial HNSW index of their own (worker maintenance;
    # docs/knowledge.md). 0: none are built.
    knowledge_tenant_index_min_chunks: int = 1000

    # Webhooks. Private targets (loopback, RFC 1918, link-local, ...): unset = allowed only under
    # env=development. The encryption key protects signing secrets at rest (unset: derived from
    # jwt_secret; set it in production so that rotating the JWT secret keeps webhooks working).
    webhook_allow_private_targets: bool | None = None
    webhook_encryption_key: str | None = None
    webhook_timeout_s: float = 10.0
    webhook_max_attempts: int = 6
    webhook_retry_base_s: float = 30.0
    webhook_retry_factor: float = 4.0

    # Operations: GET /metrics needs "Authorization: Bearer <metrics_token>"; when it is empty the
    # endpoint is open outside production and refused (401) in production.
    metrics_token: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 1 <= self.port <= 65535:
            problems.append(f"{ENV_PREFIX}PORT: must be between 1 and 65535, got {self.port}")
        if self.workers < 1:
            problems.append(f"{ENV_PREFIX}WORKERS: must be at least 1, got {self.workers}")
        for name in (
            "rate_limit_login_failures",
            "rate_limit_registrations",
            "rate_limit_email_actions",
            "rate_limit_email_actions_per_ip",
            "rate_limit_widget_session_messages",
            "rate_limit_widget_key_requests",
            "rate_limit_widget_client_requests",
            "rate_limit_widget_feedback",
        ):
            try:
                parse_rate(getattr(self, name))
            except ValueError:
                problems.append(f"{ENV_PREFIX}{name.upper()}: must look like COUNT/SECONDS, e.g. 10/900")
        if self.argon2_memory_kib < 19_456 or self.argon2_time_cost < 2:
            problems.append(f"{ENV_PREFIX}ARGON2_*: below OWASP's minimum (m=19456 KiB, t=2)")
        if self.jwt_algorithm != "HS256" and self.jwt_private_key_file is None:
            problems.append(f"{ENV_PREFIX}JWT_PRIVATE_KEY_FILE: required for {self.jwt_algorithm}")
        if self.database_pool_size < 1:
            problems.append(f"{ENV_PREFIX}DATABASE_POOL_SIZE: must be at least 1")
        if self.knowledge_tenant_index_min_chunks < 0:
            problems.append(f"{ENV_PREFIX}KNOWLEDGE_TENANT_INDEX_MIN_CHUNKS: must be 0 (off) or more")
        if self.worker_concurrency < 1:
            problems.append(f"{ENV_PREFIX}WORKER_CONCURRENCY: must be at least 1")
        if not 0 < self.worker_idle_wait_s <= 10:
            problems.append(f"{ENV_PREFIX}WORKER_IDLE_WAIT_S: must be above 0 and at most 10 seconds")
        if self.database_url is not None and not self.database_url.startswith("postgresql"):
            problems.append(f"{ENV_PREFIX}DATABASE_URL: must be a postgresql:// URL")
        if self.redis_url is not None and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            problems.append(f"{ENV_PREFIX}REDIS_URL: must be a redis://, rediss:// or unix:// URL")
        for name in ("public_url", "dashboard_url"):
            value = getattr(self, name)
            if value is not None and not value.startswith(("http://", "https://")):
                problems.append(f"{ENV_PREFIX}{name.upper()}: must be an http(s) URL")
        if self.webhook_max_attempts < 1 or self.webhook_timeout_s <= 0 or self.webhook_retry_base_s < 0:
            problems.append(f"{ENV_PREFIX}WEBHOOK_*: attempts >= 1, timeout > 0 and retry base >= 0")
        if self.env == "production":
            problems.extend(_production_problems(self))
        if not 0 < self.events_keepalive_s <= 20:
            problems.append(f"{ENV_PREFIX}EVENTS_KEEPALIVE_S: must be between 0 and 20 seconds")
        if not 0 <= self.reply_drain_s <= 60:
            problems.append(f"{ENV_PREFIX}REPLY_DRAIN_S: must be between 0 and 60 seconds")
        if problems:
            raise SettingsError(problems)

    @property
    def base_url(self) -> str:
        """Where browsers reach this API: ``public_url``, else this process's own address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def uses_embedded_redis(self) -> bool:
        return self.redis_url is None

    @property
    def uses_openai(self) -> bool:
        return self.openai_base_url is not None or self.openai_api_key is not None

    @property
    def llm_is_openai(self) -> bool:
        return self.llm_provider == "openai" or (self.llm_provider == "auto" and self.uses_openai)

    @property
    def embedder_is_openai(self) -> bool:
        return self.embedding_provider == "openai" or (self.embedding_provider == "auto" and self.uses_openai)

    @property
    def webhooks_allow_private(self) -> bool:
        if self.webhook_allow_private_targets is None:
            return self.env == "development"
        return self.webhook_allow_private_targets

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def _weak_secret(value: str | None) -> bool:
    """Too short, padded, or too few distinct characters (32 spaces, "aaaa…") to be random."""
    return not value or len(value.strip()) < 32 or value != value.strip() or len(set(value)) < 10


def _production_problems(settings: Settings) -> list[str]:
    """Settings that are fine on a laptop and unsafe in production; each refused by name."""
    problems: list[str] = []
    for name in ("jwt_secret", "internal_token"):
        if _weak_secret(getattr(settings, name)):
            problems.append(
                f"{ENV_PREFIX}{name.upper()}: required in production, at least 32 random characters "
                "(no padding, at least 10 distinct characters)"
            )
    if "*" in settings.cors_allow_origins:
        problems.append(
            f"{ENV_PREFIX}CORS_ALLOW_ORIGINS: '*' is not allowed in production; list the dashboard origins"
        )
    # Links in emails: the public URL is required (without it links would name this process's own
    # bind address); a separate dashboard is optional, but https when set.
    for name, required in (("public_url", True), ("dashboard_url", False)):
        value = getattr(settings, name)
        if (value or required) and not (value or "").startswith("https://"):
            problems.append(
                f"{ENV_PREFIX}{name.upper()}: must be an https:// URL in production (links in emails)"
            )
    if settings.mail_backend == "outbox":
        problems.append(f"{ENV_PREFIX}MAIL_BACKEND: 'outbox' writes .eml files; use 'smtp' in production")
    elif settings.smtp_security == "none":
        problems.append(
            f"{ENV_PREFIX}SMTP_SECURITY: 'none' sends mail (and links) in clear; use starttls or tls"
        )
    return problems


_LIST_FIELDS = {"cors_allow_origins", "trusted_proxies", "jwt_previous_keys"}


def parse_rate(value: str) -> tuple[int, int]:
    """``"10/900"`` → (10, 900): at most 10 events per 900 seconds."""
    count, _, window = value.partition("/")
    parsed = int(count), int(window)
    if parsed[0] < 1 or parsed[1] < 1:
        raise ValueError(value)
    return parsed


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _coerce(name: str, raw: str) -> Any:
    if name in _LIST_FIELDS:
        return [item.strip() for item in raw.split(",") if item.strip()]
    if raw == "" and name in _OPTIONAL_FIELDS:
        return None
    return raw


_FIELDS = {f.name: f for f in msgspec.structs.fields(Settings)}
_OPTIONAL_FIELDS = {name for name, f in _FIELDS.items() if f.default is None}


def load_settings(
    environ: Mapping[str, str] | None = None, *, dotenv: Path | None = Path(".env")
) -> Settings:
    """Build settings from the environment (``.env`` values are overridden by real variables)."""
    env = dict(_read_dotenv(dotenv)) if dotenv is not None else {}
    env.update(os.environ if environ is None else environ)
    raw: dict[str, Any] = {}
    problems: list[str] = []
    types = {name: f.type for name, f in _FIELDS.items()}
    for name in _FIELDS:
        key = ENV_PREFIX + name.upper()
        if key not in env:
            continue
        value = _coerce(name, env[key])
        if types[name] in (Path, Path | None):
            raw[name] = Path(value).expanduser()
            continue
        try:
            raw[name] = msgspec.convert(value, types[name], strict=False)
        except msgspec.ValidationError as exc:
            problems.append(f"{key}={env[key]!r}: {exc}")
    if problems:
        raise SettingsError(problems)
    return _with_generated_secrets(Settings(**raw))


def _with_generated_secrets(settings: Settings) -> Settings:
    """Fill missing secrets from ``data_dir/secrets.json``, creating it (mode 0600) on first use."""
    if settings.jwt_secret and settings.internal_token:
        return settings
    path = settings.data_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.is_file():
        stored = msgspec.json.decode(path.read_bytes(), type=dict[str, str])
    changed = False
    for name in ("jwt_secret", "internal_token"):
        if not stored.get(name):
            stored[name] = secrets.token_urlsafe(48)
            changed = True
    if changed:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(msgspec.json.encode(stored))
        os.replace(tmp, path)
    return msgspec.structs.replace(
        settings,
        jwt_secret=settings.jwt_secret or stored["jwt_secret"],
        internal_token=settings.internal_token or stored["internal_token"],
    )
