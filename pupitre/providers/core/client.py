"""The base of every provider client: auth, quota, error mapping, retried reads.

Given a quota limiter, every request that goes on the wire takes a slot of it
(:class:`~pupitre.providers.core.auth.QuotaPacedAuth`). A provider client subclasses
:class:`ApiClient`, sets ``provider`` and, if its
error bodies carry a message, overrides :meth:`error_detail`. Its methods are
named after the API's resources and return the provider's types
(:class:`~pupitre.providers.core.api.ApiStruct`).
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

from pupitre.providers.core.api import from_data
from pupitre.providers.core.auth import QuotaPacedAuth
from pupitre.providers.core.errors import error_for_exception, error_for_response
from pupitre.providers.core.http import decode_json
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import DEFAULT_RETRY, RetryPolicy, retry_read
from pupitre.providers.core.urls import check_base_url

T = TypeVar("T")


class ApiClient:
    provider = "API"

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        quota: QuotaLimiter | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.http = http
        self.base_url = check_base_url(base_url)
        # The quota slot is taken when a request actually leaves — after the token is
        # attached, for every retry and for the re-send after a 401 — so it lives in the
        # auth flow, not in :meth:`send` (a token fetch must not sit inside the window).
        self.auth = QuotaPacedAuth(auth, quota) if quota is not None else auth
        self.limiter = quota
        self.retry = retry

    def error_detail(self, response: httpx.Response) -> str:
        """The API's own error message, if its body has one (plain text, truncated)."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if isinstance(body, dict):
            for key in ("message", "Message", "error_description", "detail"):
                value = body.get(key)
                if isinstance(value, str):
                    return value[:300]
        return ""

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One call, no retry: auth (with the quota slot), typed error on failure."""
        try:
            response = await self.http.request(
                method, self.base_url + path, params=params, json=json, headers=headers, auth=self.auth
            )
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, self.provider) from exc
        if response.is_error:
            raise error_for_response(response, self.provider, detail=self.error_detail(response))
        return response

    async def get_json(
        self,
        path: str,
        model: type[T],
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> T:
        """A retried GET whose JSON body is read as ``model`` (:func:`~pupitre.providers.core.api.from_data`)."""

        async def once() -> T:
            response = await self.send("GET", path, params=params, headers=headers)
            return from_data(decode_json(response, self.provider), model, provider=self.provider)

        return await retry_read(once, self.retry)
