# One Rasa 3.6 server (REST channel, HTTP API behind the action token), built by the same
# scripts/setup as a checkout (`scripts/setup rasa` makes /app/.venv-rasa with Faro's
# Rasa speed-ups), with the model trained at build time so replicas start without training.
#
#   docker build -f deploy/docker/rasa.Dockerfile -t faro-rasa:0.1.0 .
#
# Endpoints: deploy/endpoints.scale-out.yml (PostgreSQL tracker store, Redis lock store),
# read from FARO_RASA_PG_* / FARO_RASA_REDIS_* / FARO_ACTION_URL / FARO_ACTION_TOKEN.
FROM python:3.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY scripts/setup scripts/setup
COPY deploy/rasa deploy/rasa
COPY pyproject.toml ./
RUN bash scripts/setup rasa \
    && rm -rf /root/.cache

# The same environment bot/runner.py gives Rasa (quiet, offline, one thread per op).
ENV PATH=/app/.venv-rasa/bin:$PATH \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONWARNINGS=ignore \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    TF_NUM_INTRAOP_THREADS=1 \
    TF_NUM_INTEROP_THREADS=1 \
    OMP_NUM_THREADS=1

COPY config.yml domain.yml credentials.yml endpoints.yml ./
COPY data/nlu data/nlu
COPY data/rules data/rules
COPY deploy/endpoints.scale-out.yml deploy/endpoints.scale-out.yml
RUN rasa train --config config.yml --domain domain.yml \
        --data data/nlu data/rules \
        --out /app/models --fixed-model-name faro \
    && rm -rf /root/.cache .rasa

COPY deploy/docker/rasa-entrypoint.sh /usr/local/bin/faro-rasa
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/faro --create-home faro
USER 10001:10001
ENV HOME=/var/lib/faro \
    FARO_RASA_PORT=5005 \
    FARO_RASA_ENDPOINTS=deploy/endpoints.scale-out.yml
EXPOSE 5005
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/' % os.environ.get('FARO_RASA_PORT', '5005'), timeout=4)"]
ENTRYPOINT ["faro-rasa"]
