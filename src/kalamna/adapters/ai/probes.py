"""Health probes for the models. Not required: a model outage degrades answers (fallbacks, 503 on the
chat route) but the rest of the API keeps serving, so health stays 200 and names the problem."""

from __future__ import annotations


class OfflineModelProbe:
    """The bundled models run in-process: they are there if the adapter could be built."""

    required = False

    def __init__(self, name: str) -> None:
        self.name = name

    async def check(self) -> None:
        return None


class OpenAICompatibleProbe:
    required = False

    def __init__(self, name: str, *, base_url: str | None, api_key: str) -> None:
        self.name = name
        self._base_url = base_url
        self._api_key = api_key

    async def check(self) -> None:
        import openai  # here, not at the top: a deployment with the bundled models never loads the SDK

        client = openai.AsyncOpenAI(
            base_url=self._base_url, api_key=self._api_key, timeout=2.0, max_retries=0
        )
        try:
            await client.models.list()
        except openai.APIConnectionError as exc:
            raise ConnectionError(str(exc)) from exc
        finally:
            await client.close()
