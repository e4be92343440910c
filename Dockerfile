# Oneiros, CPU image: serves the committed model repository on 0.0.0.0:50051.
#   docker build -t oneiros .
#   docker run -p 50051:50051 -p 9464:9464 oneiros
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ONEIROS_HOST=0.0.0.0 \
    ONEIROS_PORT=50051 \
    ONEIROS_METRICS_PORT=9464

WORKDIR /app

# The CPU build of torch (PyPI's default wheel is the multi-GB CUDA one).
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY clients/python /app/clients/python
COPY pyproject.toml README.md /app/
COPY server /app/server
COPY training /app/training
COPY export /app/export
RUN pip install --no-cache-dir /app/clients/python /app

COPY models /app/models

RUN useradd --create-home --uid 10001 oneiros
USER 10001

EXPOSE 50051 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "server.healthcheck"]
CMD ["python", "-m", "server", "--model-repository", "/app/models"]
