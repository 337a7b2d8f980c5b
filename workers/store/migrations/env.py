"""Alembic environment: runs migrations on the URL given by :func:`workers.store.db.alembic_config`."""

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

import workers.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import workers.store.webhooks  # noqa: F401  (its tables too: autogenerate would otherwise drop them)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    """Run migrations with a live connection."""
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
