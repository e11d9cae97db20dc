"""index unit.parent_id (the board's drill-down and has-children probes)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 04:40:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_unit_parent_id", "unit", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_unit_parent_id", table_name="unit")
