"""Alembic environment and revisions. Imported only when a store needs creating or upgrading."""
