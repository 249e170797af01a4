# The app (channels, action endpoint, FAQ index, staff console), built by the same
# scripts/setup as a checkout: `scripts/setup app` makes /app/.venv.
#
#   docker build -f deploy/docker/app.Dockerfile -t faro-app:0.1.0 .
#
# torch: setup installs FARO_TORCH_SPEC (torch==2.13.0). Pass the PyTorch CPU index as
# --build-arg FARO_TORCH_INDEX_URL=... for a CPU-only image (PyPI's Linux wheel is the
# CUDA build, several GB larger). See docs/deploy.md.
FROM python:3.11-slim-bookworm

ARG FARO_TORCH_INDEX_URL=""
ARG FARO_TORCH_SPEC="torch==2.13.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FARO_APP_REQUIREMENT=. \
    FARO_TORCH_INDEX_URL=${FARO_TORCH_INDEX_URL} \
    FARO_TORCH_SPEC=${FARO_TORCH_SPEC}

WORKDIR /app
# Only what the install reads, so code edits do not re-run it.
COPY pyproject.toml README.md ./
COPY scripts/setup scripts/setup
COPY deploy/rasa deploy/rasa
COPY bot bot
COPY actions actions
COPY faq_index faq_index
RUN bash scripts/setup app \
    && rm -rf /root/.cache

# Project files the app reads at run time (FAQ seed, templates, status sample, Rasa
# domain for the action server).
COPY data data
COPY domain.yml config.yml endpoints.yml credentials.yml ./

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/faro --create-home faro
USER 10001:10001

ENV PATH=/app/.venv/bin:$PATH \
    FARO_PROJECT_DIR=/app \
    FARO_DATA_DIR=/var/lib/faro \
    HOME=/var/lib/faro \
    FARO_HOST=0.0.0.0 \
    FARO_PORT=8000 \
    HF_HUB_OFFLINE=1
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('FARO_PORT', '8000'), timeout=4)"]
CMD ["faro", "serve"]
