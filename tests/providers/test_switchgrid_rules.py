"""Switchgrid rules: validation, request types, since/until, curves, downsampling, stats, DST."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable

import pytest

from pupitre.providers.core.api import from_data
from pupitre.providers.core.clock import PARIS, UTC
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.switchgrid import bodies, models, rules
from pupitre.providers.switchgrid.rules import Point, RuleError
from tests.corpus import samples

CORPUS = samples("switchgrid")
STEP = rules.STEP_10_MIN


# -- corpus ---------------------------------------------------------------------------------------


def reader(kind: Any) -> Callable[[Any], Any]:
    """``from_data`` for one type, as the client reads it."""
    return lambda value: from_data(value, kind, provider=models.PROVIDER)


def _target(pointer: str):
    tail = pointer.split("/")
    last = tail[-2] if tail[-1] == "examples" else tail[-1]
    if "search_contract" in pointer:
        return lambda v: (
            rules.validate_search(v, "1 rue de la paix 75000 Paris")
            if tail[-3] == "0"
            else rules.validate_search("Jean Dupont", v)
        )
    if pointer.startswith("#/paths/~1ask/get/parameters"):
        return lambda v: rules.parse_filter(v["value"])
    if last == "requests":
        return reader(list[models.OrderRequest])
    adapters = {
        "prm": lambda v: rules.validate_prm(v),
        "electricityContracts": reader(list[bodies.ElectricityContract | str]),
        "email": reader(str),
        "signer": reader(bodies.Signer),
        "options": reader(bodies.AskOptions),
        "scopesAndPurpose": reader(list[bodies.ScopesAndPurpose]),
        "consentIds": reader(dict[str, str]),
        "adresseInstallationNormalisee": reader(models.InstallationAddress),
    }
    if last in adapters:
        return adapters[last]
    return reader(str)  # userUrl, names, address lines


def test_every_spec_example_parses() -> None:
    examples = json.loads((CORPUS / "spec-examples.by-json-pointer.json").read_text())
    assert len(examples) == 20
    for pointer, value in examples.items():
        parse = _target(pointer)
        for item in value.values() if isinstance(value, dict) else value:
            parse(item)


def test_request_body_samples_parse_and_validate() -> None:
    ask = reader(bodies.AskCreate)(json.loads((CORPUS / "post_ask.request-body.switchgrid-starter.json").read_text()))
    assert ask.consentCollectionMedium.service == "WEB_HOSTED"
    assert rules.consent_duration(ask.consentDuration) == dt.timedelta(days=7)
    order = json.loads((CORPUS / "post_order.request-body.switchgrid-starter.json").read_text())
    reader(bodies.OrderCreate)(order)
    order["consentId"] = "47608cf7-1396-47fa-ada0-087de727b291"
    assert rules.validate_order(order)["requests"] == [{"type": "LOADCURVE", "direction": "CONSUMPTION"}]


def test_document_examples_parse() -> None:
    ask = reader(models.Ask)(
        {
            "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "status": "PENDING_USER_ACTION",
            "acceptedAt": "2024-06-17T13:40:21.422Z",
            "consentCollectionDetails": {"service": "WEB_HOSTED", "userUrl": "https://app.switchgrid.tech/c/..."},
            "createArgs": {},
        }
    )
    assert ask.user_url.startswith("https://")
    order = reader(models.Order)(
        {
            "id": "x",
            "status": "SOME_REQUESTS_FAILED",
            "requests": [
                {
                    "type": "R63",
                    "status": "FAILED",
                    "orderedAt": "2024-07-29T07:52:19.903Z",
                    "completedAt": "2024-07-29T07:53:08.629Z",
                    "dataUrl": None,
                    "errorMessage": "boom",
                    "loadCurve": {
                        "period": "PT600S",
                        "startsAt": "2024-12-15T23:00:00.000Z",
                        "endsAt": "2024-12-15T23:30:00.000Z",
                        "values": [1, None, 3],
                    },
                    "future": 1,
                }
            ],
        }
    )
    assert order.failed()[0].loadCurve.values == [1, None, 3]
    contract = reader(models.ContractSearch)(
        {
            "results": [
                {
                    "nomClientFinalOuDenominationSociale": "ST DUPONT",
                    "prm": "00000000000022",
                    "categorieClientFinalCode": "PRO",
                    "adresseInstallationNormalisee": {
                        "ligne2": "DP TJ TB",
                        "ligne4": "10 RUE DE LA PAIX",
                        "ligne6": "75002 PARIS",
                    },
                }
            ]
        }
    )
    assert str(contract.results[0].adresseInstallationNormalisee) == "DP TJ TB, 10 RUE DE LA PAIX, 75002 PARIS"


def test_hostile_text_is_cleaned_in_answers_and_in_bodies_built_in_code() -> None:
    ask = reader(models.Ask)(
        {
            "id": "a\x1b[2J",
            "status": "PENDING_USER_ACTION",
            "consentCollectionDetails": {"service": "WEB_HOSTED", "userUrl": "https://x/\x1b]8;;evil\x07c"},
            "createArgs": {"signer": {"lastName": "Dupont\u202e"}, "k\x9b": ["\r\nx"]},  # kept whole, cleaned
            "contracts": [{"nomClientFinalOuDenominationSociale": "ST\nDUPONT", "prm": "00000000000022"}],
        }
    )
    assert ask.id == "a␛[2J" and ask.user_url == "https://x/␛]8;;evil␇c"
    assert ask.createArgs == {"signer": {"lastName": "Dupont\ufffd"}, "k␛[": [" x"]}  # as the previous version
    assert ask.contracts[0].nomClientFinalOuDenominationSociale == "ST DUPONT"  # one line: a break is a space
    order = reader(models.Order)(
        {
            "id": "o",
            "status": "SUCCESS",
            "requests": [{"type": "R63", "status": "FAILED", "errorMessage": "no\x1b[31m"}],
        }
    )
    assert order.requests[0].errorMessage == "no␛[31m"
    holder = bodies.Holder(name="ACME\x1b[2J", otherNames=["A\nB"])
    assert (holder.name, holder.otherNames, holder.is_company) == ("ACME␛[2J", ["A B"], True)
    signer = bodies.Signer(firstName="Jean\x07", lastName="Dupont")
    assert bodies.AskCreate(electricityContracts=["x"], signer=signer, consentDuration="1 year").body() == {
        "electricityContracts": ["x"],
        "signer": {"firstName": "Jean␇", "lastName": "Dupont"},
        "consentDuration": "1 year",
    }


def test_refusals_name_where_the_answer_or_body_is_wrong() -> None:
    def refused(kind: Any, data: Any) -> str:
        with pytest.raises(PayloadError) as caught:
            reader(kind)(data)
        return caught.value.detail

    assert refused(models.Ask, {"status": "ACCEPTED"}) == "at root: Object missing required field `id`"
    naive = refused(models.Ask, {"id": "a", "status": "ACCEPTED", "createdAt": "2024-06-17T13:40:21"})
    assert naive.startswith("at createdAt:")  # an instant without its offset is refused
    assert refused(models.Order, {"id": "o", "status": "S", "requests": [{"type": "R63"}]}).startswith(
        "at requests[0]: Object missing required field `status`"
    )
    curve = {"period": "PT600S", "startsAt": "2024-12-15T23:00:00Z", "endsAt": "2024-12-16T23:00:00Z", "values": ["x"]}
    assert refused(models.InlineLoadCurve, curve).startswith("at values[0]:")
    contract = {"prm": "00000000000022", "address": {"street": "1", "postalCode": "75001", "city": "P", "country": "F"}}
    for holder in ({"firstName": "Jeanne"}, {"genre": "F", "siret": "1"}, {}):
        assert "heldBy is a person (firstName and lastName) or a company (name)" in refused(
            bodies.ElectricityContract, {**contract, "heldBy": holder}
        )
    person = reader(bodies.ElectricityContract)({**contract, "heldBy": {"firstName": "J", "lastName": "D"}})
    assert not person.heldBy.is_company
    with pytest.raises(ValueError, match="heldBy is a person"):
        bodies.Holder(firstName="Jeanne")
    assert refused(bodies.AskCreate, {"signer": {"firstName": "J", "lastName": "D"}, "consentDuration": "1 year"}) == (
        "at root: Object missing required field `electricityContracts`"
    )


def test_the_document_form_of_an_ask_is_sent_whole() -> None:
    """``purposes`` at the top level (the document's example) and a company's ``siren``
    (the document's prose) are fields: sent as given, not dropped."""
    raw = {
        "electricityContracts": [
            {
                "prm": "00000000000022",
                "heldBy": {"name": "ACME", "siren": "123456789"},
                "address": {"street": "1 rue de la paix", "postalCode": "75001", "city": "Paris", "country": "France"},
            }
        ],
        "signer": {"firstName": "Jean", "lastName": "lastName"},
        "purposes": ["SOLAR_INSTALLATION_SIZING"],
        "consentDuration": "3 years",
    }
    assert reader(bodies.AskCreate)(raw).body() == raw


def test_bodies_built_in_code_are_checked_as_dicts_are() -> None:
    order = bodies.OrderCreate(
        requests=[bodies.OrderRequestCreate(type="loadcurve", prms=["0000 0000 0000 22"], direction="consumption")]
    )
    assert rules.validate_order(order) == {
        "requests": [{"type": "LOADCURVE", "prms": ["00000000000022"], "direction": "CONSUMPTION"}]
    }
    assert rules.validate_request(order.requests[0]) == rules.validate_order(order)["requests"][0]
    curve = reader(models.InlineLoadCurve)(
        {"period": "PT600S", "startsAt": "2024-12-15T23:00:00Z", "endsAt": "2024-12-15T23:30:00Z", "values": [1, None]}
    )
    assert rules.parse_json_curve(curve).points == [
        Point(dt.datetime(2024, 12, 15, 23, 0, tzinfo=UTC), 1),
        Point(dt.datetime(2024, 12, 15, 23, 10, tzinfo=UTC), None),
        Point(dt.datetime(2024, 12, 15, 23, 20, tzinfo=UTC), None),  # up to endsAt: a missing tail
    ]


# -- validation -----------------------------------------------------------------------------------


def test_prm_and_search() -> None:
    assert rules.validate_prm(" 0000 0000 0000 22") == "00000000000022"
    for bad in ("123", "0000000000002A", "000000000000223"):
        with pytest.raises(RuleError, match="14 digits"):
            rules.validate_prm(bad)
    assert rules.validate_search("ST  Dupont", "1 rue de la paix 75002 Paris") == {
        "name": "ST Dupont",
        "address": "1 rue de la paix 75002 Paris",
    }
    assert rules.validate_search("Dupont", prm="00000000000022")["prm"] == "00000000000022"
    with pytest.raises(RuleError, match="at least 3"):
        rules.validate_search("Du", "1 rue de la paix 75002 Paris")
    with pytest.raises(RuleError, match="address .* or its PRM"):
        rules.validate_search("Dupont")
    with pytest.raises(RuleError, match="postal code"):
        rules.validate_search("Dupont", "rue de la paix")
    with pytest.raises(RuleError, match="postal code"):
        rules.validate_search("Dupont", "75002")


def test_filters() -> None:
    assert rules.build_filter(["PENDING_USER_ACTION", "ACCEPTED"]) == "PENDING_USER_ACTION,ACCEPTED"
    assert rules.build_filter("ACCEPTED", exclude=True) == "!ACCEPTED"
    assert rules.build_filter([]) is None
    assert rules.parse_filter("!00069098505221") == (True, ["00069098505221"])
    assert rules.parse_filter("") == (False, [])


@pytest.mark.parametrize(
    "form, expected",
    [
        ("2024-12-10", dt.datetime(2024, 12, 10, tzinfo=UTC)),
        ("2024-12-10T00:00:00", dt.datetime(2024, 12, 10, tzinfo=UTC)),
        ("2024-12-10T12:00:00Z", dt.datetime(2024, 12, 10, 12, tzinfo=UTC)),
        ("2024-12-10T00:00:00+01:00", dt.datetime(2024, 12, 9, 23, tzinfo=UTC)),
        ("2024-12-10T00:00:00[Europe/Paris]", dt.datetime(2024, 12, 9, 23, tzinfo=UTC)),
        ("2024-12-10T00:00:00[CET]", dt.datetime(2024, 12, 9, 23, tzinfo=UTC)),
        ("2024-07-10T00:00:00[Europe/Paris]", dt.datetime(2024, 7, 9, 22, tzinfo=UTC)),
    ],
)
def test_since_until_forms(form: str, expected: dt.datetime) -> None:
    assert rules.parse_instant(form) == expected
    assert form in rules.INSTANT_FORMS or "2024-07" in form


def test_since_until_typed_as_french_dates() -> None:
    """``10/12/2024`` is the 10th of December, as typed in France (issue 17), with or without a time."""
    assert rules.parse_instant("10/12/2024") == rules.parse_instant("2024-12-10")
    assert rules.parse_instant("10/12/2024 9:30") == rules.parse_instant("2024-12-10T09:30")
    assert rules.parse_instant("10/12/2024T00:00:00[Europe/Paris]") == dt.datetime(2024, 12, 9, 23, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["32/12/2024", "2024-13-01", "2024-12-10T00:00:00[Mars/Olympus]", ""])
def test_since_until_refused(bad: str) -> None:
    with pytest.raises(RuleError):
        rules.parse_instant(bad)


PRM = "00045855908792"


@pytest.mark.parametrize("code", sorted(rules.REQUEST_TYPES))
def test_every_request_type_arguments(code: str) -> None:
    kind = rules.REQUEST_TYPES[code]
    assert kind.required == ("prms",)
    full: dict = {"type": code, "prms": [PRM]}
    if "direction" in kind.optional:
        full["direction"] = kind.directions[-1]
    if "since" in kind.optional:
        full.update(since="2024-06-12", until="2024-06-15T00:00:00[Europe/Paris]")
    assert rules.validate_request(full) == full
    with pytest.raises(RuleError, match="PRM"):
        rules.validate_request({"type": code})
    assert rules.validate_request({"type": code}, has_consent=True) == {"type": code}
    if "direction" not in kind.optional:
        with pytest.raises(RuleError, match="does not take direction"):
            rules.validate_request({"type": code, "prms": [PRM], "direction": "SOUTIRAGE"})
    else:
        wrong = "SOUTIRAGE" if code == "LOADCURVE" else "CONSUMPTION"
        with pytest.raises(RuleError, match="direction"):
            rules.validate_request({"type": code, "prms": [PRM], "direction": wrong})
    if "since" not in kind.optional:
        with pytest.raises(RuleError, match="does not take"):
            rules.validate_request({"type": code, "prms": [PRM], "since": "2024-06-12"})


def test_order_validation() -> None:
    doc = {
        "requests": [
            {
                "prms": [PRM],
                "type": "LOADCURVE",
                "direction": "CONSUMPTION",
                "since": "2024-06-12",
                "until": "2024-06-15",
            },
            {"prms": [PRM], "type": "R65"},
        ]
    }
    assert rules.validate_order(doc)["requests"][1] == {"prms": [PRM], "type": "R65"}
    with pytest.raises(RuleError, match="unknown"):
        rules.validate_order({"requests": [{"type": "R99", "prms": [PRM]}]})
    with pytest.raises(RuleError, match="before the end"):
        rules.validate_request({"type": "LOADCURVE", "prms": [PRM], "since": "2024-06-15", "until": "2024-06-12"})
    with pytest.raises(RuleError, match="empty"):
        rules.validate_order({"requests": []})
    with pytest.raises(RuleError, match="UUID"):
        rules.validate_order({"consentId": "nope", "requests": [{"type": "C68"}]})


def test_statuses_and_polling() -> None:
    for status in ("SUCCESS", "SOME_REQUESTS_FAILED", "ADDRESS_CHECK_FAILED"):
        assert rules.order_done(status)
    assert not rules.order_done("PENDING_REQUESTS")
    delays = rules.poll_delays()
    first = [next(delays) for _ in range(12)]
    assert first[0] == 2 and first == sorted(first) and first[-1] == 60


def test_no_loadcurve_service_explained() -> None:
    message = (
        "La demande ne peut aboutir : aucun service souscrit de courbe de charge n'est present pour la periode demandee"
    )
    loadcurve = rules.explain_error("LOADCURVE", message)
    assert loadcurve.reorder_with_activation and "few hours" in loadcurve.advice
    legacy = rules.explain_error("R63", message.replace("present", "présent"))
    assert not legacy.reorder_with_activation and "LOADCURVE" in legacy.advice
    assert rules.explain_error("C68", "autre").reorder_with_activation is False
    assert rules.explain_error("C68", None) is None
    body = rules.reorder_with_activation(
        {
            "consentId": "47608cf7-1396-47fa-ada0-087de727b291",
            "requests": [{"type": "LOADCURVE", "direction": "CONSUMPTION"}, {"type": "C68"}],
        }
    )
    assert body["requests"] == [
        {"type": "LOADCURVE", "direction": "CONSUMPTION", "enedisRetryAfterLoadcurveActivation": True}
    ]


# -- curves ---------------------------------------------------------------------------------------


def test_csv_and_json_forms() -> None:
    csv_curve = rules.parse_csv_curve(
        "startDate,powerInWatts\n2024-12-15T23:00:00.000Z,321\n"
        "2024-12-15T23:10:00.000Z,294\n2024-12-15T23:20:00.000Z,\n"
        "2024-12-15T23:50:00.000Z,300\n"
    )
    assert csv_curve.step == STEP
    assert [p.watts for p in csv_curve.points] == [321, 294, None, None, None, 300]
    assert rules.to_paris(csv_curve.points[0].start) == dt.datetime(2024, 12, 16, 0, 0, tzinfo=PARIS)
    js = rules.parse_json_curve(
        {
            "period": "PT600S",
            "startsAt": "2024-12-15T23:00:00.000Z",
            "endsAt": "2024-12-16T23:00:00.000Z",
            "values": [321, 294, None],
        }
    )
    assert js.points[1] == Point(dt.datetime(2024, 12, 15, 23, 10, tzinfo=UTC), 294)
    assert js.points[2].watts is None
    assert rules.parse_csv_curve(rules.curve_csv(csv_curve.points)).points == csv_curve.points
    with pytest.raises(RuleError):
        rules.parse_json_curve({"period": "ten minutes", "startsAt": "x", "values": []})


def test_a_json_curve_shorter_than_its_ends_at_shows_the_missing_tail_as_gaps() -> None:
    """Issue 16: a JSON curve shorter than its ``endsAt`` ended early. 3 values for one day of
    10-minute steps: 144 points, the last 141 gaps; a curve longer than its span is cut there."""
    js = rules.parse_json_curve(
        {
            "period": "PT600S",
            "startsAt": "2024-12-15T23:00:00.000Z",
            "endsAt": "2024-12-16T23:00:00.000Z",
            "values": [321, 294, None],
        }
    )
    assert len(js.points) == 144 and js.end == dt.datetime(2024, 12, 16, 23, 0, tzinfo=UTC)
    assert [p.watts for p in js.points[:3]] == [321, 294, None]
    assert all(p.watts is None for p in js.points[3:])
    assert js.points[-1].start == dt.datetime(2024, 12, 16, 22, 50, tzinfo=UTC)
    longer = rules.parse_json_curve(
        {
            "period": "PT600S",
            "startsAt": "2024-12-15T23:00:00.000Z",
            "endsAt": "2024-12-15T23:20:00.000Z",
            "values": [1, 2, 3, 4],
        }
    )
    assert [p.watts for p in longer.points] == [1, 2]


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("2026-10-20", "2026-10-20T00:00:00[Europe/Paris]"),
        (" 2026-10-20T08:15 ", "2026-10-20T08:15:00[Europe/Paris]"),
        ("2026-10-20T08:15:30", "2026-10-20T08:15:30[Europe/Paris]"),
        ("2026-10-20T00:00:00Z", "2026-10-20T00:00:00Z"),
        ("2026-10-20T00:00:00+01:00", "2026-10-20T00:00:00+01:00"),
        ("2026-10-20T00:00:00[CET]", "2026-10-20T00:00:00[CET]"),
    ],
)
def test_an_operators_date_without_a_zone_is_a_paris_date(typed: str, sent: str) -> None:
    assert rules.paris_argument(typed) == sent


