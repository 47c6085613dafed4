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
RUN pip install . \
    && useradd --system --uid 1000 --home-dir /data mailsandbox \
    && mkdir -p /data \
    && chown mailsandbox /data

USER mailsandbox
VOLUME /data
EXPOSE 1025 8025

# Inside the container it must listen on all interfaces; publish the ports to 127.0.0.1 if
# only this machine should reach it (see docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8025/readyz', timeout=2)"]

ENTRYPOINT ["mailsandbox"]
CMD ["serve", "--smtp", "0.0.0.0:1025", "--http", "0.0.0.0:8025", "--db", "/data/mailsandbox.db"]
