# syntax=docker/dockerfile:1
# One image for the four services; the command picks the service:
#   docker build -t microcred:dev .
#   docker run --rm microcred:dev services.issuer.main      (ENTRYPOINT is `python -m`)
# docker-compose.yml and the Helm chart (deploy/k8s/microcred) set the command per service.
#
# Stage 1 installs the pinned dependencies (constraints.txt) and the project into /opt/venv.
# Stage 2 copies only that venv onto a clean python:3.11-slim: no compiler, no pip cache, no sources,
# a non-root user. Every runtime dependency ships manylinux wheels for CPython 3.11, so the builder
# needs no build tools either; if one ever does, add them to the builder stage only.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml or constraints.txt change.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt

# Then the project itself (no dependency resolution: everything is already pinned above).
COPY README.md ./
COPY microcred ./microcred
COPY services ./services
RUN pip install --no-deps . \
    && python -m compileall -q /opt/venv/lib/python3.11/site-packages/microcred /opt/venv/lib/python3.11/site-packages/services \
    && pip check

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="microcred" \
      org.opencontainers.image.description="Shared infrastructure for EU micro-credentials: issuer, revocation, wallet, verifier" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed numeric uid/gid so that Kubernetes `runAsNonRoot` can verify it and volumes can be chowned to it.
RUN groupadd --system --gid 10001 microcred \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin microcred \
    && mkdir -p /var/lib/microcred/keys /etc/microcred/tls \
    && chown -R 10001:10001 /var/lib/microcred \
    && chmod 0700 /var/lib/microcred/keys

COPY --from=builder /opt/venv /opt/venv

# Containers bind every interface; data and keystore live on a volume (issuer, revocation): the root
# filesystem may be read-only.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MICROCRED_GRPC_HOST=0.0.0.0 \
    MICROCRED_HTTP_HOST=0.0.0.0 \
    MICROCRED_REST_HOST=0.0.0.0 \
    MICROCRED_TLS_DIR=/etc/microcred/tls \
    MICROCRED_DATA_DIR=/var/lib/microcred \
    MICROCRED_KEYSTORE_DIR=/var/lib/microcred/keys

USER 10001:10001
WORKDIR /
EXPOSE 50051 50052 8080 8081 8082

ENTRYPOINT ["python", "-m"]
CMD ["services.verifier.main"]
