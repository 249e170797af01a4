"""Alembic revisions of the app database, run by :meth:`bot.db.Database.open` (no alembic.ini).

Revisions are written by hand against frozen table definitions (never the live
ones in the stores, which move on). Name every new constraint explicitly: the
0001 unique and foreign-key constraints are unnamed, as ``create_all`` made them.
"""
