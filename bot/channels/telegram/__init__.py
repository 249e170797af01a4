"""The Telegram channel (python-telegram-bot): webhook and long polling, rendering, sending.

Modules: ``webhook`` (the verified route), ``polling`` (getUpdates),
``channel`` (de-duplicate, queue per chat), ``handler`` (update -> turn ->
replies), ``render`` (HTML, 4096-character parts, keyboards), ``callbacks``
and ``store`` (64-byte callback data, update ids), ``sender`` and ``limits``
(Telegram's flood limits, retries), ``wiring`` (from settings).
"""
