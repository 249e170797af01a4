"""Estimates are quoted only when an update gives one."""

from __future__ import annotations

import pytest

from bot.status.eta import find_eta, find_next_update, sentences
from tests.helpers.status_builders import FIXTURES, fixture


@pytest.mark.parametrize(
    ("text", "eta"),
    [
        (
            "Looks like a bad deploy. Should be fixed in a few minutes.",
            "Should be fixed in a few minutes.",
        ),
        (
            "We expect card payments to be back to normal by 15:30 UTC. Next update in 30 minutes.",
            "We expect card payments to be back to normal by 15:30 UTC.",
        ),
        ("The ETA for a full fix is 2 hours.", "The ETA for a full fix is 2 hours."),
        ("we'll do quick fix latest by tomorrow !!!", "we'll do quick fix latest by tomorrow !!!"),
        (
            "Service should be restored within the next 2 hours.",
            "Service should be restored within the next 2 hours.",
        ),
        (
            "Estimamos que el servicio estará restablecido en unas 2 horas.",
            "Estimamos que el servicio estará restablecido en unas 2 horas.",
        ),
        ("Prevemos resolverlo antes de las 15:00.", "Prevemos resolverlo antes de las 15:00."),
    ],
)
def test_estimates_are_found(text: str, eta: str) -> None:
    assert find_eta(text) == eta


@pytest.mark.parametrize(
    "text",
    [
        "We are investigating reports of declined card payments.",
        "A fix has been implemented and we are monitoring the results.",
        "We will provide another update within 60 minutes.",
        "From 17:39-18:12 UTC GitHub was down in parts of North America.",
        "Estamos investigando el problema.",
        "Publicaremos la próxima actualización en 30 minutos.",
    ],
)
def test_no_estimate_is_invented(text: str) -> None:
    assert find_eta(text) is None


def test_next_update_promises() -> None:
    assert find_next_update("Working on it. We will post the next update by 10:45 UTC.") == (
        "We will post the next update by 10:45 UTC."
    )
    assert find_next_update("Publicaremos la próxima actualización en 30 minutos.") is not None
    assert find_next_update("We are investigating.") is None


def test_recorded_incidents_give_no_estimate_except_where_they_do() -> None:
    found: dict[str, str] = {}
    for path in sorted((FIXTURES / "incidents").glob("*.json")):
        for u in fixture("incidents", path.name)["incident"]["incident_updates"]:
            eta = find_eta(u["body"])
            if eta:
                found[path.stem] = eta
    # Only the 2012 "Should be fixed in a few minutes." carries an estimate.
    assert list(found) == ["k54wdph62msh"]
    assert "Should be fixed in a few minutes" in found["k54wdph62msh"]


def test_sentences_split_on_newlines_and_stops() -> None:
    assert sentences("One. Two!\nThree") == ["One.", "Two!", "Three"]


@pytest.mark.parametrize(
    "text",
    [
        "Within two minutes of being alerted we reverted the change.",
        "We are working on it and will post an update soon.",
        "Esta mañana detectamos el problema.",
        "By 10:00 UTC the backlog had cleared.",
    ],
)
def test_history_and_update_promises_are_not_estimates(text: str) -> None:
    assert find_eta(text) is None
