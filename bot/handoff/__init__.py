"""Handing a conversation to a person: the queue, claims, agent replies (issue 14)."""
