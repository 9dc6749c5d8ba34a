"""GRDF ADICT operator actions through the outbox: declare a right, revoke a right, send proofs.

Each action is built from operator input by a ``*_form`` function (a selected right may be
an :class:`AccessRight` or a :class:`RightRow`), which checks it
locally (the rules of :mod:`rules`, i.e. GRDF's own refusals known in advance) and
returns either a JSON-storable payload or error messages by form field. The outbox
(:mod:`pupitre.providers.core.outbox`) then writes the payload before sending,
re-checks it before every attempt, sends it once per attempt, and verifies it by a
read back (``POST /droits_acces`` filtered on the PCE):

- ``declare``  — ``PUT /pce/{id_pce}/droit_acces``; read back: the right exists, its state
  (``A valider`` for a Tiers Direct declaration) is reported;
- ``revoke``   — ``PATCH /droit_acces/{id}``; read back: the state is ``Révoquée``;
- ``send_proofs`` — ``PUT /droit_acces/{id}/preuves`` (≤ 3 files of ≤ 4 MB, txt csv pdf pptx
  docx mp3 mp4 zip), only while the proof status is ``Preuve en attente`` or ``Preuve à
  vérifier``, checked against GRDF just before sending; read back: ``Preuve à vérifier``.

Files are stored in the payload as path, size and SHA-256 and re-read at send time: a
file changed or gone since the action was queued refuses the action (nothing sent).

A retried declaration or revocation whose first attempt did reach GRDF (the answer
was lost) gets a 409; the handler then reads the right back and reports the action as
done when GRDF shows exactly what was asked, instead of a false failure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import msgspec

from pupitre.providers.core.errors import ConflictError
from pupitre.providers.core.outbox import ActionHandler, ActionRefused
from pupitre.providers.grdf_adict import rights as m
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.rights import RightRow, parse_bool

if TYPE_CHECKING:  # the client (and httpx) load with the first action, the API models with its payload
    from pupitre.providers.grdf_adict.client import AdictClient
    from pupitre.providers.grdf_adict.models import AccessRight

#: The provider key of these actions in the outbox (the ``runtime.PROVIDERS`` name).
PROVIDER_KEY = "grdf_adict"
DECLARE = "declare"
REVOKE = "revoke"
SEND_PROOFS = "send_proofs"
#: How long before its queueing a right found on read-back may have been created and
#: still count as the one this declaration made (GRDF's clock is not ours).
_CREATED_MARGIN = dt.timedelta(minutes=10)

ClientFactory = Callable[[], "AdictClient"]


class ActionForm(msgspec.Struct, frozen=True):
    """What a ``*_form`` builder returns: a payload ready for ``Outbox.enqueue`` (``ok``),
    or the problems, by form field, to show next to the fields."""

    payload: dict[str, Any] | None
    errors: dict[str, list[str]] = msgspec.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.payload is not None and not self.errors

    @property
    def messages(self) -> list[str]:
        return [text for texts in self.errors.values() for text in texts]


def _refused(form_errors: dict[str, list[str]]) -> ActionForm:
    return ActionForm(None, form_errors)


def _now_iso(now: dt.datetime) -> str:
    return now.isoformat()


def _unreadable(error: Exception) -> ActionRefused:
    """A stored payload that no longer reads (edited store, older version): refused, never sent."""
    return ActionRefused(f"not sent: the queued action cannot be read ({type(error).__name__}: {error})")


# -- declare ------------------------------------------------------------------------------------


def _form_fields(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Operator input → rule fields: text stripped, flags read as booleans (``True``,
    ``"Vrai"``, ``"oui"``, …), unknown keys refused."""
    fields: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in form.items():
        if key not in rules.DECLARATION_FIELDS:
            errors.setdefault(key, []).append(f"Unknown field « {key} ».")
            continue
        if key in rules.PERIMETER_FLAGS:
            try:
                value = parse_bool(value)
            except ValueError:
                errors.setdefault(key, []).append("Answer yes or no.")
                continue
            fields[key] = bool(value)
        elif isinstance(value, str):
            fields[key] = value.strip()
        else:
            fields[key] = value
    return fields, errors


def declaration_form(form: Mapping[str, Any], now: dt.datetime) -> ActionForm:
    """Build the ``declare`` payload from the form (keys: :data:`rules.DECLARATION_FIELDS`,
    ``id_pce`` included), or the problems by field."""
    fields, errors = _form_fields({"id_pce": "", **form})
    for key, texts in rules.declaration_field_problems(fields, now.date()).items():
        errors.setdefault(key, []).extend(texts)
    if errors:
        return _refused(errors)
    pce = rules.validate_pce(fields.pop("id_pce"))
    body = rules.build_declaration(fields, now.date())
    return ActionForm({"id_pce": pce, "body": body.to_api(), "queued_at": _now_iso(now)})


