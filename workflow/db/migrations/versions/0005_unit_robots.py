"""unit_robot: group-chat robots per unit; outbox rows may go to a robot instead of a person

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_robot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("at", sa.JSON(), nullable=False),
        sa.Column("subtree", sa.Boolean(), nullable=False),
        sa.Column("escalations_only", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_unit_robot_unit_id"), "unit_robot", ["unit_id"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("robot_id", sa.Integer(), nullable=True))
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key("fk_outbox_robot_id", "unit_robot", ["robot_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_robot_id", type_="foreignkey")
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("robot_id")
    op.drop_index(op.f("ix_unit_robot_unit_id"), table_name="unit_robot")
    op.drop_table("unit_robot")
