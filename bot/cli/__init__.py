"""The ``faro`` command line."""
