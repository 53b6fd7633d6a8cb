# syntax=docker/dockerfile:1
# One image for both daytwo processes; the Helm chart picks the command (daytwo-operator or daytwo-api).
#   docker build -t daytwo/daytwo:0.1.0 .
# The base is pinned by exact tag. Pin it by digest as well when you build for production
# (python:3.11.14-slim-bookworm@sha256:...): digests could not be fetched where this file was written.

# --- builder: a wheel of daytwo, installed with its pinned dependencies into a venv -----------------
FROM python:3.11.14-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY crds/ crds/
COPY operator/ operator/
COPY api/ api/
RUN python -m venv /opt/daytwo \
 && /opt/daytwo/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/daytwo/bin/pip install /wheels/daytwo-*.whl \
 && /opt/daytwo/bin/python -c "import daytwo.operator.main, daytwo.api.main" \
 && /opt/daytwo/bin/pip uninstall -y pip

# --- runtime: the venv on the same Python, no build tools, non-root -----------------------------------
FROM python:3.11.14-slim-bookworm
LABEL org.opencontainers.image.title="daytwo" \
      org.opencontainers.image.description="Day-2 cloud operations as Kubernetes resources: Kopf operator and REST facade" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /opt/daytwo /opt/daytwo
ENV PATH=/opt/daytwo/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAYTWO_API_HOST=0.0.0.0
# 65532: the conventional "nonroot" uid/gid; the chart's securityContext runs as the same ids.
USER 65532:65532
WORKDIR /tmp
EXPOSE 8000 8080
CMD ["daytwo-operator"]
