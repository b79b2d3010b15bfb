"""Alembic environment of the notify database."""

from services.notify.adapters.orm import Base
from servicekit.migrate import run_env

run_env(Base.metadata)
