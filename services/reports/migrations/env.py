"""Alembic environment of the reports database."""

from services.reports.adapters.orm import Base
from servicekit.migrate import run_env

run_env(Base.metadata)
