from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from kalamna.domain.pages import MAX_PAGE_SIZE, PageRequest

Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE, description="page size (1–100)")]
# PostgreSQL's OFFSET is a signed 64-bit integer: anything larger is refused with 422, not sent.
MAX_OFFSET = 2**63 - 1
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="items to skip")]


def page_of(limit: int, offset: int) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)
