"""The SMS channel: updates through Twilio's Messages API, fitted to a segment budget, STOP/BAJA.

Modules: ``segments`` (GSM-7 and UCS-2 counted right), ``render`` (a
composed text -> one SMS within the template's segment budget), ``twilio``
(the REST client and its errors), ``sender`` (the outbox's deliverer: paced,
429 honoured, 21610 "unsubscribed" retires the number), ``inbound`` (the
signed webhook Twilio posts replies to: STOP, BAJA, ...), ``wiring``
(:data:`SMS`, from settings).
"""
