"""GRDF OMEGA « Suivi demande » rules as pure functions (no I/O).

- §1.2: the exhaustive list of the 23 request types (:data:`REQUEST_TYPES`).
- §2.2.1: the request number (``numero_demande``, path variable), e.g. ``WD0004MX``.
- Annex A: the technical return codes "(à confirmer)" (:data:`RETURN_CODES`,
  :func:`message_for`); §1.3: the quota of one call per second per supplier.
- Status changes of a watched request (:func:`status_changed`, :func:`status_change`).

Reading of the request number: the document only shows ``WD0004MX`` (§2.2.1 screenshot)
and ``WD00053H`` (§2.2.2 example), both ``WD`` followed by six characters among
``0-9A-Z``. :data:`NUMERO_PATTERN` is exactly that; input is stripped and
upper-cased first. If GRDF numbers other shapes, the pattern is the one place to
widen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata

import msgspec

from pupitre.providers.grdf_omega.models import Demande

#: §1.2 "liste exhaustive des demandes": code → label, verbatim, in the document's order.
REQUEST_TYPES: dict[str, str] = {
    "ARLV": "Demande d'auto-relevé fournisseur",
    "CHADR": "Demande de changement d'adresse PCE",
    "CHF": "Demande de changement de fournisseur",
    "CHFR": "Demande de changement de fréquence",
    "CHT": "Demande de changement tarifaire",
    "COUP": "Demande de coupure pour impayé",
    "DIST": "Demande de distance",
    "DIT": "Demande d'intervention technique",
    "DPM": "Demande de changement date de publication mensuelle",
    "ERREUR_PCE": "Déclaration d'erreur PCE ou contestation de souscription",
    "CJA": "Demande de CJA",
    "MCFU": "Demande de modification des caractéristiques de l'utilisateur final",
    "MES": "Demande de mise en service",
    "MHS": "Demande de mise hors service",
    "MODIF_CAR_PRO": "Demande de modification de CAR/Profil",
    "QSR": "Question sur relève",
    "RAD": "Demande de relevé à date",
    "RETB": "Demande de rétablissement suite à coupure pour impayé",
    "RGR_DGR": "Demande de Regroupements / Dégroupements de PCE ou CJA",
    "SMNT": "Demande de service maintenance",
    "SPNS": "Demande de service pression non standard",
    "DAN": "Demande d'analyse",
    "TJDC": "Transmission des données de consommation journalières",
}


def type_label(code: str, libelle: str | None = None) -> str:
    """The §1.2 label of a request type; else the API's own ``libelle``; else
    ``"unknown type <code>"``."""
    key = (code or "").strip().upper()
    if key in REQUEST_TYPES:
        return REQUEST_TYPES[key]
    if libelle and libelle.strip():
        return libelle.strip()
    return f"unknown type {_clip(code or '')}"


# -- request numbers (§2.2.1) -----------------------------------------------------------------

#: ``WD`` + six characters among 0-9 and A-Z (``WD0004MX``, ``WD00053H``).
NUMERO_PATTERN = re.compile(r"WD[0-9A-Z]{6}")
NUMERO_EXAMPLE = "WD0004MX"


class NumeroError(ValueError):
    """A request number refused locally; ``str()`` is a sentence for the operator."""


def _clip(text: str, size: int = 30) -> str:
    """Input echoed in a message: one line, printable, short."""
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= size else text[:size] + "…"


def validate_numero(text: str) -> str:
    """The request number normalised (stripped, upper case), or :class:`NumeroError`."""
    if not isinstance(text, str) or not text.strip():
        raise NumeroError(
            f"the request number is empty: type a number like {NUMERO_EXAMPLE} (WD followed by 6 letters or digits)"
        )
    numero = text.strip().upper()
    if not NUMERO_PATTERN.fullmatch(numero):
        raise NumeroError(
            f"'{_clip(text)}' is not a GRDF request number: expected WD followed by "
            f"6 letters or digits, like {NUMERO_EXAMPLE}"
        )
    return numero


# -- watch files ----------------------------------------------------------------------------

HEADER_COLUMN = "numero_demande"


class LineError(msgspec.Struct, frozen=True):
    """A line of a watch file that holds no valid request number."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _header_key(cell: str) -> str:
    """``"Numéro demande"`` → ``"numero_demande"`` (accents, case, spaces, hyphens)."""
    plain = unicodedata.normalize("NFKD", cell).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-]+", "_", plain.strip().strip('"').lower())


def _delimiter(lines: list[str]) -> str:
    """Tab if any line has one (TSV), else ``;`` (French CSV), else ``,``."""
    for delimiter in ("\t", ";", ","):
        if any(delimiter in line for line in lines):
            return delimiter
    return ","