def test_paris_argument_refuses_what_is_not_a_date() -> None:
    with pytest.raises(RuleError, match="not understood"):
        rules.paris_argument("20 octobre")
    assert rules.paris_argument("20/10/2026") == "2026-10-20T00:00:00[Europe/Paris]"  # as operators type it


def test_an_until_in_the_future_is_refused() -> None:
    now = dt.datetime(2026, 11, 18, 10, 53, tzinfo=PARIS)
    request = {"type": "LOADCURVE", "prms": ["00000000000022"], "since": "2026-11-01"}
    with pytest.raises(RuleError, match="in the future"):
        rules.validate_request({**request, "until": "2026-11-18T11:00:00[Europe/Paris]"}, now=now)
    assert rules.validate_request({**request, "until": "2026-11-18T10:00:00[Europe/Paris]"}, now=now)
    with pytest.raises(RuleError, match="not in the past"):
        rules.validate_request({**request, "since": "2026-11-19"}, now=now)
    assert rules.validate_request({**request, "until": "2030-01-01"})  # no ``now``: the document's rules only


def _series(n: int, base: float = 1000.0) -> list[Point]:
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    return [Point(start + i * STEP, base + (i % 7)) for i in range(n)]


@pytest.mark.parametrize("buckets", [1, 7, 60, 80, 118, 500, 5000])
@pytest.mark.parametrize("where", [0, 1, 4321, 10079])
def test_downsample_keeps_a_single_point_peak_and_gap(buckets: int, where: int) -> None:
    points = _series(10080)  # 10 weeks of 10 minutes
    points[where] = Point(points[where].start, 9_999_999)
    gap = (where + 2500) % len(points)
    points[gap] = Point(points[gap].start, None)
    out = rules.downsample(points, buckets)
    assert len(out) <= 2 * buckets
    assert max(hi for _, _, hi in out if hi is not None) == 9_999_999
    assert any(lo is None and hi is None for _, lo, hi in out)
    assert [t for t, _, _ in out] == sorted(t for t, _, _ in out)
    assert min(lo for _, lo, _ in out if lo is not None) == 1000


