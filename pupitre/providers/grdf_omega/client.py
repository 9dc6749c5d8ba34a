"""Client of the GRDF OMEGA « Suivi demande » API (§1.3, §2.2).

One resource (§1.3, §2.2.1): ``GET {base}/demande/v1/demandes/{numero_demande}/externe
?code_cdgf=…`` with ``Authorization: Bearer <OKTA token>`` and the header
``x-user-login`` (the login of the person calling: name or professional e-mail).
Production base ``https://api.grdf.fr/fournisseur``; the token comes from GRDF's
OKTA (``client_credentials``, scope ``suivi_demande``, valid 1 h, §1.4) — use
:func:`omega_auth`, a ``core.auth.ClientCredentials`` that caches it, refreshes it
before expiry and fetches a new one once on a 401.

Quota (§1.3): one call per second per supplier, counted by GRDF's API management.
Every request that goes on the wire to the API takes a slot of the *shared*
:class:`~pupitre.providers.core.quota.QuotaLimiter` of the supplier first — the
first attempt, each retry of ``retry``, and the re-send after a 401. The slot is
taken *after* the token is attached, right before the request leaves
(``core.auth.QuotaPacedAuth``, applied by ``ApiClient``): a token fetch (hundreds
of ms at OKTA) never sits inside the window, and the 401 re-send is counted. The token
request itself goes to OKTA, not to the API management: it is not counted.

Errors: GRDF's body is ``{"code", "message"}`` (our reading; Annex A gives only the
labels); the typed error's detail is :func:`rules.message_for` of the status and the
message, made safe for the screen (``core.http.safe_text``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from pupitre.providers.core.auth import ClientCredentials
from pupitre.providers.core.client import ApiClient
from pupitre.providers.core.clock import Clock
from pupitre.providers.core.errors import BadRequestError, ConfigError
from pupitre.providers.core.http import safe_text
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import NO_RETRY, RetryPolicy
from pupitre.providers.grdf_omega import rules
from pupitre.providers.grdf_omega.models import Demande

PROVIDER = "GRDF OMEGA"
PRODUCTION_BASE_URL = "https://api.grdf.fr/fournisseur"
PRODUCTION_TOKEN_URL = "https://connexion.grdf.fr/oauth2/us5y2ta2uEHjCWIR417/v1/token"
SCOPE = "suivi_demande"
USER_LOGIN_HEADER = "x-user-login"
DEMANDE_PATH = "/demande/v1/demandes/{numero}/externe"
#: §1.3: one call per second per supplier.
CALLS_PER_SECOND = 1.0

_CDGF_MAX = 40
_LOGIN_MAX = 200


def omega_auth(
    http: httpx.AsyncClient,
    client_id: str,
    client_secret: str,
    clock: Clock,
    *,
    token_url: str = PRODUCTION_TOKEN_URL,
    scope: str = SCOPE,
    refresh_margin: float = 60,
) -> ClientCredentials:
    """The OKTA ``client_credentials`` strategy with scope ``suivi_demande`` (§1.4, Annex B)."""
    return ClientCredentials(
        http, token_url, client_id, client_secret, scope, clock, provider=PROVIDER, refresh_margin=refresh_margin
    )


def _header_value(value: str, what: str, size: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ConfigError(f"{PROVIDER}: the {what} is empty; set it in the settings")
    if len(text) > size or not text.isascii() or not text.isprintable():
        raise ConfigError(
            f"{PROVIDER}: the {what} must be plain ASCII text on one line (at most "
            f"{size} characters): use the professional e-mail address or a name "
            "without accents"
        )
    return text


class OmegaClient(ApiClient):
    """The « Suivi demande » resource of one supplier (CDG-F) and one user (§2.2.1)."""

    provider = PROVIDER

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        code_cdgf: str,
        user_login: str,
        quota: QuotaLimiter | None,
        retry: RetryPolicy = NO_RETRY,
    ) -> None:
        super().__init__(http, base_url, auth, quota=quota, retry=retry)
        cdgf = (code_cdgf or "").strip()
        if not cdgf:
            raise ConfigError(f"{PROVIDER}: the supplier code (code_cdgf) is empty; set it in the settings")
        if len(cdgf) > _CDGF_MAX or not cdgf.isascii() or not cdgf.isalnum():
            raise ConfigError(f"{PROVIDER}: the supplier code (code_cdgf) must be letters and digits, like A04000010")
        self.code_cdgf = cdgf
        self.user_login = _header_value(user_login, "user login (x-user-login)", _LOGIN_MAX)

    def error_detail(self, response: httpx.Response) -> str:
        """GRDF's ``message`` (Annex A label) turned into an operator sentence
        (:func:`rules.message_for`), made safe."""
        return safe_text(rules.message_for(response.status_code, super().error_detail(response)))

    async def demande(self, numero_demande: str) -> Demande:
        """``GET /demande/v1/demandes/{numero_demande}/externe?code_cdgf=…`` (§2.2.1):
        the request's root and blocks (§2.2.2).

        The number is checked first (:func:`rules.validate_numero`): a malformed one is a
        :class:`BadRequestError` without any call. 404 = unknown for this CDG-F, 403 =
        not this supplier's or this user's, 429 = quota (retried per ``retry``).
        """
        try:
            numero = rules.validate_numero(numero_demande)
        except rules.NumeroError as exc:
            raise BadRequestError(str(exc), provider=self.provider) from exc
        path = DEMANDE_PATH.format(numero=quote(numero, safe=""))
        headers: dict[str, Any] = {"Accept": "application/json", USER_LOGIN_HEADER: self.user_login}
        return await self.get_json(path, Demande, params={"code_cdgf": self.code_cdgf}, headers=headers)
