"""The 13 SFM sites of the GRTgaz document (chapter 1 §3.2.1, "Maille associée").

The document gives each site's mesh (Maille), client and number of tranches but no
identifiers; §13.1 says a site id has the format ``LI0000`` and a mesh code the format
``ME0000``. The ids below are this project's own, fixed once so that stored history
and settings stay valid. Provence is ``ME0008`` as in the §13.1 example.

Each site also carries its connection contract (Contrat de Raccordement, §2.3) with
its contractual hourly min and max (§2.4). The document gives none of them: the
codes follow the shape of the chapter 6 example (``GFCCGE04``) and the bounds are
this project's plausible values (0 to 800 000 kWh 25°C per hour and tranche, the
order of a combined-cycle unit). A real installation's values belong in settings.
"""

from __future__ import annotations

import re

import msgspec

SITE_ID_PATTERN = re.compile(r"^LI\d{4}$")
MESH_CODE_PATTERN = re.compile(r"^ME\d{4}$")


class Mesh(msgspec.Struct, frozen=True):
    """A mesh (Maille) of §3.2.1, with its ``ME0000`` code (§13.1 ``meshCode``)."""

    code: str
    label: str


class Site(msgspec.Struct, frozen=True):
    """A site of §3.2.1: ``site_id`` (§13.1 ``siteId``), label, mesh, client, tranches."""

    site_id: str
    label: str
    mesh: Mesh
    client: str
    tranches: int
    contract: str = ""
    """Connection contract code (§2.3), the ``<contract>`` of a program id (§2.2)."""
    q_min: float = 0.0
    """Contractual minimum hourly quantity, kWh 25°C (§2.4)."""
    q_max: float = 0.0
    """Contractual maximum hourly quantity, kWh 25°C (§2.4); 0 means not known."""

    @property
    def mesh_code(self) -> str:
        return self.mesh.code

    @property
    def mesh_label(self) -> str:
        return self.mesh.label


NORD = Mesh("ME0001", "Nord")
LORRAINE = Mesh("ME0003", "Lorraine")
BRETAGNE = Mesh("ME0004", "Bretagne")
GUYENNE = Mesh("ME0005", "Guyenne")
IDF = Mesh("ME0006", "IDF")
PROVENCE = Mesh("ME0008", "Provence")

MESHES: tuple[Mesh, ...] = (NORD, LORRAINE, BRETAGNE, GUYENNE, IDF, PROVENCE)

#: Contractual maximum per tranche (kWh 25°C per hour), this project's value (see above).
Q_MAX_PER_TRANCHE = 800_000.0


def _site(number: int, label: str, mesh: Mesh, client: str, tranches: int) -> Site:
    return Site(
        f"LI{1000 + number}",
        label,
        mesh,
        client,
        tranches,
        contract=f"GFCCGE{number:02d}",
        q_min=0.0,
        q_max=Q_MAX_PER_TRANCHE * tranches,
    )


#: The table of §3.2.1, in the document's order.
SITES: tuple[Site, ...] = (
    _site(1, "DK6", NORD, "ENGIE", 2),
    _site(2, "Pont sur Sambre", NORD, "Total Direct Energie", 1),
    _site(3, "Cycofos", PROVENCE, "ENGIE", 1),
    _site(4, "Saint Avold", LORRAINE, "Gazel Energie", 2),
    _site(5, "Combigolfe", PROVENCE, "ENGIE", 1),
    _site(6, "Montoir", BRETAGNE, "ENGIE", 1),
    _site(7, "Bayet", GUYENNE, "Total Direct Energie", 1),
    _site(8, "Blenod", LORRAINE, "EDF", 1),
    _site(9, "Martigues", PROVENCE, "EDF", 2),
    _site(10, "Gennevilliers", IDF, "EDF", 1),
    _site(11, "Montereau", IDF, "EDF", 2),
    _site(12, "Toul", LORRAINE, "Total Direct Energie", 1),
    _site(13, "Bouchain", NORD, "EDF", 1),
)

_BY_ID = {site.site_id: site for site in SITES}
_MESH_BY_CODE = {mesh.code: mesh for mesh in MESHES}


def site_by_id(site_id: str) -> Site | None:
    """The site with this ``LI0000`` id, or ``None``."""
    return _BY_ID.get(site_id)


def site_by_label(label: str) -> Site | None:
    """The site with this label (case-insensitive), or ``None``."""
    wanted = label.strip().casefold()
    return next((site for site in SITES if site.label.casefold() == wanted), None)


def mesh_by_code(code: str) -> Mesh | None:
    return _MESH_BY_CODE.get(code)


def sites_in_mesh(mesh: Mesh | str) -> tuple[Site, ...]:
    """The sites of a mesh (given as a :class:`Mesh` or its code)."""
    code = mesh.code if isinstance(mesh, Mesh) else mesh
    return tuple(site for site in SITES if site.mesh.code == code)


def tranches_of(site_id: str) -> int:
    """Tranche count of a site (the §3.2.3.2 0.8 GWh/tranche margin); ``KeyError`` if unknown."""
    return _BY_ID[site_id].tranches