def _body_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: (parse_bool(value) if key in rules.PERIMETER_FLAGS else value) for key, value in body.items()}


def _holder_of(body: Mapping[str, Any]) -> str:
    return str(body.get("nom_titulaire") or body.get("raison_sociale") or "")


def _same(a: Any, b: Any) -> bool:
    return str(a or "").strip().casefold() == str(b or "").strip().casefold()


class DeclareHandler:
    """``PUT /pce/{id_pce}/droit_acces``; a newer declaration of the same PCE supersedes a
    pending one."""

    def __init__(self, client_factory: ClientFactory) -> None:
        self.client_factory = client_factory

    def key(self, payload: Mapping[str, Any]) -> str:
        return str(payload["id_pce"])

    def check(self, payload: Mapping[str, Any], now: dt.datetime) -> None:
        try:
            fields = {"id_pce": payload.get("id_pce", ""), **_body_fields(payload["body"])}
            dt.datetime.fromisoformat(payload["queued_at"])
            problems = rules.declaration_problems(fields, now.date())
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise _unreadable(error) from None
        if problems:
            raise ActionRefused("not sent: " + " ".join(problems))

    def describe(self, payload: Mapping[str, Any]) -> str:
        body = payload["body"]
        return f"declare a right on PCE {payload['id_pce']} for {_holder_of(body)} ({body.get('role_tiers')})"

    def _matches(self, right: AccessRight, payload: Mapping[str, Any]) -> bool:
        body = payload["body"]
        queued = dt.datetime.fromisoformat(payload["queued_at"])
        created_ok = right.date_creation is None or right.date_creation >= queued - _CREATED_MARGIN
        return (
            right.id_pce == payload["id_pce"]
            and right.role_tiers == body.get("role_tiers")
            and _same(right.holder, _holder_of(body))
            and _same(right.courriel_titulaire, body.get("courriel_titulaire"))
            and right.etat_droit_acces in (m.TO_VALIDATE, m.ACTIVE)
            and created_ok
        )

    async def _find(self, payload: Mapping[str, Any]) -> AccessRight | None:
        client = self.client_factory()
        rights = [r async for r in client.search_access_rights({"id_pce": [payload["id_pce"]]})]
        mine = [r for r in rights if self._matches(r, payload)]
        return max(mine, key=lambda r: r.date_creation or dt.datetime.min.replace(tzinfo=dt.timezone.utc), default=None)

    async def find(self, payload: Mapping[str, Any], since: dt.datetime) -> str | None:
        """The right this declaration made: same PCE, role, holder and e-mail, created since it
        was queued (GRDF's clock within :data:`_CREATED_MARGIN`)."""
        found = await self._find(payload)
        if found is None:
            return None
        return (
            f"already declared (an earlier attempt reached GRDF): right {found.id_droit_acces} "
            f"is « {found.etat_droit_acces} »"
        )

    async def send(self, payload: Mapping[str, Any]) -> str:
        from pupitre.providers.grdf_adict.models import DeclareBody, read

        client = self.client_factory()
        try:
            result = await client.declare_access_right(payload["id_pce"], read(payload["body"], DeclareBody))
        except ConflictError:
            found = await self._find(payload)
            if found is None:
                raise
            return (
                f"already declared (an earlier attempt reached GRDF): right {found.id_droit_acces} "
                f"is « {found.etat_droit_acces} »"
            )
        message = result.message_retour_traitement or "accepted"
        return f"GRDF: {message} — right {result.id_droit_acces} is « {result.etat_droit_acces} »"

    async def verify(self, payload: Mapping[str, Any]) -> str:
        found = await self._find(payload)
        if found is None:
            raise ActionRefused(f"GRDF lists no right on PCE {payload['id_pce']} for {_holder_of(payload['body'])}")
        return (
            f"read back: right {found.id_droit_acces} on PCE {found.id_pce} for {found.holder} "
            f"is « {found.etat_droit_acces} »"
        )


# -- revoke -------------------------------------------------------------------------------------


def revocation_confirmation(right: AccessRight | RightRow) -> str:
    """The confirmation question; it names the PCE and the holder (issue #6)."""
    return (
        f"Revoke the access right on PCE {right.id_pce} held for {right.holder or 'an unnamed holder'} "
        f"({right.role_tiers}, « {right.etat_droit_acces} »)? GRDF stops giving its data at once."
    )


def revocation_form(right: AccessRight | RightRow, now: dt.datetime) -> ActionForm:
    """Build the ``revoke`` payload for a right the operator selected, or the reason it
    cannot be revoked (key ``right``)."""
    problem = rules.revocation_problem(right.etat_droit_acces, right.role_tiers)
    if problem:
        return _refused({"right": [problem]})
    return ActionForm(
        {
            "id_droit_acces": right.id_droit_acces,
            "id_pce": right.id_pce,
            "holder": right.holder,
            "role_tiers": right.role_tiers,
            "state": right.etat_droit_acces,
            "queued_at": _now_iso(now),
        }
    )


