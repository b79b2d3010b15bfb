"""`python -m gateway`: settings once, logging and tracing, then uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import sys

import uvicorn

from gateway.app import create_app
from gateway.config import GatewaySettings
from servicekit.logs import setup_logging
from servicekit.telemetry import setup_tracing, shutdown_tracing

SERVICE = "gateway"


def main() -> None:
    """Run the HTTP gateway; uvicorn handles SIGTERM by draining open requests."""
    settings = GatewaySettings()
    setup_logging(SERVICE, settings.log_level)
    setup_tracing(SERVICE, settings.otlp_endpoint)
    host, port = settings.host_port
    # proxy_headers off: forwarded headers are honoured in the app, from GATEWAY_TRUSTED_PROXIES only.
    config = uvicorn.Config(
        create_app(settings), host=host, port=port, loop="uvloop", http="httptools", lifespan="on",
        server_header=False, date_header=True, log_config=None, access_log=False, proxy_headers=False,
        timeout_graceful_shutdown=settings.shutdown_grace,
    )
    # uvicorn drains on SIGTERM, then re-raises the signal; exiting 0 here (instead of dying by the
    # default action) lets the finally below flush buffered spans.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        uvicorn.Server(config).run()
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()
