# mailsandbox: SMTP on 1025, web UI + REST/ESP APIs on 8025, SQLite in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY sandbox ./sandbox
COPY web ./web
COPY emulators ./emulators
# The postgres extra (psycopg) lets the same image run team mode (compose.team.yml).
RUN pip install ".[postgres]" \
    && useradd --system --uid 1000 --home-dir /data mailsandbox \
    && mkdir -p /data \
    && chown mailsandbox /data

USER mailsandbox
VOLUME /data
EXPOSE 1025 8025

# The container's settings are environment variables, not flags, so that `docker run -e` and
# compose's `environment:` can change any of them (a flag would win over the environment).
# Inside the container it must listen on all interfaces; publish the ports to 127.0.0.1 if
# only this machine should reach it (see docker-compose.yml).
ENV MAILSANDBOX_SMTP=0.0.0.0:1025 \
    MAILSANDBOX_HTTP=0.0.0.0:8025 \
    MAILSANDBOX_DB=/data/mailsandbox.db

# Asks the address MAILSANDBOX_HTTP names (a wildcard means this container) for /readyz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["mailsandbox", "healthcheck"]

ENTRYPOINT ["mailsandbox"]
CMD ["serve"]
