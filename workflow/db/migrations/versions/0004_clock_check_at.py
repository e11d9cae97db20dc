"""clock_instance.check_at: when the sweep must next look at a deadline (idle sweeps)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 11:00:00
"""

import sqlalchemy as sa
from alembic import op

from workflow.models import CHECK_NOW, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clock_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("check_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_clock_check_at", ["check_at"], unique=False)
    # every deadline not stopped is looked at by the next sweep, which schedules it
    ci = sa.table(
        "clock_instance", sa.column("status", sa.String), sa.column("check_at", UTCDateTime())
    )
    op.get_bind().execute(sa.update(ci).where(ci.c.status != "stopped").values(check_at=CHECK_NOW))


def downgrade() -> None:
    with op.batch_alter_table("clock_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_clock_check_at")
        batch_op.drop_column("check_at")
