"""Static checks of the container deployment: compose.yaml, Dockerfile, deploy/otel-collector.yaml.

No Docker engine is needed: the compose file is validated against the compose-spec JSON schema
bundled with check-jsonschema (offline) and its topology is checked against DESIGN.md §2 and §8.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GRPC_SERVICES = ["identity", "reports", "routing", "notify"]
APP_SERVICES = [*GRPC_SERVICES, "gateway"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    """The service's environment as a dict, whichever of the two compose syntaxes it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def argv(value: str | list) -> list[str]:
    """A command / healthcheck test as a list of arguments."""
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def nats_nodes(services: dict) -> list[str]:
    return sorted(name for name, svc in services.items() if str(svc.get("image", "")).startswith("nats:"))


def test_compose_matches_compose_spec_schema() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr


def test_app_services_share_one_image_built_from_root(services: dict) -> None:
    images = set()
    for name in APP_SERVICES:
        svc = services[name]
        build = svc.get("build")
        context = build.get("context") if isinstance(build, dict) else build
        assert context in (".", "./"), f"{name} must build the root Dockerfile"
        images.add(svc.get("image"))
    assert images == {"congdanso:dev"}


def test_each_grpc_service_has_its_own_healthy_postgres(services: dict) -> None:
    db_hosts = []
    for name in GRPC_SERVICES:
        svc = services[name]
        url = env_of(svc)[f"{name.upper()}_DATABASE_URL"]
        parts = urlsplit(url)
        assert parts.scheme == "postgresql+asyncpg", url
        host = parts.hostname
        db_hosts.append(host)
        assert str(services[host]["image"]).startswith("postgres:"), host
        assert svc["depends_on"][host]["condition"] == "service_healthy"
        assert "pg_isready" in argv(services[host]["healthcheck"]["test"])
        assert env_of(services[host]).get("POSTGRES_DB") == parts.path.lstrip("/")
    assert len(set(db_hosts)) == len(GRPC_SERVICES), f"databases must not be shared: {db_hosts}"
    assert "gateway" not in {h.split("-")[0] for h in db_hosts}


def test_nats_is_a_three_node_jetstream_cluster(services: dict) -> None:
    nodes = nats_nodes(services)
    assert len(nodes) == 3, nodes
    for node in nodes:
        cmd = argv(services[node]["command"])
        assert "-js" in cmd or "--jetstream" in cmd, node
        assert cmd[cmd.index("--cluster_name") + 1] == "cds"
        routes = cmd[cmd.index("--routes") + 1].split(",")
        assert {urlsplit(r).hostname for r in routes} == set(nodes), node
        assert all(urlsplit(r).port == 6222 for r in routes)
        assert "healthz" in " ".join(argv(services[node]["healthcheck"]["test"]))
    for name in GRPC_SERVICES:
        nats_url = env_of(services[name])["NATS_URL"]
        assert {urlsplit(u).hostname for u in nats_url.split(",")} == set(nodes), name
        for node in nodes:
            assert services[name]["depends_on"][node]["condition"] == "service_healthy"


def test_every_app_service_has_a_healthcheck(services: dict) -> None:
    for name in APP_SERVICES:
        check = services[name].get("healthcheck") or {}
        assert not check.get("disable"), name
        test = argv(check.get("test", []))
        assert test and test[0] in ("CMD", "CMD-SHELL"), name
    for name in GRPC_SERVICES:
        test = argv(services[name]["healthcheck"]["test"])
        assert test[1:4] == ["python", "-m", "servicekit.healthcheck"], name
    assert "/readyz" in " ".join(argv(services["gateway"]["healthcheck"]["test"]))


def test_every_depends_on_waits_for_a_healthy_service(services: dict) -> None:
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        # The short (list) syntax means service_started, which is not allowed.
        assert isinstance(deps, dict), f"{name}: depends_on must use the long syntax"
        for target, spec in deps.items():
            assert spec.get("condition") == "service_healthy", f"{name} -> {target}"
            assert services[target].get("healthcheck"), f"{name} waits on {target}, which has no healthcheck"
    assert set(services["gateway"]["depends_on"]) >= set(GRPC_SERVICES)