def parse_watch_file(text: str) -> tuple[list[str], list[LineError]]:
    """The request numbers of a watch file, and its bad lines.

    Accepted: one number per line, or CSV (``,`` or ``;``) / TSV taking the first
    column, or the column named ``numero_demande`` when a header names it. Skipped
    silently: blank lines, ``#`` comments (whole line or after the number), a header (the first row, when it names
    ``numero_demande`` or its cell has no digit), repeats. Numbers are normalised
    (:func:`validate_numero`) and returned in file order; every other line is a
    :class:`LineError` with its 1-based line number.
    """
    body = text.lstrip("\ufeff")
    lines = body.splitlines()
    reader = csv.reader(io.StringIO(body), delimiter=_delimiter(lines))
    numbers: list[str] = []
    seen: set[str] = set()
    errors: list[LineError] = []
    column = 0
    first = True
    for row in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if first:
            first = False
            keys = [_header_key(cell) for cell in cells]
            if HEADER_COLUMN in keys:
                column = keys.index(HEADER_COLUMN)
                continue
            if not any(ch.isdigit() for ch in cells[0]) and not NUMERO_PATTERN.fullmatch(cells[0].upper()):
                continue  # a header without a numero_demande column: first column
        cell = (cells[column] if column < len(cells) else "").split("#", 1)[0].strip()
        if not cell:
            errors.append(LineError(line, f"no request number in column {column + 1}"))
            continue
        try:
            numero = validate_numero(cell)
        except NumeroError as exc:
            errors.append(LineError(line, str(exc)))
            continue
        if numero not in seen:
            seen.add(numero)
            numbers.append(numero)
    return numbers, errors


# -- return codes (Annex A, §1.3) ---------------------------------------------------------------


class ReturnCode(msgspec.Struct, frozen=True):
    """An Annex A line: HTTP status, GRDF's label, what it means for the operator."""

    status: int
    libelle: str
    message: str


_ANNEX_A: tuple[ReturnCode, ...] = (
    ReturnCode(500, "Une erreur de la base de données", "database error at GRDF"),
    ReturnCode(500, "Une erreur est survenue lors de la création d'une tâche", "GRDF failed to create a task"),
    ReturnCode(400, "Paramètre de requête manquant", "a request parameter is missing"),
    ReturnCode(
        400,
        "Des paramètres sont manquants ou mal formatés dans le corps de la requête",
        "parameters missing or badly formatted in the request body",
    ),
    ReturnCode(
        400, "Duplication de valeur : la donnée ne peut être enregistrée", "duplicate value: the data cannot be saved"
    ),
    ReturnCode(404, "La ressource demandée est introuvable", "the requested resource was not found"),
    ReturnCode(405, "Le verbe http utilisé n'est pas pris en charge", "HTTP method not supported"),
    ReturnCode(
        400,
        "Paramètres de requête incohérents",
        "inconsistent request parameters (a field required or forbidden by another)",
    ),
    ReturnCode(403, "L'utilisateur n'a pas accès à cette ressource", "the user has no access to this resource"),
    ReturnCode(500, "Erreur interne du serveur", "internal server error"),
    ReturnCode(400, "Données inexistantes", "no such data"),
    ReturnCode(500, "Une erreur est survenue lors de l'envoi du mail", "GRDF failed to send an e-mail"),
    ReturnCode(400, "Erreur traitement de la tâche", "task processing error"),
    ReturnCode(400, "Réaffectation KO", "reassignment failed"),
    ReturnCode(400, "Le code action fourni n'est pas valide", "the action code is not valid"),
    ReturnCode(400, "La réservation de la tâche est KO", "task reservation failed"),
)

#: Annex A, keyed by GRDF's label (each label is unique; several share a status).
RETURN_CODES: dict[str, ReturnCode] = {code.libelle: code for code in _ANNEX_A}

QUOTA_MESSAGE = "quota of 1 call per second exceeded"


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).casefold()


_BY_KEY = {_normalise(code.libelle): code for code in _ANNEX_A}


def return_code(api_message: str | None) -> ReturnCode | None:
    """The Annex A line whose label is ``api_message`` (spacing, case and ’ tolerant)."""
    if not api_message:
        return None
    text = _normalise(api_message)
    if text in _BY_KEY:
        return _BY_KEY[text]
    return next((code for key, code in _BY_KEY.items() if text.startswith(key)), None)


def _with_api_text(api_message: str) -> str:
    """GRDF's text, glossed in English when it is an Annex A label."""
    known = return_code(api_message)
    if known is None:
        return api_message
    return f"{api_message} ({known.message})"


