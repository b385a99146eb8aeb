"""Each user's language (/language, or their app's when they last followed something).

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the languages table."""
    op.create_table(
        "languages",
        sa.Column("user_id", sa.BigInteger, primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("chosen", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop it again."""
    op.drop_table("languages")
