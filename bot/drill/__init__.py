"""Drills: a recorded incident replayed through a sandbox stack, with simulated customers."""