def message_for(status: int, api_message: str | None) -> str:
    """What the operator reads for an error answer (Annex A, §1.3).

    ``api_message`` is GRDF's ``message`` (already made safe by the caller).
    """
    text = (api_message or "").strip()
    if status == 404:
        return "unknown request number for this supplier (CDG-F)"
    if status == 403:
        return "not allowed for this CDG-F / user"
    if status == 429:
        return QUOTA_MESSAGE
    if status == 401:
        return "authentication refused by GRDF: check the OKTA client id, secret and the scope suivi_demande"
    if status == 405:
        return "HTTP method not supported by GRDF OMEGA" + (f": {text}" if text else "")
    if status == 400:
        return f"request refused: {_with_api_text(text)}" if text else "request refused (no message from GRDF)"
    if status >= 500:
        return f"GRDF server error: {_with_api_text(text)}" if text else "GRDF server error (no message)"
    return f"unexpected answer from GRDF (HTTP {status})" + (f": {text}" if text else "")


# -- status changes ---------------------------------------------------------------------------


class StatusChange(msgspec.Struct, frozen=True):
    """A request's external status moved from ``old`` to ``new``; ``date`` is GRDF's
    ``date_dernier_changement_statut_externe`` (``None`` when it did not send it)."""

    numero: str
    old_code: str
    old_label: str | None
    new_code: str
    new_label: str | None
    date: dt.date | None


def _status_key(demande: Demande) -> str:
    return demande.statut_externe_demande.code.strip().upper()


def status_changed(old: Demande | None, new: Demande) -> bool:
    """Whether the external status code differs from the last one seen.

    A first sighting (``old`` is ``None``) is not a change: it is the baseline. A
    new label for the same code is not a change either. Comparing two different
    requests is a programming error (:class:`ValueError`).
    """
    if old is None:
        return False
    if old.numero_demande.strip().upper() != new.numero_demande.strip().upper():
        raise ValueError(f"comparing two requests: {old.numero_demande} and {new.numero_demande}")
    return _status_key(old) != _status_key(new)


def status_change(old: Demande | None, new: Demande) -> StatusChange | None:
    """The :class:`StatusChange` from ``old`` to ``new``, or ``None`` (see :func:`status_changed`)."""
    if old is None or not status_changed(old, new):
        return None
    return StatusChange(
        new.numero_demande,
        old.statut_externe_demande.code,
        old.statut_externe_demande.libelle,
        new.statut_externe_demande.code,
        new.statut_externe_demande.libelle,
        new.date_dernier_changement_statut_externe,
    )


# -- how often a watched request is re-read ----------------------------------------------------
# The document lists no external statuses: its example shows « En attente RDV » (ATTRDV) only.
# A final status is recognised by its code (the sandbox's) or by its label's word, accents and
# case aside: a request réalisée, traitée, annulée, rejetée, refusée, clôturée or abandonnée
# does not move any more, and is re-read rarely (``[grdf_omega] final_reread_hours``).
FINAL_CODES = frozenset({"REAL", "TRAITEE", "ANNUL", "REJET", "REFUS", "CLOS", "ABAND"})
FINAL_WORDS = ("realisee", "traitee", "annulee", "rejetee", "refusee", "cloturee", "abandonnee", "terminee")
#: Statuses awaiting an appointment: read first (an appointment is what the supplier acts on).
APPOINTMENT_CODES = frozenset({"ATTRDV"})
APPOINTMENT_WORDS = ("attente rdv", "attente de rdv", "attente rendez-vous", "attente de rendez-vous")
#: A status changed within this many days is "recent": read first (a final one too: a request
#: just réalisée or annulée may still be corrected, and the operator follows it).
RECENT_CHANGE_DAYS = 14


def _plain(text: str | None) -> str:
    """``text`` without accents, case-folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return _normalise("".join(c for c in decomposed if not unicodedata.combining(c)))


def is_final(demande: Demande) -> bool:
    """Whether ``demande``'s external status is final (:data:`FINAL_CODES`, :data:`FINAL_WORDS`)."""
    status = demande.statut_externe_demande
    label = _plain(status.libelle)
    return _status_key(demande) in FINAL_CODES or any(label.startswith(word) for word in FINAL_WORDS)


def awaiting_appointment(demande: Demande) -> bool:
    """Whether ``demande`` waits for an appointment (``ATTRDV``, « En attente RDV »)."""
    label = _plain(demande.statut_externe_demande.libelle)
    return _status_key(demande) in APPOINTMENT_CODES or any(word in label for word in APPOINTMENT_WORDS)


def changed_recently(demande: Demande, today: dt.date) -> bool:
    """Whether the external status changed within :data:`RECENT_CHANGE_DAYS` of ``today``."""
    changed = demande.date_dernier_changement_statut_externe
    return changed is not None and (today - changed).days <= RECENT_CHANGE_DAYS