class RevokeHandler:
    """``PATCH /droit_acces/{id}``, verified by reading the state back (``Révoquée``)."""

    def __init__(self, client_factory: ClientFactory) -> None:
        self.client_factory = client_factory

    def key(self, payload: Mapping[str, Any]) -> str:
        return str(payload["id_droit_acces"])

    def check(self, payload: Mapping[str, Any], now: dt.datetime) -> None:
        if not (
            isinstance(payload, Mapping)
            and isinstance(payload.get("id_droit_acces"), str)
            and isinstance(payload.get("id_pce"), str)
        ):
            raise _unreadable(KeyError("id_droit_acces / id_pce"))
        problem = rules.revocation_problem(payload.get("state"), payload.get("role_tiers"))
        if problem:
            raise ActionRefused("not sent: " + problem)

    def describe(self, payload: Mapping[str, Any]) -> str:
        return f"revoke right {payload['id_droit_acces']} on PCE {payload['id_pce']} ({payload.get('holder') or '?'})"

    async def _read(self, payload: Mapping[str, Any]) -> AccessRight | None:
        return await self.client_factory().access_right(payload["id_pce"], payload["id_droit_acces"])

    async def find(self, payload: Mapping[str, Any], since: dt.datetime) -> str | None:
        """The right's id is the identity: already ``Révoquée`` means an earlier attempt got through."""
        right = await self._read(payload)
        if right is not None and right.etat_droit_acces == m.REVOKED:
            return "already revoked (an earlier attempt reached GRDF)"
        return None

    async def send(self, payload: Mapping[str, Any]) -> str:
        client = self.client_factory()
        try:
            status = await client.revoke_access_right(payload["id_droit_acces"])
        except ConflictError:
            right = await self._read(payload)
            if right is not None and right.etat_droit_acces == m.REVOKED:
                return "already revoked (an earlier attempt reached GRDF)"
            raise
        return f"GRDF: {status.message_retour_traitement or 'accepted'}"

    async def verify(self, payload: Mapping[str, Any]) -> str:
        right = await self._read(payload)
        if right is None:
            raise ActionRefused(f"GRDF no longer lists right {payload['id_droit_acces']} on PCE {payload['id_pce']}")
        if right.etat_droit_acces != m.REVOKED:
            raise ActionRefused(f"GRDF shows the right « {right.etat_droit_acces} », not « {m.REVOKED} »")
        return f"read back: right on PCE {right.id_pce} ({right.holder}) is « {right.etat_droit_acces} »"


