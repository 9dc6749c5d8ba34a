"""Client of the Switchgrid Enedis API v2 (document and OpenAPI file of 2024-11-13).

Base ``https://app.switchgrid.tech/enedis/v2``; ``Authorization: Bearer <token>``
(:class:`~pupitre.providers.core.auth.StaticBearer`, see :func:`switchgrid_auth`).
With ``test_env=True`` every call carries ``switchgrid-test-env: true`` (the
document puts it on ``POST /ask``; the asks and the orders made from them are not
billed and return dummy data; sending it on the reads too is harmless and lets the
simulator refuse a production profile pointed at it).

Reads (GET) are retried per ``retry``; ``POST /ask``, ``POST /order`` and
``DELETE /ask/{id}`` are sent once, never retried here (a repeat would create a
second ask or order). Arguments are checked by :mod:`rules` before any call: a
refusal is a :class:`BadRequestError` with an operator sentence and nothing is sent.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Literal, TypeVar
from urllib.parse import quote

import httpx

from pupitre.providers.core.api import from_data
from pupitre.providers.core.auth import StaticBearer
from pupitre.providers.core.client import ApiClient
from pupitre.providers.core.errors import BadRequestError, PayloadError
from pupitre.providers.core.http import decode_json, safe_text
from pupitre.providers.core.retry import DEFAULT_RETRY, RetryPolicy, retry_read
from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.models import PROVIDER, Ask, AskPage, Contract, ContractSearch, Order

if TYPE_CHECKING:  # the request bodies load with the first ask sent
    from pupitre.providers.switchgrid.bodies import AskCreate, OrderCreate

PRODUCTION_BASE_URL = "https://app.switchgrid.tech/enedis/v2"
TEST_ENV_HEADER = "switchgrid-test-env"
MAX_PAGE = 100  # GET /ask: limit ≤ 100 (spec)

T = TypeVar("T")


def switchgrid_auth(token: str) -> StaticBearer:
    """``Authorization: Bearer <token>`` (the API token from app.switchgrid.tech)."""
    return StaticBearer(token)


class SwitchgridClient(ApiClient):
    provider = PROVIDER

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        test_env: bool = False,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        super().__init__(http, base_url, auth, retry=retry)
        self.test_env = test_env

    # -- plumbing ------------------------------------------------------------------------------
    def headers(self, accept: str = "application/json") -> dict[str, str]:
        headers = {"Accept": accept}
        if self.test_env:
            headers[TEST_ENV_HEADER] = "true"
        return headers

    def error_detail(self, response: httpx.Response) -> str:
        """Switchgrid's ``message`` (or ``error``), made safe for the screen."""
        detail = super().error_detail(response)
        if not detail:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                detail = body["error"]
        return safe_text(detail)

    def _checked(self, check: Callable[[], T]) -> T:
        try:
            return check()
        except rules.RuleError as exc:
            raise BadRequestError(str(exc), provider=self.provider) from exc

    async def _get(self, path: str, model: type[T], params: dict[str, Any] | None = None) -> T:
        return await self.get_json(path, model, params=params, headers=self.headers())

    async def _write(self, method: str, path: str, model: type[T], body: Any = None) -> T:
        response = await self.send(method, path, json=body, headers=self.headers())
        return from_data(decode_json(response, self.provider), model, provider=self.provider)

    # -- contracts -----------------------------------------------------------------------------
    async def search_contract(self, name: str, address: str | None = None, prm: str | None = None) -> list[Contract]:
        """``GET /search_contract?name=…&address=…|prm=…`` (name ≥ 3 characters)."""
        params = self._checked(lambda: rules.validate_search(name, address, prm))
        return (await self._get("/search_contract", ContractSearch, params)).results

    # -- asks ----------------------------------------------------------------------------------
    async def post_ask(self, body: AskCreate | dict[str, Any]) -> Ask:
        """``POST /ask`` — sent once. Returns the ask with its consent ``userUrl``."""
        from pupitre.providers.switchgrid.bodies import AskCreate

        if isinstance(body, AskCreate):
            ask = body
        else:
            try:
                ask = from_data(body, AskCreate, provider=self.provider)
            except PayloadError as exc:
                raise BadRequestError("the ask is incomplete", provider=self.provider, detail=exc.detail) from exc
        self._checked(lambda: rules.consent_duration(ask.consentDuration))
        for contract in ask.electricityContracts:
            if isinstance(contract, str):
                self._checked(partial(rules.validate_uuid, contract, "contract id"))
            else:
                self._checked(partial(rules.validate_prm, contract.prm))
        return await self._write("POST", "/ask", Ask, ask.body())

    async def list_asks(
        self,
        *,
        status: Iterable[str] | str | None = None,
        prm: Iterable[str] | str | None = None,
        exclude_status: bool = False,
        exclude_prm: bool = False,
        skip: int = 0,
        limit: int = 10,
        order_by: str | None = None,
    ) -> AskPage:
        """``GET /ask`` — one page; ``status``/``prm`` filters (any of, or none of with
        ``exclude_*``), ``skip``/``limit`` (≤ 100), ``orderBy`` (``createdAt:asc``)."""
        if skip < 0 or not 1 <= limit <= MAX_PAGE:
            raise BadRequestError(f"paging: skip ≥ 0 and 1 ≤ limit ≤ {MAX_PAGE}", provider=self.provider)
        params: dict[str, Any] = {"skip": skip, "limit": limit}
        if prm is not None:
            prms = [prm] if isinstance(prm, str) else list(prm)
            self._checked(lambda: [rules.validate_prm(p) for p in prms])
        for key, value in (
            ("status", rules.build_filter(status, exclude=exclude_status)),
            ("prm", rules.build_filter(prm, exclude=exclude_prm)),
            ("orderBy", order_by),
        ):
            if value:
                params[key] = value
        return await self._get("/ask", AskPage, params)

    async def all_asks(self, *, page_size: int = MAX_PAGE, **filters: Any) -> list[Ask]:
        """Every ask matching ``filters``, page after page."""
        items: list[Ask] = []
        skip = 0
        while True:
            page = await self.list_asks(skip=skip, limit=page_size, **filters)
            items.extend(page.items)
            skip += page.returnedItemsCount
            if not page.items or not page.has_more:
                return items

    async def get_ask(self, ask_id: str) -> Ask:
        ask_id = self._checked(lambda: rules.validate_uuid(ask_id, "ask id"))
        return await self._get(f"/ask/{quote(ask_id)}", Ask)

    async def delete_ask(self, ask_id: str) -> None:
        """``DELETE /ask/{id}`` — sent once; revokes every consent of the ask."""
        ask_id = self._checked(lambda: rules.validate_uuid(ask_id, "ask id"))
        await self.send("DELETE", f"/ask/{quote(ask_id)}", headers=self.headers())

    # -- orders --------------------------------------------------------------------------------
    async def post_order(self, body: OrderCreate | dict[str, Any]) -> Order:
        """``POST /order`` — validated against the document's table, sent once."""
        data = self._checked(lambda: rules.validate_order(body))
        return await self._write("POST", "/order", Order, data)

    async def get_order(self, order_id: str) -> Order:
        order_id = self._checked(lambda: rules.validate_uuid(order_id, "order id"))
        return await self._get(f"/order/{quote(order_id)}", Order)

    async def wait_order(
        self,
        order_id: str,
        *,
        delays: Iterable[float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_polls: int = 200,
        on_update: Callable[[Order], None] | None = None,
    ) -> Order:
        """Poll ``GET /order/{id}`` with backoff (:func:`rules.poll_delays`) until the
        order is terminal (SUCCESS, SOME_REQUESTS_FAILED…); the last order otherwise."""
        schedule = iter(delays if delays is not None else rules.poll_delays())
        order = await self.get_order(order_id)
        polls = 1
        while not rules.order_done(order.status) and polls < max_polls:
            if on_update is not None:
                on_update(order)
            await sleep(next(schedule, 60.0))
            order = await self.get_order(order_id)
            polls += 1
        if on_update is not None:
            on_update(order)
        return order

    # -- data ----------------------------------------------------------------------------------
    async def request_data(
        self, request_id: str, format: Literal["csv", "json"] = "csv", period: str | None = None
    ) -> rules.LoadCurve:
        """``GET /request/{id}/data?format=csv|json`` of a LOADCURVE request, parsed into
        UTC "starting step" points (gaps as None). 404 = unknown or not ready yet."""
        request_id = self._checked(lambda: rules.validate_uuid(request_id, "request id"))
        if format not in ("csv", "json"):
            raise BadRequestError("format is csv or json", provider=self.provider)
        params: dict[str, Any] = {"format": format}
        if period:
            params["period"] = period
        path = f"/request/{quote(request_id)}/data"

        async def once() -> rules.LoadCurve:
            response = await self.send(
                "GET", path, params=params, headers=self.headers("text/csv" if format == "csv" else "application/json")
            )
            try:  # parsed in a thread: two years of points take a few hundred ms
                if format == "json":
                    data = decode_json(response, self.provider)
                    return await asyncio.to_thread(rules.parse_json_curve, data)
                return await asyncio.to_thread(rules.parse_csv_curve, response.text)
            except rules.RuleError as exc:
                raise PayloadError(
                    "the load curve is not in the documented form", provider=self.provider, detail=str(exc)
                ) from exc

        return await retry_read(once, self.retry)

    async def request_raw(self, request_id: str) -> Any:
        """``GET /request/{id}/data`` of an R6x/C68 request: the raw Enedis JSON."""
        request_id = self._checked(lambda: rules.validate_uuid(request_id, "request id"))
        return await self.get_json(f"/request/{quote(request_id)}/data", Any, headers=self.headers())
