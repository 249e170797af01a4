"""Proactive incident updates: subscriptions, broadcasts and their persisted outbox.

- :mod:`bot.broadcast.subscriptions`: who wants updates (all, or some components),
  who asked about an open incident, who was offered a subscription.
- :mod:`bot.broadcast.outbox`: one row per recipient per broadcast, created in the
  same transaction as the broadcast; claimed, sent and marked by delivery workers.
- :mod:`bot.broadcast.compose`: what changed between two status snapshots, worded
  from the staff-editable templates, per language and channel.
- :mod:`bot.broadcast.watcher`: turns each new status snapshot into broadcasts.
- :mod:`bot.broadcast.delivery`: sends the outbox through each channel's sender.
"""
