"""servicekit.cli: the sub-commands every service shares, with fake serve/seed and a fake migration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from servicekit import cli, migrate


@dataclass
class FakeSettings:
    database_url: str = "sqlite+aiosqlite:///unused.db"


@pytest.fixture
def calls(monkeypatch) -> list:
    """What ran, in order; migrate.upgrade is replaced by a recorder."""
    record: list = []
    monkeypatch.setattr(migrate, "upgrade", lambda folder, url: record.append(("migrate", folder.name, url)))
    return record


def service(calls: list, *, seed_fails: bool = False, **extras: cli.Extra) -> cli.ServiceCli:
    async def serve(settings: FakeSettings) -> None:
        calls.append("serve")

    async def seed(settings: FakeSettings) -> None:
        if seed_fails:
            raise RuntimeError("no such table: wards")
        calls.append("seed")

    return cli.ServiceCli("reports", FakeSettings, serve, Path("migrations"), seed=seed, extras=extras)


def test_help_prints_the_usage_with_the_extra_commands(calls, capsys):
    svc = service(calls, **{"import-registry": cli.Extra(lambda settings, file: None, ("FILE",))})
    svc.main(["--help"])
    assert capsys.readouterr().out.strip() == (
        "usage: python -m services.reports [serve [--setup]|setup|migrate|seed|import-registry FILE]")
    assert calls == []


def test_serve_is_the_default_and_does_not_set_up(calls):
    service(calls).main([])
    service(calls).main(["serve"])
    assert calls == ["serve", "serve"]


def test_serve_with_setup_migrates_and_seeds_first(calls):
    service(calls).main(["serve", "--setup"])
    assert calls == [("migrate", "migrations", "sqlite+aiosqlite:///unused.db"), "seed", "serve"]


def test_setup_migrate_and_seed_alone(calls):
    service(calls).main(["setup"])
    service(calls).main(["migrate"])
    service(calls).main(["seed"])
    assert [c if isinstance(c, str) else c[0] for c in calls] == ["migrate", "seed", "migrate", "seed"]


def test_failed_setup_exits_78_without_serving(calls, capsys):
    with pytest.raises(SystemExit) as exit_:
        service(calls, seed_fails=True).main(["serve", "--setup"])
    assert exit_.value.code == cli.EXIT_SETUP_FAILED == 78
    assert calls == [("migrate", "migrations", "sqlite+aiosqlite:///unused.db")]
    err = capsys.readouterr().err
    assert "no such table: wards" in err and "reports: setup failed" in err


def test_seed_of_a_service_without_reference_data_does_nothing(calls):
    cli.ServiceCli("notify", FakeSettings, lambda settings: None, Path("migrations")).main(["seed"])
    assert calls == []


def test_extra_command_gets_its_arguments_and_returns_the_exit_status(calls):
    async def import_registry(settings: FakeSettings, file: str) -> int:
        calls.append(("import", file))
        return 1

    with pytest.raises(SystemExit) as exit_:
        service(calls, **{"import-registry": cli.Extra(import_registry, ("FILE",))}).main(["import-registry", "a.csv"])
    assert exit_.value.code == 1 and calls == [("import", "a.csv")]


@pytest.mark.parametrize("argv", [["bogus"], ["serve", "--now"], ["setup", "x"], ["import-registry"]])
def test_unknown_commands_and_wrong_arguments_exit_with_the_usage(calls, argv):
    svc = service(calls, **{"import-registry": cli.Extra(lambda settings, file: None, ("FILE",))})
    with pytest.raises(SystemExit, match="(?s)^usage: python -m services.reports .*not "):
        svc.main(argv)
    assert calls == []
