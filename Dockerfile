# Oneiros, CPU image: serves the bundled default model repository on 0.0.0.0:50051 (gRPC),
# :8080 (HTTP/JSON) and :9464 (/metrics). Build from the repository root:
#   make image                                   # podman or docker, whichever is present
#   docker build -t oneiros .
#   podman build --format docker -t oneiros .    # OCI, podman's default, drops HEALTHCHECK
#   docker run -p 50051:50051 -p 8080:8080 -p 9464:9464 oneiros
# Build arguments:
#   BASE_IMAGE   a Debian image with Python 3.11 and its venv module (default python:3.11-slim)
#   TORCH_INDEX  where the CPU build of torch comes from (PyPI's default wheel is the multi-GB CUDA one)
#   WHEELHOUSE   a folder of wheels in the build context (`make wheelhouse`): the build reaches no index
ARG BASE_IMAGE=python:3.11-slim

# Stage 1: a virtual environment with torch and the three distributions, built from the sources.
FROM ${BASE_IMAGE} AS build
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG WHEELHOUSE=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
SHELL ["/bin/sh", "-eu", "-c"]
# The context is mounted (not copied), so that a wheelhouse never lands in a layer. torch comes
# first, in a layer of its own that a change of the sources does not rebuild (podman, buildah).
# hadolint ignore=SC2086
RUN --mount=type=bind,target=/context \
    python3 -m venv /opt/venv; \
    if [ -n "$WHEELHOUSE" ]; then from="--no-index --find-links /context/$WHEELHOUSE"; else from="--index-url $TORCH_INDEX"; fi; \
    /opt/venv/bin/pip install --no-cache-dir $from torch==2.13.0
COPY VERSION pyproject.toml README.md /src/
COPY proto /src/proto
COPY clients/python /src/clients/python
COPY server /src/server
COPY training /src/training
COPY export /src/export
COPY models /src/models
# hadolint ignore=SC2086
RUN --mount=type=bind,target=/context \
    from=""; if [ -n "$WHEELHOUSE" ]; then from="--no-index --find-links /context/$WHEELHOUSE"; fi; \
    /opt/venv/bin/pip wheel --no-cache-dir $from --no-deps -w /tmp/wheels /src/proto /src/clients/python /src; \
    /opt/venv/bin/pip install --no-cache-dir $from /tmp/wheels/*.whl

# Stage 2: the base image, a user and the environment: one copy of everything (models/ ships
# inside the server wheel, so `oneiros-server` serves it from any folder).
FROM ${BASE_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    ONEIROS_HOST=0.0.0.0 \
    ONEIROS_PORT=50051 \
    ONEIROS_HTTP_PORT=8080 \
    ONEIROS_METRICS_PORT=9464
RUN useradd --create-home --uid 10001 oneiros
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
USER 10001

EXPOSE 50051 8080 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "oneiros_server.transport.grpc.healthcheck"]
CMD ["oneiros-server"]
