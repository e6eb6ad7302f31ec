"""Initial schema: users, vacancies, candidates, placements, follow-ups, audit, meta.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("employer_id", sa.String(100), nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_users_key_hash", "users", ["key_hash"], unique=True)
    op.create_table(
        "vacancies",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("employer_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_vacancies_employer_id", "vacancies", ["employer_id"])
    op.create_table(
        "candidates",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.Column("skills_normalised", sa.JSON, nullable=False),
        sa.Column("consent_to_share", sa.Boolean, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("gender", sa.String(20), nullable=True),
        sa.Column("birth_year", sa.Integer, nullable=True),
        sa.Column("erased", sa.Boolean, nullable=False),
        sa.Column("erased_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_candidates_erased", "candidates", ["erased"])
    op.create_table(
        "placements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("candidate_id", sa.String(100), sa.ForeignKey("candidates.id"), nullable=False),
        sa.Column("vacancy_id", sa.String(100), sa.ForeignKey("vacancies.id"), nullable=False),
        sa.Column("employer_id", sa.String(100), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("monthly_wage_pen", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_placements_candidate_id", "placements", ["candidate_id"])
    op.create_index("ix_placements_vacancy_id", "placements", ["vacancy_id"])
    op.create_table(
        "followups",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("placement_id", sa.String(36), sa.ForeignKey("placements.id"), nullable=False),
        sa.Column("visit_date", sa.Date, nullable=False),
        sa.Column("still_employed", sa.Boolean, nullable=False),
        sa.Column("monthly_wage_pen", sa.Float, nullable=True),
        sa.Column("satisfaction", sa.Integer, nullable=True),
        sa.Column("economic_score", sa.Float, nullable=True),
        sa.Column("social_score", sa.Float, nullable=True),
        sa.Column("psychosocial_score", sa.Float, nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_followups_placement_id", "followups", ["placement_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("vacancy_id", sa.String(100), nullable=True),
        sa.Column("candidate_id", sa.String(100), nullable=True),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("taxonomy_version", sa.String(100), nullable=False),
        sa.Column("top_k", sa.Integer, nullable=True),
        sa.Column("results", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at"])


def downgrade() -> None:
    for table in ("audit", "followups", "placements", "candidates", "vacancies", "users", "meta"):
        op.drop_table(table)
