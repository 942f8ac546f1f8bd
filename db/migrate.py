"""Schema migrations through alembic, configured in code (no alembic.ini needed at run time)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

__all__ = ["alembic_config", "head_revision", "known_revisions", "upgrade_to_head"]

# The migration scripts live in the repository's top-level alembic/ folder (installed editable).
SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "alembic"

# The advisory lock key that serialises schema upgrades on PostgreSQL (any fixed bigint).
_MIGRATION_LOCK = 0x736E6B6E6574


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


@cache
def known_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(rev.revision for rev in script.walk_revisions())


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade_to_head(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two commands upgrading one server database at once: the second waits here, then
            # finds the schema at head (alembic reads the revision after the lock).
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