# -- proofs -------------------------------------------------------------------------------------


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def proofs_form(right: AccessRight | RightRow, paths: Sequence[str | Path], now: dt.datetime) -> ActionForm:
    """Build the ``send_proofs`` payload for up to 3 files (each ≤ 4 MB, accepted types) of
    a right whose proof status allows it; else the problems (keys ``right``, ``files``)."""
    errors: dict[str, list[str]] = {}
    files: list[dict[str, Any]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            path = path.resolve(strict=True)
            if not path.is_file():
                raise OSError("not a file")
            size = path.stat().st_size
        except OSError:
            errors.setdefault("files", []).append(f"« {raw} » is not a readable file.")
            continue
        if any(f["path"] == str(path) for f in files):
            errors.setdefault("files", []).append(f"« {path.name} » is chosen twice.")
            continue
        files.append({"path": str(path), "name": path.name, "size": size})
    status_problem = rules.proof_status_problem(right.statut_controle_preuve)
    if status_problem:
        errors["right"] = [status_problem]
    if files or not errors.get("files"):  # "choose a file" would repeat an unreadable path
        file_problems = rules.proof_file_problems([(f["name"], f["size"]) for f in files])
        if file_problems:
            errors.setdefault("files", []).extend(file_problems)
    if errors:
        return _refused(errors)
    for entry in files:  # sizes are within 4 MB: reading them is cheap
        try:
            data = Path(entry["path"]).read_bytes()
        except OSError:
            return _refused({"files": [f"« {entry['name']} » could not be read."]})
        entry["size"], entry["sha256"] = len(data), _digest(data)
    grown = rules.proof_file_problems([(f["name"], f["size"]) for f in files])
    if grown:  # a file changed while it was being read
        return _refused({"files": grown})
    return ActionForm(
        {
            "id_droit_acces": right.id_droit_acces,
            "id_pce": right.id_pce,
            "holder": right.holder,
            "proof_status": right.statut_controle_preuve,
            "files": files,
            "queued_at": _now_iso(now),
        }
    )


def _load_files(payload: Mapping[str, Any]) -> list[tuple[str, bytes, str]]:
    """The files as queued, re-read; :class:`ActionRefused` if one is gone or changed."""
    out = []
    for entry in payload["files"]:
        try:
            data = Path(entry["path"]).read_bytes()
        except OSError:
            raise ActionRefused(
                f"not sent: « {entry['name']} » can no longer be read ({entry['path']}); queue the proofs again"
            ) from None
        if len(data) != entry["size"] or _digest(data) != entry["sha256"]:
            raise ActionRefused(
                f"not sent: « {entry['name']} » changed since the proofs were queued; "
                "check it and queue the proofs again"
            )
        out.append((entry["name"], data, rules.PROOF_MIME_TYPES[rules.proof_extension(entry["name"])]))
    return out


class ProofsHandler:
    """``PUT /droit_acces/{id}/preuves``: the proof status is read from GRDF just before
    sending (proofs are refused, nothing sent, unless it is « Preuve en attente » or
    « Preuve à vérifier »), verified by reading ``Preuve à vérifier`` back."""

    def __init__(self, client_factory: ClientFactory) -> None:
        self.client_factory = client_factory

    def key(self, payload: Mapping[str, Any]) -> str:
        digests = ",".join(sorted(f["sha256"] for f in payload["files"]))
        return f"{payload['id_droit_acces']}:{digests}"

    def check(self, payload: Mapping[str, Any], now: dt.datetime) -> None:
        try:
            if not (isinstance(payload["id_droit_acces"], str) and isinstance(payload["id_pce"], str)):
                raise TypeError("ids must be text")
            files = [(str(f["name"]), int(f["size"]), str(f["path"]), str(f["sha256"])) for f in payload["files"]]
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise _unreadable(error) from None
        problems = rules.proof_problems([(name, size) for name, size, _, _ in files], payload.get("proof_status"))
        if problems:
            raise ActionRefused("not sent: " + " ".join(problems))
        _load_files(payload)

    def describe(self, payload: Mapping[str, Any]) -> str:
        names = ", ".join(f"{f['name']} ({f['size']} bytes)" for f in payload["files"])
        return (
            f"send {len(payload['files'])} proof(s) for right {payload['id_droit_acces']} on PCE "
            f"{payload['id_pce']} ({payload.get('holder') or '?'}): {names}"
        )

    async def find(self, payload: Mapping[str, Any], since: dt.datetime) -> str | None:
        """Proofs queued while GRDF waited for them (« Preuve en attente ») arrived when the
        status has moved on; that status is the only trace GRDF gives. Proofs added while it
        already read « Preuve à vérifier » leave no trace: they are uploaded again (a duplicate
        file for GRDF to check, not a second decision)."""
        right = await self.client_factory().access_right(payload["id_pce"], payload["id_droit_acces"])
        if (
            right is not None
            and payload.get("proof_status") == m.PROOF_PENDING
            and right.statut_controle_preuve != m.PROOF_PENDING
        ):
            return (
                f"already received (an earlier attempt reached GRDF): the proof status is "
                f"« {right.statut_controle_preuve} »; not uploaded again"
            )
        return None

    async def send(self, payload: Mapping[str, Any]) -> str:
        files = _load_files(payload)
        client = self.client_factory()
        right = await client.access_right(payload["id_pce"], payload["id_droit_acces"])
        if right is None:
            raise ActionRefused(
                f"not sent: GRDF no longer lists right {payload['id_droit_acces']} on PCE {payload['id_pce']}"
            )
        problem = rules.proof_status_problem(right.statut_controle_preuve)
        if problem:
            raise ActionRefused("not sent: " + problem)
        status = await client.send_proofs(payload["id_droit_acces"], files)
        return f"GRDF: {status.message_retour_traitement or 'accepted'} ({len(files)} file(s))"

    async def verify(self, payload: Mapping[str, Any]) -> str:
        right = await self.client_factory().access_right(payload["id_pce"], payload["id_droit_acces"])
        if right is None:
            raise ActionRefused(f"GRDF no longer lists right {payload['id_droit_acces']}")
        if right.statut_controle_preuve != m.PROOF_TO_CHECK:
            raise ActionRefused(
                f"GRDF shows the proof status « {right.statut_controle_preuve} », not « {m.PROOF_TO_CHECK} »"
            )
        return f"read back: proofs of PCE {right.id_pce} ({right.holder}) are « {right.statut_controle_preuve} »"


def handlers(client_factory: ClientFactory) -> dict[tuple[str, str], ActionHandler]:
    """The three handlers, keyed as the outbox wants them: ``(PROVIDER_KEY, action)``."""
    return {
        (PROVIDER_KEY, DECLARE): DeclareHandler(client_factory),
        (PROVIDER_KEY, REVOKE): RevokeHandler(client_factory),
        (PROVIDER_KEY, SEND_PROOFS): ProofsHandler(client_factory),
    }
