from __future__ import annotations

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec

from kalamna.application.health import CheckHealth


class SchemaOut(msgspec.Struct):
    revision: str | None
    expected: str


class HealthResponse(msgspec.Struct):
    status: str
    version: str
    dependencies: dict[str, str]
    schema: SchemaOut | None = None


@get(
    "/health",
    summary="Service health",
    description="200 when every required dependency answers; 503 with the same shape otherwise. "
    "`schema` gives the database's migration revision and the one the code expects; a database "
    "behind the code reports `database: schema_behind`.",
    tags=["operations"],
    responses={503: ResponseSpec(data_container=HealthResponse, description="A required dependency is down")},
)
@inject
async def health(check_health: FromDishka[CheckHealth]) -> Response[HealthResponse]:
    report = await check_health()
    dependencies = {check.name: str(check.status) for check in report.checks}
    body = HealthResponse(
        status="ok" if report.healthy else "unavailable",
        version=report.version,
        dependencies=dependencies,
        schema=SchemaOut(report.schema.revision, report.schema.expected) if report.schema else None,
    )
    return Response(body, status_code=200 if report.healthy else 503, headers={"Cache-Control": "no-store"})
