# Oneiros, CPU image: serves the bundled default model repository on 0.0.0.0:50051 (gRPC) and :8080 (HTTP).
#   docker build -t oneiros .
#   docker run -p 50051:50051 -p 8080:8080 -p 9464:9464 oneiros
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ONEIROS_HOST=0.0.0.0 \
    ONEIROS_PORT=50051 \
    ONEIROS_HTTP_PORT=8080 \
    ONEIROS_METRICS_PORT=9464

WORKDIR /srv

# The CPU build of torch (PyPI's default wheel is the multi-GB CUDA one).
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# The three distributions are built as wheels and installed; models/ ships inside
# the server wheel, so `oneiros-server` serves it from any folder.
COPY VERSION pyproject.toml README.md /src/
COPY proto /src/proto
COPY clients/python /src/clients/python
COPY server /src/server
COPY training /src/training
COPY export /src/export
COPY models /src/models
RUN pip wheel --no-cache-dir --no-deps -w /tmp/wheels /src/proto /src/clients/python /src \
    && pip install --no-cache-dir /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels /src

RUN useradd --create-home --uid 10001 oneiros
USER 10001

EXPOSE 50051 8080 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "oneiros_server.transport.grpc.healthcheck"]
CMD ["oneiros-server"]
