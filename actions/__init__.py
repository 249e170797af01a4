"""Faro's Rasa custom actions (rasa-sdk), served by the app at POST /webhook."""
