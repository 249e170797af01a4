"""Email and SMS subscriptions: the subscribe API and page, confirmation, unsubscribing.

Modules: ``addresses`` (email and phone numbers checked and normalised),
``tables`` and ``store`` (pending confirmations, per-address limits, the
subscription audit), ``links`` (signed, expiring confirmation links and
unsubscribe links), ``service`` (request, confirm, unsubscribe; confirmations
go out through the outbox like every other message), ``routes`` (``POST
/api/subscribe``, ``/subscribe``, ``/subscribe/confirm``, ``/subscribe/unsubscribe``).
The channels themselves (rendering, senders) are ``bot.channels.email`` and
``bot.channels.sms``.
"""
