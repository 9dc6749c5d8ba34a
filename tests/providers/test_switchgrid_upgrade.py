"""What the previous version (before the msgspec Structs) wrote to the store still reads
after the upgrade: the feed's snapshot, the ask Switchgrid answered (kept under the outbox
action's reference) and, above all, an ask or an order still queued in the outbox, which must
be sent as it would have been. Every payload below was written by that version (its code run
against the simulator on 2026-12-06), pasted as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pupitre.providers.core.api import from_data, to_data
from pupitre.providers.core.outbox import Outbox
from pupitre.providers.switchgrid import feeds
from pupitre.providers.switchgrid.actions import ASK_ACTION, ORDER_ACTION
from pupitre.providers.switchgrid.bodies import AskCreate
from pupitre.providers.switchgrid.models import Ask
from tests.providers.helpers import switchgrid_runtime

PROVIDER = feeds.PROVIDER
ASK_ID = "f6062541-31d0-4664-8589-f8779b025244"
CREATE_ARGS: dict[str, Any] = {  # what the previous version sent for ASK_PAYLOAD (Switchgrid echoes it)
    "electricityContracts": ["e3e70682-c209-4cac-a29f-6fbed82c07cd"],
    "signer": {"firstName": "Jean", "lastName": "Dupont", "email": "j@x.fr"},
    "consentDuration": "1 year",
    "consentCollectionMedium": {"service": "WEB_HOSTED"},
    "scopesAndPurpose": [
        {
            "scopes": [
                {"id": "DETAILS_CONTRACTUELS", "service": "ENEDIS_RAW_API"},
                {
                    "id": "CONSUMPTION_DATA",
                    "service": "ENEDIS_RAW_API",
                    "args": {"types": ["CDC", "IDX", "ENERGIE", "PMAX"], "directions": ["SOUTIRAGE"]},
                },
            ],
            "purposes": ["ENERGY_PERFORMANCE_STUDY"],
        }
    ],
}
ASK_PAYLOAD: dict[str, Any] = {
    "ref": "9423d9254129847c",
    "body": {
        "electricityContracts": ["e3e70682-c209-4cac-a29f-6fbed82c07cd"],
        "signer": {"firstName": "Jean", "lastName": "Dupont", "email": "j@x.fr"},
        "consentCollectionMedium": {"service": "WEB_HOSTED"},
        "consentDuration": "1 year",
        "scopesAndPurpose": [
            {
                "scopes": [
                    {"service": "ENEDIS_RAW_API", "id": "DETAILS_CONTRACTUELS"},
                    {
                        "service": "ENEDIS_RAW_API",
                        "id": "CONSUMPTION_DATA",
                        "args": {"types": ["CDC", "IDX", "ENERGIE", "PMAX"], "directions": ["SOUTIRAGE"]},
                    },
                ],
                "purposes": ["ENERGY_PERFORMANCE_STUDY"],
            }
        ],
    },
    "prms": ["00000000000022"],
    "queued_at": "2024-12-17T10:00:00+01:00",
}
ORDER_PAYLOAD: dict[str, Any] = {
    "ref": "93a4e9dc3e0d2772",
    "body": {
        "requests": [
            {
                "type": "LOADCURVE",
                "prms": ["00000000000022"],
                "since": "2024-12-09T00:00:00Z",
                "until": "2024-12-09T00:30:00Z",
                "direction": "CONSUMPTION",
            }
        ]
    },
    "queued_at": "2024-12-17T10:00:00+01:00",
}
CONTRACT: dict[str, Any] = {
    "nomClientFinalOuDenominationSociale": "ST DUPONT",
    "prm": "00000000000022",
    "id": "e3e70682-c209-4cac-a29f-6fbed82c07cd",
    "categorieClientFinalCode": "PRO",
    "adresseInstallationNormalisee": {
        "ligne1": None,
        "ligne2": None,
        "ligne3": None,
        "ligne4": "10 RUE DE LA PAIX",
        "ligne5": None,
        "ligne6": "75002 PARIS",
        "ligne7": None,
    },
}
SENT_ASK: dict[str, Any] = {  # the snapshot ``switchgrid.sent.<ref>`` once Switchgrid answered
    "ask": {
        "id": ASK_ID,
        "status": "PENDING_USER_ACTION",
        "createdAt": "2024-12-17T09:00:00Z",
        "acceptedAt": None,
        "consentCollectionDetails": {"service": "WEB_HOSTED", "userUrl": "https://app.switchgrid.tech/c/f6062541"},
        "createArgs": CREATE_ARGS,
        "addressCheckResults": {"00000000000022": {"status": "SUCCESS"}},
        "consentIds": {"00000000000022": "1fb797fa-b7d6-467b-af5a-522af87f43fd"},
        "contracts": [CONTRACT],
    }
}
SNAPSHOT: dict[str, Any] = {  # the feed's snapshot (``feeds.dump``)
    "asks": [
        {
            **SENT_ASK["ask"],
            "status": "ACCEPTED",
            "acceptedAt": "2024-12-17T09:00:00Z",
        }
    ],
    "orders": {
        "ccfdba9b-ba26-4851-b5e8-579a7aaf0e89": {
            "id": "ccfdba9b-ba26-4851-b5e8-579a7aaf0e89",
            "status": "SUCCESS",
            "requests": [
                {
                    "type": "LOADCURVE",
                    "status": "SUCCESS",
                    "id": "05d51433-ade9-42b4-afdd-35f80fa34266",
                    "orderedAt": "2024-12-17T09:00:00Z",
                    "completedAt": "2024-12-17T09:00:00.250000Z",
                    "dataUrl": "http://switchgrid.sandbox.invalid/enedis/v2/request/05d51433-ade9-42b4-afdd-35f80fa34266/data",
                    "errorMessage": None,
                    "loadCurve": {
                        "period": "PT600S",
                        "startsAt": "2024-12-09T00:00:00Z",
                        "endsAt": "2024-12-09T00:30:00Z",
                        "values": [2800.0, 2622.0, 2699.0],
                    },
                    "prm": "00000000000022",
                }
            ],
        }
    },
    "errors": {},
}


def test_the_feed_snapshot_reads_whole_and_is_written_back_the_same() -> None:
    data = feeds.load(SNAPSHOT)
    (ask,) = data.asks
    assert (ask.id, ask.status, ask.user_url, ask.prms) == (
        ASK_ID,
        "ACCEPTED",
        SENT_ASK["ask"]["consentCollectionDetails"]["userUrl"],
        ["00000000000022"],
    )
    assert ask.acceptedAt == dt.datetime(2024, 12, 17, 9, tzinfo=dt.timezone.utc)
    (order,) = data.orders.values()
    (request,) = order.requests
    assert request.completedAt == dt.datetime(2024, 12, 17, 9, 0, 0, 250000, tzinfo=dt.timezone.utc)
    assert request.loadCurve is not None and request.loadCurve.values == [2800.0, 2622.0, 2699.0]
    assert feeds.dump(data) == SNAPSHOT  # no field lost, none renamed


def test_the_kept_answer_to_an_ask_reads_whole() -> None:
    ask = from_data(SENT_ASK["ask"], Ask, provider="Switchgrid")
    assert to_data(ask) == SENT_ASK["ask"]
    assert str(ask.contracts[0].adresseInstallationNormalisee) == "10 RUE DE LA PAIX, 75002 PARIS"


def test_a_queued_ask_is_sent_as_the_previous_version_sent_it() -> None:
    assert from_data(ASK_PAYLOAD["body"], AskCreate, provider="Switchgrid").body() == CREATE_ARGS


async def test_an_ask_and_an_order_queued_by_the_previous_version_are_sent_after_the_upgrade(tmp_path: Path) -> None:
    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    ask_item = runtime.store.outbox_add(PROVIDER, ASK_ACTION, ASK_PAYLOAD, runtime.clock.now())
    (ask_delivery,) = await runtime.outbox.drain()
    assert (ask_delivery.outcome, ask_delivery.verified) == ("delivered", True), ask_delivery.message
    (sent,) = sim.asks.values()
    assert sent.body == CREATE_ARGS
    sim.accept(sent.id)
    order_item = runtime.store.outbox_add(PROVIDER, ORDER_ACTION, ORDER_PAYLOAD, runtime.clock.now())
    (order_delivery,) = await runtime.outbox.drain()
    assert (order_delivery.outcome, order_delivery.verified) == ("delivered", True), order_delivery.message
    (placed,) = sim.orders
    session = runtime.connections[PROVIDER].session
    assert session.followed() == [placed] and session.body(placed) == ORDER_PAYLOAD["body"]
    assert ask_item != order_item
    await runtime.aclose()


async def test_an_ask_answered_before_the_upgrade_is_found_by_what_was_kept(tmp_path: Path) -> None:
    """The previous version sent the ask, kept Switchgrid's answer, and stopped before the
    outbox row said so: after the upgrade, the kept answer is read and the ask not sent again."""
    runtime = switchgrid_runtime(tmp_path)
    sim = runtime.simulators[PROVIDER]
    item_id = runtime.store.outbox_add(PROVIDER, ASK_ACTION, ASK_PAYLOAD, runtime.clock.now())
    runtime.store.outbox_sending(item_id, runtime.clock.now())
    created = await runtime.connections[PROVIDER].session.client.post_ask(ASK_PAYLOAD["body"])  # what Switchgrid holds
    assert created.id == ASK_ID  # the simulator's ids are seeded: the same as in the pasted answer
    runtime.store.save_snapshot(feeds.SENT + ASK_PAYLOAD["ref"], SENT_ASK, runtime.clock.now())
    connection = feeds.connect(runtime.settings.switchgrid, runtime.ctx, sandboxed=True)
    outbox = Outbox(runtime.store, runtime.clock, connection.handlers)
    (delivery,) = await outbox.drain()
    assert (delivery.outcome, delivery.verified) == ("delivered", True), delivery.message
    found = [row[4] for row in runtime.store.audit_log(PROVIDER, limit=100) if row[3] == "found"]
    assert [f"#{item_id} answered before the interruption: ask {ASK_ID}" in f for f in found] == [True]
    assert list(sim.asks) == [ASK_ID]
    await runtime.aclose()
