"""Developer command: autogenerate a service's next Alembic revision against a scratch database.

`python -m servicekit.revision reports "add comments"`
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from alembic import command

from servicekit.migrate import alembic_config, upgrade


def main(service: str, message: str) -> None:
    """Upgrade a scratch SQLite file to head, then autogenerate the difference to the models."""
    migrations = Path("services") / service / "migrations"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/scratch.db"
        upgrade(migrations, url)
        versions = sorted((migrations / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
        rev_id = f"{len(versions) + 1:04d}"
        slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
        command.revision(alembic_config(migrations, url), message=message, autogenerate=True,
                         rev_id=rev_id)
        created = next((migrations / "versions").glob(f"{rev_id}_*.py"))
        created.rename(created.with_name(f"{rev_id}_{slug}.py"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
