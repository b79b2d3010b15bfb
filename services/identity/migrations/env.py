"""Alembic environment of the identity database."""

from services.identity.adapters.orm import Base
from servicekit.migrate import run_env

run_env(Base.metadata)