def test_telemetry_goes_to_the_collector_and_jaeger(services: dict) -> None:
    collectors = [n for n, s in services.items() if "opentelemetry-collector" in str(s.get("image", ""))]
    jaegers = [n for n, s in services.items() if "jaegertracing/all-in-one" in str(s.get("image", ""))]
    assert len(collectors) == 1 and len(jaegers) == 1
    collector, jaeger = collectors[0], jaegers[0]
    for name in APP_SERVICES:
        env = env_of(services[name])
        endpoint = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert (endpoint.hostname, endpoint.port) == (collector, 4317), name
        assert env["OTEL_SERVICE_NAME"] == name
    # The mounted collector config exists and forwards OTLP traces to the jaeger service.
    mounts = [str(v).split(":") for v in services[collector].get("volumes", [])]
    config_file = next(ROOT / src for src, *_ in mounts if src.endswith("otel-collector.yaml"))
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    traces = config["service"]["pipelines"]["traces"]
    assert "otlp" in traces["receivers"]
    endpoints = [config["exporters"][e]["endpoint"] for e in traces["exporters"]]
    assert f"{jaeger}:4317" in endpoints
    assert env_of(services[jaeger]).get("COLLECTOR_OTLP_ENABLED") == "true"


def test_only_gateway_and_jaeger_ui_are_published(services: dict) -> None:
    published = {}
    for name, svc in services.items():
        for port in svc.get("ports", []):
            target = port["target"] if isinstance(port, dict) else int(str(port).rsplit(":", 1)[-1])
            published.setdefault(name, set()).add(target)
    assert published == {"gateway": {8080}, "jaeger": {16686}}
    assert env_of(services["gateway"])["GATEWAY_HTTP_ADDR"].rsplit(":", 1)[1] == "8080"


def test_grpc_addresses_match_listen_addresses(services: dict) -> None:
    for name in APP_SERVICES:
        for key, value in env_of(services[name]).items():
            m = re.fullmatch(r"([A-Z]+)_GRPC_ADDR", key)
            if not m:
                continue
            host, port = value.rsplit(":", 1)
            target = m.group(1).lower()
            assert host == target, f"{name}: {key}={value} must point at the {target} service"
            listen = env_of(services[target])[f"{m.group(1)}_GRPC_LISTEN"]
            assert listen == f"0.0.0.0:{port}", f"{name}: {key}={value} but {target} listens on {listen}"
            assert re.fullmatch(r"5005\d", port)
            # The healthcheck probes the port the service really listens on.
            assert argv(services[target]["healthcheck"]["test"])[-1] == f"127.0.0.1:{port}"


def test_dockerfile_uses_python_312_or_newer() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    m = re.search(r"^FROM\s+(?:--platform=\S+\s+)?python:(\d+)\.(\d+)", text, re.MULTILINE)
    assert m, "Dockerfile must start from an official python image"
    assert (int(m.group(1)), int(m.group(2))) >= (3, 12)
    assert "grpc_tools.protoc" in text and re.search(r"^USER\s+(?!root\b)\S+", text, re.MULTILINE)


def test_each_service_sets_itself_up_then_serves_in_one_process(services: dict) -> None:
    from servicekit.cli import ServiceCli

    async def serve(settings) -> None:  # noqa: ANN001
        raise AssertionError("not run")

    for name in GRPC_SERVICES:
        cmd = argv(services[name]["command"])
        assert cmd[:3] == ["python", "-m", f"services.{name}"], cmd
        cli = ServiceCli(name, dict, serve, Path("services") / name / "migrations")
        assert cmd[3:] == ["serve", "--setup"] and cli._runner(cmd[3], cmd[4:]) is not None, cmd


def test_reports_keeps_photos_on_a_named_volume_the_app_user_owns(compose: dict, services: dict) -> None:
    """Photos in the container's file system were lost whenever the container was recreated."""
    media = env_of(services["reports"])["REPORTS_MEDIA_DIR"]
    mounts = [str(v).split(":") for v in services["reports"].get("volumes", [])]
    volume = next(source for source, target, *_ in mounts if target == media)
    assert volume in compose["volumes"]
    # a new volume takes the ownership of the image's directory: it must exist there, owned by `app`
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(rf"mkdir -p {re.escape(media)}\b.*chown -R app:app /app/var", dockerfile)
