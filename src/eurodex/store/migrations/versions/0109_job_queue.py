"""cluster mode: procrastinate's job queue in the register's own PostgreSQL database

Revision ID: 0109
Revises: 0108
Create Date: 2026-12-06 09:30:00

Workers (``eurodex worker``) take harvests, verification batches, spec captures, scoring and
retention from this queue (eurodex.jobs.queue). The schema is procrastinate's own, for the
version pinned in pyproject.toml; upgrading procrastinate means adding a revision that runs
its migration scripts. SQLite has no queue: there the jobs run inside the web process.
"""

from alembic import op

revision = "0109"
down_revision = "0108"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is not None:
        return  # installed by procrastinate's own tool before eurodex managed it
    from procrastinate.schema import SchemaManager

    # The driver's connection, inside the migration's transaction: the schema is many
    # statements with dollar quotes and percent signs, which no bind-parameter parsing must
    # touch.
    bind.connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for (table,) in bind.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate%%'").all():
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    for (signature,) in bind.exec_driver_sql(
            "SELECT p.oid::regprocedure::text FROM pg_proc AS p "
            "WHERE p.proname LIKE 'procrastinate%%'").all():
        op.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    for (name,) in bind.exec_driver_sql(
            "SELECT typname FROM pg_type WHERE typname LIKE 'procrastinate%%' "
            "AND typtype = 'e'").all():
        op.execute(f"DROP TYPE IF EXISTS {name} CASCADE")
