"""Client of the EDF OA « SMART OA » API (§4 to §9).

Resources live under ``{base_url}/{api_version}`` — production
``https://services-smart-oa.edf.fr/api/v1``, recette (EDF's sandbox)
``https://services-smart-oa-rec-user.edf.fr/api/v1`` — reached with the account's
API token (``core.auth.StaticBearer``, §3.2). Every answer is the §3.3 envelope
``{data, meta, errors}``; methods return the unwrapped ``data`` as models. Error
bodies carry ``errors[].message`` (§3.4.2), which becomes the typed error's
detail, made safe for the screen (``core.http.safe_text``).

Reads are retried per ``retry`` (default: none). ``POST /acknowledgements`` and
``GET /vault/approle/token`` are sent exactly once, whatever ``retry``: the first
is an operator's decision (the outbox retries it and verifies it by reading back),
the second invalidates the token in use (RG_TOK_NEW_0010).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Iterable, Literal, TypeVar, overload

import httpx

from pupitre.providers.core.api import from_data, to_data
from pupitre.providers.core.client import ApiClient
from pupitre.providers.core.clock import paris
from pupitre.providers.core.errors import BadRequestError, ConfigError, PayloadError
from pupitre.providers.core.http import decode_json, safe_text
from pupitre.providers.core.retry import NO_RETRY, RetryPolicy, retry_read
from pupitre.providers.core.urls import check_base_url
from pupitre.providers.edf_oa.models import (
    API_NAME,
    AcknowledgementRequest,
    AcknowledgementsState,
    Contract,
    CurtailmentOrder,
    NewToken,
    TokenStatus,
    read_envelope,
)

if TYPE_CHECKING:  # the reports build on the first one asked
    from pupitre.providers.edf_oa.reports import AckReport, CurtailmentReport

PROVIDER = API_NAME
PRODUCTION_BASE_URL = "https://services-smart-oa.edf.fr/api"
RECETTE_BASE_URL = "https://services-smart-oa-rec-user.edf.fr/api"
API_VERSION = "v1"

_VERSION = re.compile(r"v\d+")
_ENVELOPE_KEYS = ("data", "meta", "errors")

T = TypeVar("T")


def join_ids(contract_ids: Iterable[str] | None) -> str | None:
    """``contract_ids`` as the comma-separated list of §4.1.3 (``None`` when empty)."""
    if contract_ids is None:
        return None
    if isinstance(contract_ids, str):
        contract_ids = [contract_ids]
    ids = [cid.strip() for cid in contract_ids]
    bad = [cid for cid in ids if not cid or "," in cid]
    if bad:
        raise BadRequestError(
            "a contract id is empty or contains a comma",
            provider=PROVIDER,
            detail=safe_text(", ".join(repr(b) for b in bad), 60),
        )
    return ",".join(dict.fromkeys(ids)) or None


def _day(value: dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = paris(value).date()
    return value.isoformat()


class EdfOaClient(ApiClient):
    """The SMART OA resources; methods named after them (§4-§9)."""

    provider = PROVIDER

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        api_version: str = API_VERSION,
        retry: RetryPolicy = NO_RETRY,
    ) -> None:
        if not _VERSION.fullmatch(api_version):
            raise ConfigError(f"EDF OA: the API version must look like v1, not {api_version!r}")
        super().__init__(http, f"{check_base_url(base_url)}/{api_version}", auth, retry=retry)
        self.api_version = api_version

    # -- plumbing ----------------------------------------------------------------------------
    def error_detail(self, response: httpx.Response) -> str:
        """The envelope's ``errors[].message`` (§3.4.2), joined and made safe."""
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            return ""
        if not isinstance(body, dict):
            return ""
        try:
            messages = read_envelope(body).error_messages()
        except PayloadError:
            messages = []
        if messages:
            return safe_text("; ".join(messages))
        return safe_text(super().error_detail(response))

    @overload
    def unwrap(self, response: httpx.Response, model: type[T], *, allow_null: Literal[False] = False) -> T: ...
    @overload
    def unwrap(self, response: httpx.Response, model: type[T], *, allow_null: bool) -> T | None: ...
    def unwrap(self, response: httpx.Response, model: type[T], *, allow_null: bool = False) -> T | None:
        """The §3.3 envelope's ``data`` validated against ``model``.

        A 2xx envelope with null ``data`` and ``errors`` is a :class:`PayloadError`
        carrying the messages. A JSON object without any envelope key is taken as
        the data itself (tolerance: the document's examples are missing).
        """
        body = decode_json(response, self.provider)
        if isinstance(body, dict) and not any(key in body for key in _ENVELOPE_KEYS):
            return from_data(body, model, provider=self.provider)
        if not isinstance(body, dict):
            raise PayloadError(
                "the API sent data of an unexpected shape",
                provider=self.provider,
                status=response.status_code,
                detail="not the {data, meta, errors} envelope",
            )
        envelope = read_envelope(body)
        if envelope.data is None:
            if envelope.errors:
                raise PayloadError(
                    "the API answered with errors and no data",
                    provider=self.provider,
                    status=response.status_code,
                    detail=safe_text("; ".join(envelope.error_messages()) or "no message"),
                )
            if allow_null:
                return None
            raise PayloadError("the API answered with no data", provider=self.provider, status=response.status_code)
        return from_data(envelope.data, model, provider=self.provider)

    async def _get(self, path: str, model: type[T], params: dict[str, str | None] | None = None) -> T:
        query = {key: value for key, value in (params or {}).items() if value is not None} or None

        async def once() -> T:
            response = await self.send("GET", path, params=query, headers={"Accept": "application/json"})
            return self.unwrap(response, model)

        return await retry_read(once, self.retry)

    # -- curtailments (§4.1) -----------------------------------------------------------------
    async def curtailments(self, contract_ids: Iterable[str] | None = None) -> CurtailmentOrder:
        """``GET /curtailments`` (§4.1): tomorrow's order (RG_COR_0010) for the account's
        contracts (RG_COR_0020), or only ``contract_ids``. Before publication (~13:00) a
        404 :class:`NotFoundError` (the document does not say; the sandbox does this)."""
        return await self._get("/curtailments", CurtailmentOrder, {"contract_ids": join_ids(contract_ids)})

    # -- acknowledgements (§5) ---------------------------------------------------------------
    async def post_acknowledgements(self, request: AcknowledgementRequest) -> None:
        """``POST /acknowledgements`` (§5.1), sent exactly once (never retried here).

        Every contract of the account's order not listed is recorded as ``false``
        (RG_ACK_0030); the order_id must be today's (RG_ACK_0010, else 409
        :class:`ConflictError`). Success is a 2xx with an empty body or an envelope
        without errors. A 2xx whose body is not JSON, or carries errors and no data,
        raises :class:`PayloadError`: the outcome is unknown, read back with
        :meth:`acknowledgements`.
        """
        response = await self.send(
            "POST", "/acknowledgements", json=to_data(request), headers={"Accept": "application/json"}
        )
        if response.content.strip():
            body = decode_json(response, self.provider)
            if isinstance(body, dict) and any(key in body for key in _ENVELOPE_KEYS):
                self.unwrap(response, Any, allow_null=True)

    async def acknowledgements(self, contract_ids: Iterable[str] | None = None) -> AcknowledgementsState:
        """``GET /acknowledgements`` (§5.2): the acknowledgements made for J+1
        (RG_ACK_5010), each contract's full list of the day."""
        return await self._get("/acknowledgements", AcknowledgementsState, {"contract_ids": join_ids(contract_ids)})

    # -- contracts (§6.1) --------------------------------------------------------------------
    async def contracts(self) -> list[Contract]:
        """``GET /contracts`` (§6.1): the account's contracts (RG_CON_0010), ACTIVE or
        EXPIRED (RG_CON_0020)."""
        return await self._get("/contracts", list[Contract])

    # -- reports (§7.1, §8.1) ----------------------------------------------------------------
    @staticmethod
    def _report_params(
        user_id: str | None, contract_ids: Iterable[str] | None, start_date: dt.date | None, end_date: dt.date | None
    ) -> dict[str, str | None]:
        start, end = _day(start_date), _day(end_date)
        if start and end and start > end:
            raise BadRequestError(
                "the report's start date is after its end date", provider=PROVIDER, detail=f"{start} > {end}"
            )
        return {
            "user_id": user_id or None,
            "contract_ids": join_ids(contract_ids),
            "start_date": start,
            "end_date": end,
        }

    async def acknowledgements_report(
        self,
        user_id: str | None = None,
        contract_ids: Iterable[str] | None = None,
        start_date: dt.date | None = None,
        end_date: dt.date | None = None,
    ) -> AckReport:
        """``GET /acknowledgements/report`` (§7.1): producers → managers → contracts →
        orders → events (RG_REP_ACK_0010); J+1 when no date is given (RG_REP_ACK_0030)."""
        from pupitre.providers.edf_oa.reports import AckReport

        return await self._get(
            "/acknowledgements/report", AckReport, self._report_params(user_id, contract_ids, start_date, end_date)
        )

    async def curtailments_report(
        self,
        user_id: str | None = None,
        contract_ids: Iterable[str] | None = None,
        start_date: dt.date | None = None,
        end_date: dt.date | None = None,
    ) -> CurtailmentReport:
        """``GET /curtailments/report`` (§8.1): producers → managers → contracts → orders
        (RG_REP_CUR_0010); J+1 when no date is given (RG_REP_CUR_0030)."""
        from pupitre.providers.edf_oa.reports import CurtailmentReport

        return await self._get(
            "/curtailments/report", CurtailmentReport, self._report_params(user_id, contract_ids, start_date, end_date)
        )

    # -- vault (§9) --------------------------------------------------------------------------
    async def token_status(self) -> TokenStatus:
        """``GET /vault/approle/token/status`` (§9.1): the token's expiry (RG_TOK_STA_0010)."""
        return await self._get("/vault/approle/token/status", TokenStatus)

    async def new_token(self) -> NewToken:
        """``GET /vault/approle/token`` (§9.2), sent exactly once: the new token
        invalidates the one in use (RG_TOK_NEW_0010). Store it before anything else."""
        response = await self.send("GET", "/vault/approle/token", headers={"Accept": "application/json"})
        try:
            return self.unwrap(response, NewToken)
        except PayloadError as exc:
            raise PayloadError(
                "the new token could not be read; the previous one may already be "
                "invalid (RG_TOK_NEW_0010): get a token from the SMART OA portal",
                provider=self.provider,
                status=exc.status,
                detail=exc.detail,
            ) from exc
