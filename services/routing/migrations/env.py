"""Alembic environment of the routing database."""

from services.routing.adapters.orm import Base
from servicekit.migrate import run_env

run_env(Base.metadata)
