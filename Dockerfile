# One image for every congdanso process; compose.yaml picks the process with `command:`.
#   python -m services.{identity,reports,routing,notify} [migrate|seed]   |   python -m gateway
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Pinned dependencies first, in their own layer, so code edits do not reinstall them.
COPY requirements.lock ./
RUN pip install -r requirements.lock

# Copy only what the image needs, by name: the working tree also holds .venv/, var/ and locally
# generated stubs, which must not leak into the image.
COPY pyproject.toml README.md LICENSE ./
COPY protos ./protos
COPY servicekit ./servicekit
COPY services ./services
COPY gateway ./gateway
COPY bench ./bench

# Generated stubs are not committed (DESIGN.md §3): build them here, as `make` does locally.
# The touch makes every generated directory a regular package, so `pip install .` picks them up.
RUN python -m grpc_tools.protoc -Iprotos --python_out=. --grpc_python_out=. --pyi_out=. \
        $(find protos -name '*.proto') \
    && find congdanso -type d -exec touch {}/__init__.py \; \
    && pip install --no-deps . \
    && rm -rf build *.egg-info \
    && python -c "import congdanso, servicekit, services, gateway"

# Run as an unprivileged user; var/ (embedded-mode files, CDS_VAR_DIR) is its only writable place.
# var/media exists in the image so that a new volume mounted there (compose: reports-media) starts
# owned by that user, not by root.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var/media && chown -R app:app /app/var
USER app

# gateway 8080; identity/reports/routing/notify gRPC 50051-50054
EXPOSE 8080 50051 50052 50053 50054

# Default process is the gateway, so the default health check is its readiness probe; compose
# overrides it for the gRPC services with `python -m servicekit.healthcheck 127.0.0.1:5005x`.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=3)"]

CMD ["python", "-m", "gateway"]
