"""The email channel: updates over SMTP as multipart text + HTML, with one-click unsubscribe.

Modules: ``render`` (a composed text -> a MIME message: subject from the
template, the organisation's name and colour, ``List-Unsubscribe`` per RFC
8058, a stable ``Message-ID``), ``sender`` (aiosmtplib, paced, SMTP replies
mapped to the outbox's outcomes: a 5xx on the recipient is a hard bounce that
retires the address), ``bounces`` (DSNs mailed back later, posted to
``/email/bounces``), ``wiring`` (:data:`EMAIL`, from settings).
"""
