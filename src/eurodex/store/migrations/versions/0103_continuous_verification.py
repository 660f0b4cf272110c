"""continuous verification: hourly check roll-ups, loop schedules, events, spec refresh

Revision ID: 0103
Revises: 0001
Create Date: 2026-12-05 11:00:00

``check_rollups`` keeps one row per entry and UTC hour forever, so raw checks can be deleted
after 90 days without losing uptime history. ``schedules`` persists when each entry is next
due in the uptime-probe and full-verification loops, so a restart resumes them. ``events``
records what happened to an entry (state changes, schema changes, new and retired entries)
for feeds. ``schemas`` gains when its spec URL was last re-fetched and why that failed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0103"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("decisive", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("total_latency_ms", sa.Integer(), nullable=False),
        sa.Column("latency_samples", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "hour", name="uq_check_rollups_entry_hour"),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("loop", sa.String(length=8), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "loop", name="uq_schedules_entry_loop"),
    )
    op.create_index("ix_schedules_loop_due", "schedules", ["loop", "next_due_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index("ix_events_entry_at", "events", ["entry_id", "at"])
    op.create_index("ix_checks_started_at", "checks", ["started_at"])
    with op.batch_alter_table("schemas") as batch_op:
        batch_op.add_column(sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refresh_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schemas") as batch_op:
        batch_op.drop_column("refresh_error")
        batch_op.drop_column("refreshed_at")
    op.drop_index("ix_checks_started_at", table_name="checks")
    op.drop_index("ix_events_entry_at", table_name="events")
    op.drop_index("ix_events_at", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_schedules_loop_due", table_name="schedules")
    op.drop_table("schedules")
    op.drop_table("check_rollups")
