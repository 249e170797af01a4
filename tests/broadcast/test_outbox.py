"""The outbox: created once with its broadcast, claimed, marked, recovered after a crash."""

from __future__ import annotations

from bot.broadcast.outbox import Broadcast, Delivery, Outbox


def deliveries(n: int, channel: str = "telegram") -> list[Delivery]:
    return [
        Delivery(
            conversation_id=f"{channel}:{i}",
            channel=channel,
            address=str(i),
            lang="en",
            text=f"m{i}",
        )
        for i in range(n)
    ]


def test_a_broadcast_is_created_once_per_key(outbox: Outbox) -> None:
    first = outbox.enqueue(Broadcast(key="update:i:1", kind="new"), deliveries(3))
    again = outbox.enqueue(Broadcast(key="update:i:1", kind="new"), deliveries(5))
    assert first is not None and again is None
    [progress] = outbox.progress()
    assert progress.recipients == 3 and progress.counts == {"pending": 3}
    assert outbox.known(["update:i:1", "update:i:2"]) == {"update:i:1"}


def test_one_row_per_recipient(outbox: Outbox) -> None:
    twice = deliveries(2) + deliveries(2)
    bid = outbox.enqueue(Broadcast(key="k", kind="announcement"), twice)
    assert bid is not None
    assert len(outbox.audit(broadcast_id=bid)) == 2


def test_claim_send_and_mark(outbox: Outbox) -> None:
    outbox.enqueue(Broadcast(key="k", kind="new"), deliveries(5) + deliveries(2, "web"))
    first = outbox.claim(["telegram"], "me", limit=3)
    assert [i.conversation_id for i in first] == ["telegram:0", "telegram:1", "telegram:2"]
    assert all(i.attempts == 1 for i in first)
    second = outbox.claim(["telegram"], "me", limit=10)
    assert [i.conversation_id for i in second] == ["telegram:3", "telegram:4"]
    assert outbox.claim(["telegram"], "me", limit=10) == []
    outbox.sent(first[0].id)
    outbox.retired(first[1].id, "blocked")
    outbox.failed(first[2].id, "bad request")
    [progress] = outbox.progress()
    assert progress.counts == {"sent": 1, "retired": 1, "failed": 1, "sending": 2, "pending": 2}
    assert not progress.done


def test_retry_waits_then_gives_up(outbox: Outbox) -> None:
    outbox.enqueue(Broadcast(key="k", kind="new"), deliveries(1))
    [item] = outbox.claim(["telegram"], "me", limit=1)
    assert outbox.retry(item, "timeout", delay_s=60)
    assert outbox.claim(["telegram"], "me", limit=1) == []  # not due yet
    outbox.enqueue(Broadcast(key="k2", kind="new"), deliveries(1))
    [item2] = outbox.claim(["telegram"], "me", limit=1)
    assert outbox.retry(item2, "t", delay_s=0)
    [again] = outbox.claim(["telegram"], "me", limit=1)
    assert again.id == item2.id and again.attempts == 2
    assert outbox.retry(again, "t", delay_s=0)
    [third] = outbox.claim(["telegram"], "me", limit=1)
    assert third.attempts == 3
    assert not outbox.retry(third, "t", delay_s=0)  # max_attempts=3: failed for good
    [row] = outbox.audit(states=("failed",))
    assert row.outbox_id == item2.id and row.error and "gave up after 3 attempts" in row.error


def test_recover_requeues_only_what_dead_owners_held(outbox: Outbox) -> None:
    outbox.enqueue(Broadcast(key="k", kind="new"), deliveries(4))
    dead = outbox.claim(["telegram"], "host:1:dead", limit=2)
    alive = outbox.claim(["telegram"], "host:2:alive", limit=2)
    assert outbox.recover(lambda owner: owner != "host:1:dead") == 2
    again = outbox.claim(["telegram"], "host:3:new", limit=10)
    assert sorted(i.id for i in again) == sorted(i.id for i in dead)
    assert all(i.interrupted for i in again)
    assert {r.state for r in outbox.audit() if r.outbox_id in {i.id for i in alive}} == {"sending"}


def test_expired_leases_are_recovered(outbox: Outbox) -> None:
    outbox.enqueue(Broadcast(key="k", kind="new"), deliveries(1))
    outbox.claim(["telegram"], "far:1:x", limit=1, lease_s=-1)
    assert outbox.recover(lambda owner: True) == 1


def test_audit_per_recipient(outbox: Outbox) -> None:
    b1 = outbox.enqueue(Broadcast(key="update:i:1", kind="new", update_id="1"), deliveries(2))
    b2 = outbox.enqueue(Broadcast(key="update:i:2", kind="update", update_id="2"), deliveries(2))
    [item] = [i for i in outbox.claim(["telegram"], "me", limit=10) if i.broadcast_id == b1][:1]
    outbox.sent(item.id)
    rows = outbox.audit(conversation_id=item.conversation_id)
    assert [(r.broadcast_id, r.update_id, r.state) for r in rows] == [
        (b2, "2", "sending"),
        (b1, "1", "sent"),
    ]
    assert rows[1].sent_at is not None and rows[1].text == item.text


def test_one_holder_per_channel(outbox: Outbox) -> None:
    alive = {"h:1:a", "h:2:b"}

    def is_alive(owner: str) -> bool:
        return owner in alive

    assert outbox.hold_channel("telegram", "h:1:a", lease_s=30, owner_alive=is_alive)
    assert outbox.hold_channel("telegram", "h:1:a", lease_s=30, owner_alive=is_alive)  # renew
    assert not outbox.hold_channel("telegram", "h:2:b", lease_s=30, owner_alive=is_alive)
    assert outbox.hold_channel("slack", "h:2:b", lease_s=30, owner_alive=is_alive)
    alive.discard("h:1:a")  # its process died: taken over at once
    assert outbox.hold_channel("telegram", "h:2:b", lease_s=30, owner_alive=is_alive)
    outbox.release_channel("telegram", "h:2:b")
    assert outbox.hold_channel("telegram", "h:3:c", lease_s=-1, owner_alive=lambda o: True)
    # an expired lease is taken even from a holder that may be alive elsewhere
    assert outbox.hold_channel("telegram", "h:2:b", lease_s=30, owner_alive=lambda o: True)
