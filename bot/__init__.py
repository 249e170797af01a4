"""Faro's application server: channels, status feed, admin, CLI."""
