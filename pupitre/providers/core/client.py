"""The base of every provider client: auth, quota, error mapping, retried reads.

A provider client subclasses :class:`ApiClient`, sets ``provider`` and, if its
error bodies carry a message, overrides :meth:`error_detail`. Its methods are
named after the API's resources and return pydantic models.
"""

from __future__ import annotations

from typing import Any

import httpx

from pupitre.providers.core.errors import error_for_exception, error_for_response
from pupitre.providers.core.http import decode_json, parse_model
from pupitre.providers.core.urls import check_base_url
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import RetryPolicy, retry_read


class ApiClient:
    provider = "API"

    def __init__(self, http: httpx.AsyncClient, base_url: str, auth: httpx.Auth | None, *,
                 quota: QuotaLimiter | None = None, retry: RetryPolicy = RetryPolicy()) -> None:
        self.http = http
        self.base_url = check_base_url(base_url)
        self.auth = auth
        self.quota = quota
        self.retry = retry

    def error_detail(self, response: httpx.Response) -> str:
        """The API's own error message, if its body has one (plain text, truncated)."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if isinstance(body, dict):
            for key in ("message", "Message", "error_description", "detail"):
                if isinstance(body.get(key), str):
                    return body[key][:300]
        return ""

    async def send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                   json: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        """One call, no retry: quota slot, auth, typed error on failure."""
        if self.quota is not None:
            await self.quota.acquire()
        try:
            response = await self.http.request(method, self.base_url + path, params=params, json=json,
                                               headers=headers, auth=self.auth)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, self.provider) from exc
        if response.is_error:
            raise error_for_response(response, self.provider, detail=self.error_detail(response))
        return response

    async def get_json(self, path: str, model: Any, *, params: dict[str, Any] | None = None,
                       headers: dict[str, str] | None = None) -> Any:
        """A retried GET whose JSON body is validated against ``model``."""

        async def once() -> Any:
            response = await self.send("GET", path, params=params, headers=headers)
            return parse_model(decode_json(response, self.provider), model, self.provider)

        return await retry_read(once, self.retry)
