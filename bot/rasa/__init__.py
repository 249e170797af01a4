"""The Rasa edge: Rasa's REST client, its action endpoint, payload syntax and message dicts.

The only package under ``bot/`` that knows Rasa's wire formats or imports ``actions``.
Submodules are imported directly (``bot.rasa.client``) so that ``actions`` can use
``bot.rasa.payloads`` without importing the action server that imports them.
"""
