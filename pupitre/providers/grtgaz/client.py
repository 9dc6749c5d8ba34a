"""Client of the GRTgaz SFM API: flexibility indicators (chapter 4 §14.1-14.2).

Resources live under ``https://api.offre.grtgaz.com/sfm/v1`` (test:
``api.offre-stg.grtgaz.com``), reached with a bearer token from the certificate
JWT flow of §11.2 (``core.auth.JwtAssertionCredentials``). Errors come back as the
§13.6 ``Error`` object; its ``Message`` becomes the typed error's detail, cleaned
of control characters, markup-escaped and truncated.

A call is made once: ``retry`` defaults to no retry (callers wrap reads in
``core.retry``); pass a :class:`RetryPolicy` to retry network, 5xx and 429 errors.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx

from pupitre.providers.core.client import ApiClient
from pupitre.providers.core.errors import BadRequestError
from pupitre.providers.core.http import decode_json, parse_model, safe_text
from pupitre.providers.core.retry import NO_RETRY, RetryPolicy, retry_read
from pupitre.providers.grtgaz.models import Error, SiteIndicators, timestamps_reading

PROVIDER = "GRTgaz"
PRODUCTION_BASE_URL = "https://api.offre.grtgaz.com/sfm/v1"
TEST_BASE_URL = "https://api.offre-stg.grtgaz.com/sfm/v1"
PRODUCTION_TOKEN_URL = "https://login.microsoftonline.com/offre.grtgaz.com/oauth2/v2.0/token"
TEST_TOKEN_URL = "https://login.microsoftonline.com/offre-stg.grtgaz.com/oauth2/v2.0/token"

_SITE_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")

#: API text made safe for the screen (kept under its former name; see ``core.http.safe_text``).
safe_detail = safe_text


class GrtgazClient(ApiClient):
    """The SFM flexibility-indicator resources; methods named after them (§14)."""

    provider = PROVIDER

    def __init__(self, http: httpx.AsyncClient, base_url: str, auth: httpx.Auth | None, *,
                 timestamps_local: bool = True, retry: RetryPolicy = NO_RETRY) -> None:
        super().__init__(http, base_url, auth, retry=retry)
        self.timestamps_local = timestamps_local

    def error_detail(self, response: httpx.Response) -> str:
        """The §13.6 ``Message`` (``Code``/``Message``, lower case accepted), made safe."""
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            return ""
        if isinstance(body, dict):
            try:
                return safe_detail(Error.model_validate(body).message)
            except ValueError:
                return safe_detail(super().error_detail(response))
        return ""

    async def _get(self, path: str, model: Any) -> Any:
        async def once() -> Any:
            response = await self.send("GET", path, headers={"Accept": "application/json"})
            data = decode_json(response, self.provider)
            with timestamps_reading(self.timestamps_local):
                return parse_model(data, model, self.provider)

        return await retry_read(once, self.retry)

    async def flexibility_indicators(self) -> list[SiteIndicators]:
        """``GET /sites/flexibilityIndicators`` (§14.1): current and next indicators of all sites."""
        return await self._get("/sites/flexibilityIndicators", list[SiteIndicators])

    async def site_flexibility_indicators(self, site_id: str) -> SiteIndicators:
        """``GET /sites/{hmsSiteId}/flexibilityIndicators`` (§14.2): one site (``LI0000``)."""
        if not _SITE_ID.fullmatch(site_id):
            raise BadRequestError("not a site id (expected the format LI0000)", provider=self.provider,
                                  detail=safe_detail(site_id, 40))
        return await self._get(f"/sites/{quote(site_id, safe='')}/flexibilityIndicators",
                               SiteIndicators)
