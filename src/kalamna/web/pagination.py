from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from kalamna.domain.pages import MAX_PAGE_SIZE, PageRequest

Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE_SIZE, description="page size (1–100)")]
Offset = Annotated[int, Parameter(ge=0, description="items to skip")]


def page_of(limit: int, offset: int) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)
