"""issue.sample_key: a random key per issue, indexed with the stage, for uniform samples

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 00:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sample_key", sa.Integer(), nullable=True))
        batch_op.create_index("ix_issue_stage_sample", ["stage", "sample_key"], unique=False)
    # existing issues get their key here; new ones from the model's default.  Like every
    # bulk UPDATE of issue it bumps the version (a form open across the upgrade reloads)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE issue SET sample_key = floor(random() * 2147483647)::int, version = version + 1"
        )
    else:
        op.execute(
            "UPDATE issue SET sample_key = abs(random()) % 2147483647, version = version + 1"
        )


def downgrade() -> None:
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.drop_index("ix_issue_stage_sample")
        batch_op.drop_column("sample_key")
