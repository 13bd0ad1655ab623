"""The Alembic migrations build exactly the schema the code declares, and can be walked back."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from tests.servers import fresh_database
from zsticket.store import migrate
from zsticket.store.tables import Base


def test_migrated_schema_matches_the_tables_and_downgrades(database_kind: str, tmp_path: Path) -> None:
    with fresh_database(database_kind, tmp_path) as url:
        engine = create_engine(url)
        try:
            migrate.upgrade(engine)
            with engine.connect() as connection:
                differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert differences == []

            migrate.downgrade(engine, "0002")
            with engine.connect() as connection:  # the comparison does see index differences
                changed = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert {"add_index", "remove_index"} <= {diff[0] for diff in changed}
            indexes = {ix["name"] for ix in inspect(engine).get_indexes("tickets")}
            assert "ix_tickets_submitter_create" in indexes and "ix_tickets_submitter_status_create" not in indexes
            migrate.upgrade(engine)
            indexes = {ix["name"] for ix in inspect(engine).get_indexes("tickets")}
            assert "ix_tickets_submitter_status_create" in indexes and "ix_tickets_submitter_create" not in indexes
        finally:
            engine.dispose()