@pytest.mark.parametrize("buckets", [1, 3, 50, 112])
@pytest.mark.parametrize(("lo", "hi"), [(0, 100_000), (77, 99_991), (1_000, 40_000), (143, 289)])
def test_downsample_by_blocks_is_the_same_as_point_by_point(buckets: int, lo: int, hi: int) -> None:
    """A wide column read from its whole blocks (ten years at "all") gives exactly what reading
    every point gives: each min, max, gap and its time."""
    values: list[float | None] = [float((i * 7919) % 10_007) for i in range(100_000)]
    for i in range(0, 100_000, 997):  # single-point gaps, and whole blocks of gaps
        values[i] = None
    values[144 * 200 : 144 * 203] = [None] * 432
    values[54_321] = 1e9  # a single-point peak
    ts = [float(i * 600) for i in range(100_000)]
    blocks = rules.Blocks.of(values)
    assert rules.downsample_values(ts, values, lo, hi, buckets, blocks) == rules.downsample_values(
        ts, values, lo, hi, buckets
    )


def test_downsample_small_and_empty() -> None:
    points = _series(5)
    assert rules.downsample(points, 10) == [(p.start, p.watts, p.watts) for p in points]
    assert rules.downsample([], 10) == []


def test_stats() -> None:
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    points = [Point(start + i * STEP, w) for i, w in enumerate([600, 1200, None, 600])]
    s = rules.stats(points)
    assert s.max_watts == 1200 and s.max_at == dt.datetime(2024, 1, 1, 1, 10, tzinfo=PARIS)
    assert s.mean_watts == 800 and s.gaps == 1 and s.points == 4
    assert s.energy_kwh == pytest.approx(2400 / 6 / 1000)
    assert s.load_factor == pytest.approx(800 / 1200)
    assert rules.watt_unit(12000) == ("kW", 1000.0) and rules.watt_unit(900) == ("W", 1.0)


@pytest.mark.parametrize(
    "day, hours", [(dt.date(2024, 3, 31), 23), (dt.date(2024, 10, 27), 25), (dt.date(2024, 6, 1), 24)]
)
def test_dst_days(day: dt.date, hours: int) -> None:
    start, end = rules.paris_day_bounds(day)
    year = _series(0)
    t = start - dt.timedelta(hours=3)
    points = []
    while t < end + dt.timedelta(hours=3):
        points.append(Point(t, 1000.0))
        t += STEP
    s = rules.stats(points, start=start, end=end)
    assert s.hours == hours and s.points == hours * 6
    assert s.energy_kwh == pytest.approx(hours * 1.0)
    first = rules.select(points, start, end)
    assert rules.to_paris(first[0].start).time() == dt.time(0)
    assert rules.to_paris(first[-1].start).time() == dt.time(23, 50)
    assert rules.parse_instant(rules.paris_day_argument(day)) == start
    assert year == []
