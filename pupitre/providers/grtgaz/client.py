"""Client of the GRTgaz SFM API: flexibility indicators and programs (chapter 4 §14).

Indicators: §14.1-14.2. Programs: ``POST /hmsProfiles`` (§14.6, 201 with ``links``),
``GET /hmsProfiles/{hmsProfileId}`` (§14.3), ``GET /sites/{hmsSiteId}/hmsProfiles``
(§14.5) and ``GET /sites/{hmsSiteId}/rebuiltHmsProfile`` (§14.4), both with
``?gasDayDate=YYYY-MM-DD``. A technical rejection (400, §2) raises
:class:`ProgramRejectedError` carrying the §13.6 ``Code`` and every reason of its
``Message``; an infeasible program is not an error: it comes back REFUSED in its
``hmsProfileFeasibility`` (§13.3).

Resources live under ``https://api.offre.grtgaz.com/sfm/v1`` (test:
``api.offre-stg.grtgaz.com``), reached with a bearer token from the certificate
JWT flow of §11.2 (``core.auth.JwtAssertionCredentials``). Errors come back as the
§13.6 ``Error`` object; its ``Message`` becomes the typed error's detail, cleaned
of control characters, markup-escaped and truncated.

A call is made once: ``retry`` defaults to no retry (callers wrap reads in
``core.retry``); pass a :class:`RetryPolicy` to retry network, 5xx and 429 errors.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Sequence, TypeVar
from urllib.parse import quote

import httpx

from pupitre.providers.core.client import ApiClient
from pupitre.providers.core.errors import BadRequestError, PayloadError, error_for_exception, error_for_response
from pupitre.providers.core.http import decode_json, safe_text
from pupitre.providers.core.retry import NO_RETRY, RetryPolicy, retry_read
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import (
    PROVIDER,
    Error,
    HmsProfile,
    InputHmsProfile,
    Link,
    RebuiltHmsProfile,
    SiteIndicators,
    read,
    read_links,
    to_document,
)

PRODUCTION_BASE_URL = "https://api.offre.grtgaz.com/sfm/v1"
TEST_BASE_URL = "https://api.offre-stg.grtgaz.com/sfm/v1"
PRODUCTION_TOKEN_URL = "https://login.microsoftonline.com/offre.grtgaz.com/oauth2/v2.0/token"
TEST_TOKEN_URL = "https://login.microsoftonline.com/offre-stg.grtgaz.com/oauth2/v2.0/token"

_SITE_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")

_PROFILE_ID = re.compile(r"[A-Za-z0-9._/-]{1,80}")
#: Reasons kept on a :class:`ProgramRejectedError` (a declaration may hold many programs).
MAX_REASONS = 100

T = TypeVar("T")

#: API text made safe for the screen (kept under its former name; see ``core.http.safe_text``).
safe_detail = safe_text


class ProgramRejectedError(BadRequestError):
    """A declaration refused as technically invalid (400, §2; §2.6: all of it).

    ``code`` is the §13.6 ``Code`` (an integer, e.g. 400), ``error_message`` its whole
    ``Message`` made safe, ``reasons`` the ``(code, message)`` pairs found in it
    (codes such as EXEEDED_QMIN_QMAX; "" when the API gave a bare message).
    """

    kind = "rejected"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None,
        detail: str = "",
        code: int | None = None,
        error_message: str = "",
        reasons: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message, provider=provider, status=status, detail=detail)
        self.code = code
        self.error_message = error_message
        self.reasons = reasons

    @property
    def codes(self) -> list[str]:
        """The symbolic codes of the reasons (empty strings dropped)."""
        return [code for code, _ in self.reasons if code]


class GrtgazClient(ApiClient):
    """The SFM flexibility-indicator resources; methods named after them (§14)."""

    provider = PROVIDER

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        timestamps_local: bool = True,
        retry: RetryPolicy = NO_RETRY,
    ) -> None:
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
                return safe_detail(read(body, Error).message)
            except PayloadError:
                return safe_detail(super().error_detail(response))
        return ""

    async def _get(self, path: str, model: type[T], params: dict[str, str] | None = None) -> T:
        async def once() -> T:
            response = await self.send("GET", path, params=params, headers={"Accept": "application/json"})
            return read(decode_json(response, self.provider), model, timestamps_local=self.timestamps_local)

        return await retry_read(once, self.retry)

    async def flexibility_indicators(self) -> list[SiteIndicators]:
        """``GET /sites/flexibilityIndicators`` (§14.1): current and next indicators of all sites."""
        return await self._get("/sites/flexibilityIndicators", list[SiteIndicators])

    def _site_path(self, site_id: str) -> str:
        if not isinstance(site_id, str) or not _SITE_ID.fullmatch(site_id):
            raise BadRequestError(
                "not a site id (expected the format LI0000)",
                provider=self.provider,
                detail=safe_detail(str(site_id), 40),
            )
        return f"/sites/{quote(site_id, safe='')}"

    async def site_flexibility_indicators(self, site_id: str) -> SiteIndicators:
        """``GET /sites/{hmsSiteId}/flexibilityIndicators`` (§14.2): one site (``LI0000``)."""
        return await self._get(f"{self._site_path(site_id)}/flexibilityIndicators", SiteIndicators)

    # -- programs (§14.3 - §14.6) -------------------------------------------------------
    async def declare_programs(self, profiles: Sequence[InputHmsProfile]) -> list[Link]:
        """``POST /hmsProfiles`` (§14.6): send one or more programs; the 201's ``links``.

        Sent once, never retried here (a declaration goes through the outbox). A 400
        raises :class:`ProgramRejectedError` (nothing of the declaration was taken,
        §2.6); the feasibility comes later, read with :meth:`hms_profile`.
        """
        if not profiles:
            raise ValueError("a declaration holds at least one program")
        body = [to_document(profile, timestamps_local=self.timestamps_local) for profile in profiles]
        try:
            response = await self.http.request(
                "POST",
                self.base_url + "/hmsProfiles",
                json=body,
                auth=self.auth,
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, self.provider) from exc
        if response.status_code == 400:
            raise self._rejected(response)
        if response.is_error:
            raise error_for_response(response, self.provider, detail=self.error_detail(response))
        if response.status_code not in (200, 201):
            raise PayloadError(
                "unexpected answer to a declaration", provider=self.provider, status=response.status_code
            )
        if not response.content.strip():
            return []
        return read_links(decode_json(response, self.provider))

    def _rejected(self, response: httpx.Response) -> ProgramRejectedError:
        code: int | None = None
        text = ""
        try:
            error = read(response.json(), Error)
            code, text = error.code, error.message
        except (ValueError, PayloadError):
            text = ""
        reasons = tuple(
            (code_, safe_detail(message, 500)) for code_, message in rules.parse_reasons(text)[:MAX_REASONS]
        )
        return ProgramRejectedError(
            "declaration rejected as technically invalid; nothing of it was taken",
            provider=self.provider,
            status=response.status_code,
            detail=safe_detail(text),
            code=code,
            error_message=safe_detail(text, 4000),
            reasons=reasons,
        )

    async def hms_profile(self, profile_id: str) -> HmsProfile:
        """``GET /hmsProfiles/{hmsProfileId}`` (§14.3): a declared program and its feasibility."""
        if not isinstance(profile_id, str) or not _PROFILE_ID.fullmatch(profile_id):
            raise BadRequestError(
                "not a program id (expected AAAAMMJJ-LIxxxx-contract-version)",
                provider=self.provider,
                detail=safe_detail(str(profile_id), 40),
            )
        return await self._get(f"/hmsProfiles/{quote(profile_id, safe='')}", HmsProfile)

    async def site_hms_profiles(self, site_id: str, gas_day: dt.date) -> list[HmsProfile]:
        """``GET /sites/{hmsSiteId}/hmsProfiles?gasDayDate=`` (§14.5): every program of a site and day."""
        return await self._get(
            f"{self._site_path(site_id)}/hmsProfiles", list[HmsProfile], params={"gasDayDate": gas_day.isoformat()}
        )

    async def rebuilt_hms_profile(self, site_id: str, gas_day: dt.date) -> RebuiltHmsProfile:
        """``GET /sites/{hmsSiteId}/rebuiltHmsProfile?gasDayDate=`` (§14.4): the rebuilt program.

        ``NotFoundError`` when the site has no rebuilt program for that day yet.
        """
        return await self._get(
            f"{self._site_path(site_id)}/rebuiltHmsProfile",
            RebuiltHmsProfile,
            params={"gasDayDate": gas_day.isoformat()},
        )
