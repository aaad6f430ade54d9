# Venture CRM in a container: one process (web app, REST API, scheduler), as non-root user
# "crm" (uid 10001), its data in the /data volume, health from /readyz.
#
#   docker build -t venture-crm .
#   docker compose up -d            # see docker-compose.yml and docs/deploy.md
#
# BASE_IMAGE: any Debian-based image with python3 (3.11+) and its venv module; the default is
# the official slim image. tests/deploy/test_container.py builds it on a Debian bookworm root
# made with debootstrap, as the test machine reaches no image registry.
ARG BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRM_DATA_DIR=/data \
    CRM_ENV=production \
    HOME=/data \
    MPLCONFIGDIR=/tmp/matplotlib \
    JUPYTER_RUNTIME_DIR=/tmp/jupyter \
    IPYTHONDIR=/tmp/ipython \
    PATH=/opt/venture-crm/.venv/bin:$PATH

RUN useradd --uid 10001 --no-create-home --user-group --home-dir /data --shell /usr/sbin/nologin crm \
    && install -d -o crm -g crm -m 0700 /data

WORKDIR /opt/venture-crm

# The pinned dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python3 -m venv .venv \
    && .venv/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && .venv/bin/pip install --quiet -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN .venv/bin/pip install --quiet --no-deps -e . \
    && chmod 0755 deploy/container-entrypoint.sh

USER crm
VOLUME ["/data"]
EXPOSE 5006
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5006/readyz', timeout=4)"]
ENTRYPOINT ["/opt/venture-crm/deploy/container-entrypoint.sh"]
