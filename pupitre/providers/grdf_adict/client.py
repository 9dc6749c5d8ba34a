"""Client of GRDF ADICT v2 (``https://api.grdf.fr/adict/v2``, Swagger 1.6).

OAuth2 ``client_credentials`` (token valid 4 h, cached by ``core.auth``). Quota: the
shared per-credential limiter (per second and per day, document's table by park
size, :func:`rules.quota_for_park`), taken when a request goes on the wire
(:class:`~pupitre.providers.core.auth.QuotaPacedAuth`, applied by ``ApiClient``), retries and the 401
re-send included. Declaring, revoking and sending proofs are never retried here (the
outbox does it, :mod:`actions`). NDJSON answers are parsed as they arrive
(:class:`rules.NdjsonStream`); a ``statut_restitution`` error inside an HTTP 200 raises
its typed error (``1…`` :class:`rules.FunctionalError`, ``2…`` retryable ``ServerError``).

Resources: ``access_rights()`` / ``search_access_rights(filters)`` (models) and
``access_right_rows(filters=None)`` (light rows for 100 000-right tables), ``access_right(pce, id)``,
``declare_access_right``, ``revoke_access_right``, ``send_proofs``, ``readings(kind, pce, …)``
and its three shorthands, ``contractual_data(pce, filtre=())``, ``technical_data(pce)``;
``bulk_check(calls)`` and ``bulk(pces, read)`` refuse, before the first call, a bulk operation
that would exceed what is left of today's quota.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence, TypeVar
from urllib.parse import quote

import httpx

from pupitre.providers.core.auth import ClientCredentials
from pupitre.providers.core.client import ApiClient
from pupitre.providers.core.clock import Clock
from pupitre.providers.core.errors import (
    ApiError,
    BadRequestError,
    PayloadError,
    QuotaError,
    error_for_exception,
    error_for_response,
)
from pupitre.providers.core.http import decode_json, safe_text
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import DEFAULT_RETRY, RetryPolicy, retry_read
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.models import (
    AccessRight,
    ContractualData,
    DeclareBody,
    DeclareResult,
    Reading,
    RightRow,
    StatusLine,
    TechnicalData,
    read,
)

T = TypeVar("T")
PROVIDER = rules.PROVIDER
PRODUCTION_BASE_URL = "https://api.grdf.fr/adict/v2"
PRODUCTION_TOKEN_URL = "https://sofit-sso-oidc.grdf.fr/openam/oauth2/realms/externeGrdf/access_token"
SCOPE = "/adict/v2"
TOKEN_LIFETIME_HOURS = 4
NDJSON = "application/x-ndjson"
DATA_KINDS = ("donnees_consos_publiees", "donnees_consos_informatives", "donnees_injections_publiees")


def adict_auth(
    http: httpx.AsyncClient,
    client_id: str,
    client_secret: str,
    clock: Clock,
    *,
    token_url: str = PRODUCTION_TOKEN_URL,
    scope: str | None = SCOPE,
    refresh_margin: float = 60,
) -> ClientCredentials:
    return ClientCredentials(
        http, token_url, client_id, client_secret, scope, clock, provider=PROVIDER, refresh_margin=refresh_margin
    )


def _created(right: AccessRight) -> dt.datetime:
    return right.date_creation or dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def _pce_path(id_pce: str) -> str:
    try:
        return quote(rules.validate_pce(id_pce), safe="")
    except rules.RuleError as exc:
        raise BadRequestError(str(exc), provider=PROVIDER) from None


class AdictClient(ApiClient):
    provider = PROVIDER

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        quota: QuotaLimiter | None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        super().__init__(http, base_url, auth, quota=quota, retry=retry)

    def error_detail(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        if isinstance(body, dict):
            message = body.get("message_retour_traitement")
            status = body.get("statut_restitution")
            if not message and isinstance(status, dict):
                message = status.get("message")
            if isinstance(message, str):
                return safe_text(message)
        return safe_text(super().error_detail(response))

    # -- streaming ----------------------------------------------------------------------------
    async def stream(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> AsyncIterator[Any]:
        """Raw objects of an NDJSON answer as they arrive; data records with a
        ``statut_restitution`` raise their typed error."""
        async for batch in self.stream_batches(method, path, params=params, json=json):
            for item in batch:
                yield item

    async def stream_batches(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        record: type[Any] | None = None,
    ) -> AsyncGenerator[list[Any], None]:
        """:meth:`stream`, a list of objects per chunk received (for 100,000-right parks);
        the objects before a ``statut_restitution`` error are yielded before it is raised.
        With ``record``, the objects are records of that type where they can be
        (:class:`rules.NdjsonDecoder`), dicts elsewhere."""
        try:
            async with self.http.stream(
                method, self.base_url + path, params=params, json=json, headers={"Accept": NDJSON}, auth=self.auth
            ) as response:
                if response.is_error:
                    await response.aread()
                    raise error_for_response(response, self.provider, detail=self.error_detail(response))
                decoder = rules.NdjsonDecoder(record)
                async for batch in rules.NdjsonStream(response.aiter_bytes(), decoder).batches():
                    for i, item in enumerate(batch if record is None or type(batch[0]) is not record else ()):
                        if isinstance(item, dict) and "statut_restitution" in item:
                            try:
                                rules.check_restitution(item)
                            except ApiError:
                                if i:
                                    yield batch[:i]
                                raise
                    yield batch
        except ApiError:
            raise
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, self.provider) from exc

    async def _rights(self, method: str, json: Any = None) -> AsyncIterator[AccessRight]:
        async for item in self.stream(method, "/droits_acces", json=json):
            yield read(item, AccessRight)

    async def access_right_rows(
        self, filters: Mapping[str, Sequence[str] | str] | None = None
    ) -> AsyncIterator[RightRow]:
        """The park as light :class:`RightRow` s, yielded as they arrive: ``GET /droits_acces``,
        or ``POST`` with ``filters``. For tables of 100 000 rights (faster to build and ~10×
        lighter than :class:`AccessRight`). A bad row raises :class:`PayloadError`."""
        if filters:
            try:
                body: Any = rules.search_body(filters)
            except rules.RuleError as exc:
                raise BadRequestError(str(exc), provider=PROVIDER) from None
            items = self.stream("POST", "/droits_acces", json=body)
        else:
            items = self.stream("GET", "/droits_acces")
        async for item in items:
            try:
                yield RightRow.from_api(item)
            except ValueError as exc:
                raise PayloadError(f"an access right could not be read ({exc})", provider=PROVIDER) from None

    def access_rights(self) -> AsyncIterator[AccessRight]:
        """``GET /droits_acces``: every right of the park, yielded as it arrives (not retried)."""
        return self._rights("GET")

    def search_access_rights(self, filters: Mapping[str, Sequence[str] | str]) -> AsyncIterator[AccessRight]:
        """``POST /droits_acces`` with ``role_tiers`` / ``id_pce`` / ``etat_droit_acces`` /
        ``statut_controle_preuve`` lists (empty lists dropped, see :func:`rules.search_body`);
        a bad filter raises :class:`BadRequestError` before anything is sent."""
        try:
            body = rules.search_body(filters)
        except rules.RuleError as exc:
            raise BadRequestError(str(exc), provider=PROVIDER) from None
        return self._rights("POST", body)

    async def access_right(self, id_pce: str, id_droit_acces: str | None = None) -> AccessRight | None:
        """The right of ``id_pce`` (``POST /droits_acces`` filtered on the PCE): the one with
        ``id_droit_acces`` when given, else the most recently created; ``None`` if none."""
        found = [r async for r in self.search_access_rights({"id_pce": [id_pce]})]
        if id_droit_acces is not None:
            return next((r for r in found if r.id_droit_acces == id_droit_acces), None)
        return max(found, key=_created, default=None)

    # -- actions (never retried) --------------------------------------------------------------
    async def declare_access_right(self, id_pce: str, body: DeclareBody) -> DeclareResult:
        """``PUT /pce/{id_pce}/droit_acces``: the new right (state ``A valider`` …)."""
        response = await self.send(
            "PUT", f"/pce/{_pce_path(id_pce)}/droit_acces", json=body.to_api(), headers={"Accept": "application/json"}
        )
        result = read(decode_json(response, self.provider), DeclareResult)
        if result.code_statut_traitement and not result.code_statut_traitement.startswith("0"):
            raise rules.functional_error(
                result.code_statut_traitement, result.message_retour_traitement, response.status_code
            )
        return result

    async def revoke_access_right(self, id_droit_acces: str) -> StatusLine:
        """``PATCH /droit_acces/{id}``."""
        return await self._status("PATCH", f"/droit_acces/{quote(id_droit_acces, safe='')}")

    async def send_proofs(self, id_droit_acces: str, files: Sequence[tuple[str, bytes, str]]) -> StatusLine:
        """``PUT /droit_acces/{id}/preuves`` multipart, field ``preuves`` per file
        ``(name, content, mime type)``. Sizes, count and types are checked first."""
        problems = rules.proof_file_problems([(n, len(c)) for n, c, _ in files])
        if problems:
            raise BadRequestError(" ".join(problems), provider=self.provider)
        parts = [("preuves", (name, content, mime)) for name, content, mime in files]
        path = f"/droit_acces/{quote(id_droit_acces, safe='')}/preuves"
        try:
            response = await self.http.request(
                "PUT", self.base_url + path, files=parts, headers={"Accept": "application/json"}, auth=self.auth
            )
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, self.provider) from exc
        return self._status_of(response)

    async def _status(self, method: str, path: str) -> StatusLine:
        try:
            response = await self.http.request(
                method, self.base_url + path, headers={"Accept": "application/json"}, auth=self.auth
            )
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, self.provider) from exc
        return self._status_of(response)

    def _status_of(self, response: httpx.Response) -> StatusLine:
        if response.is_error:
            error = error_for_response(response, self.provider, detail=self.error_detail(response))
            raise error
        status = read(decode_json(response, self.provider), StatusLine)
        if not status.ok:
            raise rules.functional_error(
                status.code_statut_traitement, status.message_retour_traitement, response.status_code
            )
        return status

    # -- data reads (retried) -----------------------------------------------------------------
    async def _collect(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every object of a data stream. An error after some records keeps them on the
        error as ``error.partial`` (raw objects), so a caller can show what arrived."""

        async def once() -> list[Any]:
            items: list[Any] = []
            try:
                async for item in self.stream("GET", path, params=params):
                    items.append(item)
            except ApiError as error:
                error.partial = items
                raise
            return items

        return await retry_read(once, self.retry)

    async def readings(
        self,
        kind: str,
        id_pce: str,
        *,
        today: dt.date,
        periode: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> list[Reading]:
        """``GET /pce/{id_pce}/{kind}`` for ``periode`` or ``start``..``end`` (limits checked first)."""
        if kind not in DATA_KINDS:
            raise ValueError(f"unknown data kind {kind!r}")
        try:
            params = rules.period_params(
                periode=periode, start=start, end=end, today=today, informative=kind == "donnees_consos_informatives"
            )
        except rules.RuleError as exc:
            raise BadRequestError(str(exc), provider=self.provider) from None
        items = await self._collect(f"/pce/{_pce_path(id_pce)}/{kind}", params)
        return read(items, list[Reading])

    async def published_consumption(self, id_pce: str, **period: Any) -> list[Reading]:
        return await self.readings("donnees_consos_publiees", id_pce, **period)

    async def informative_consumption(self, id_pce: str, **period: Any) -> list[Reading]:
        return await self.readings("donnees_consos_informatives", id_pce, **period)

    async def published_injections(self, id_pce: str, **period: Any) -> list[Reading]:
        return await self.readings("donnees_injections_publiees", id_pce, **period)

    async def _one(self, path: str, model: type[T], params: Mapping[str, Any] | None = None) -> T:
        items = await self._collect(path, params)
        if not items:
            raise rules.FunctionalError("GRDF sent no data for this PCE")
        return read(items[0], model)

    async def contractual_data(self, id_pce: str, filtre: Sequence[str] = ()) -> ContractualData:
        """``GET /pce/{id_pce}/donnees_contractuelles``; ``filtre`` adds GRDF's cumulative
        filters (``filtre=cja&filtre=car``, Swagger 1.6), checked first."""
        unknown = [f for f in filtre if f not in rules.CONTRACT_FILTERS]
        if unknown:
            raise BadRequestError(
                f"unknown contractual-data filter(s): {', '.join(unknown)}; use " + ", ".join(rules.CONTRACT_FILTERS),
                provider=PROVIDER,
            )
        params = {"filtre": list(filtre)} if filtre else None
        return await self._one(f"/pce/{_pce_path(id_pce)}/donnees_contractuelles", ContractualData, params)

    async def technical_data(self, id_pce: str) -> TechnicalData:
        return await self._one(f"/pce/{_pce_path(id_pce)}/donnees_techniques", TechnicalData)

    # -- bulk operations (quota checked before starting) ---------------------------------------
    def bulk_check(self, calls: int, *, reserve: int = 0) -> rules.BulkCheck:
        """Whether ``calls`` more calls fit in what is left of today's quota (the shared
        limiter's day counter, which survives restarts), keeping ``reserve`` calls."""
        limiter = self.limiter
        return rules.bulk_fits_today(
            calls,
            remaining_today=limiter.remaining_today() if limiter else None,
            per_second=limiter.per_second if limiter else None,
            reserve=reserve,
        )

    async def bulk(
        self, pces: Sequence[str], read: Callable[[str], Awaitable[T]], *, calls_per_pce: int = 1, reserve: int = 0
    ) -> AsyncGenerator[tuple[str, T | ApiError], None]:
        """``read(pce)`` for each PCE, yielding ``(pce, result or error)``; a PCE's refusal
        does not stop the others. Before the first call, the whole operation is checked
        against today's remaining quota: if it does not fit, :class:`QuotaError` says so and
        nothing is sent. A quota refusal on the way stops it (the rest would fail too)."""
        check = self.bulk_check(len(pces) * calls_per_pce, reserve=reserve)
        if not check.fits:
            raise QuotaError(check.message, provider=PROVIDER)
        for pce in pces:
            try:
                yield pce, await read(pce)
            except QuotaError:
                raise
            except ApiError as error:
                yield pce, error
