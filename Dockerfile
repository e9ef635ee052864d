# syntax=docker/dockerfile:1.7
# The image of every animerec service, built from the repository root (the context: shared/ and services/):
#   docker build --build-arg SERVICE=gateway -t animerec-gateway .
# SERVICE: ingestion (port 8001), training (8002), recommender (8003), explainer (8004) or gateway (8000).
# The training image for the GPU node pool adds --build-arg TF_PACKAGE="tensorflow[and-cuda]==<version>".
# Secrets (tokens, API keys) are never baked in: they come from the environment at run time.
ARG SERVICE=""

# ---- builder: a virtual environment with the service, the local packages it requires and nothing else
FROM python:3.11-slim AS builder
ARG SERVICE
ARG TF_PACKAGE=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN case "$SERVICE" in \
      ingestion|training|recommender|explainer|gateway) ;; \
      *) echo "build with --build-arg SERVICE=<ingestion|training|recommender|explainer|gateway>" >&2; exit 1 ;; \
    esac \
 && python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY shared/ shared/
COPY services/${SERVICE}/ services/${SERVICE}/
# pip resolves the service's own pyproject; the local packages are constraints naming their folders, so
# each is installed only where the service's requirements reach it: animerec-ranking (the ranking core with
# scipy, scikit-learn and pandas) for training and the recommender only, never from an index.
# Regular (not editable) installs: the runtime stage copies the venv, never the source tree.
# The BuildKit cache mount keeps downloaded wheels between builds without putting them in a layer.
RUN --mount=type=cache,target=/root/.cache/pip \
    printf '%s\n' "animerec-shared @ file:///src/shared" "animerec-ranking @ file:///src/shared/ranking" \
      > /tmp/local-packages.txt \
 && pip install --constraint /tmp/local-packages.txt ./services/${SERVICE}

# Training's GPU variant: TF_PACKAGE swaps the CPU build of TensorFlow for the CUDA one (same Python API;
# only the training image ever carries TensorFlow).
# hadolint ignore=DL3013
RUN --mount=type=cache,target=/root/.cache/pip \
    if [ -n "$TF_PACKAGE" ]; then \
      if [ "$SERVICE" != training ]; then echo "TF_PACKAGE is for SERVICE=training only" >&2; exit 1; fi; \
      pip uninstall -y tensorflow-cpu tensorflow && pip install "$TF_PACKAGE"; \
    fi
RUN pip check

# ---- runtime: slim Python, non-root, read-only friendly (writes only to /tmp and, where it keeps data, /data)
FROM python:3.11-slim AS runtime
ARG SERVICE
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OPENBLAS_NUM_THREADS=1 \
    PATH=/opt/venv/bin:$PATH HOST=0.0.0.0 LOG_JSON=true
RUN groupadd --system --gid 10001 animerec \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/animerec --create-home \
      --shell /usr/sbin/nologin animerec \
 && case "$SERVICE" in \
      ingestion|training|recommender) mkdir -p /data/storage /data/incoming && chown -R 10001:10001 /data ;; \
    esac
COPY --from=builder /opt/venv /opt/venv
WORKDIR /home/animerec
USER 10001:10001

# ---- the services that keep data: file:// storage under /data by default
FROM runtime AS runtime-data
ENV STORAGE_URL=file:///data/storage STORAGE_CACHE_DIR=/tmp/animerec-cache

# ---- one stage per service: its environment, port, health check and command (only SERVICE's is built)
FROM runtime-data AS service-ingestion
ENV INGESTION_ALLOWED_ROOT=/data/incoming
EXPOSE 8001
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8001/healthz', timeout=4).status == 200 else 1)"]
CMD ["uvicorn", "--factory", "animerec_ingestion.app:create_app", "--host", "0.0.0.0", "--port", "8001", "--no-access-log", "--no-proxy-headers", "--http", "animerec_shared.http_protocol:HttpToolsProtocol", "--timeout-graceful-shutdown", "20"]

FROM runtime-data AS service-training
ENV MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=1 TRAINING_RUNS_DIR=/tmp/animerec-training-runs
EXPOSE 8002
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8002/healthz', timeout=4).status == 200 else 1)"]
CMD ["uvicorn", "--factory", "animerec_training.app:create_app", "--host", "0.0.0.0", "--port", "8002", "--no-access-log", "--no-proxy-headers", "--http", "animerec_shared.http_protocol:HttpToolsProtocol", "--timeout-graceful-shutdown", "20"]

FROM runtime-data AS service-recommender
ENV OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
EXPOSE 8003
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8003/healthz', timeout=4).status == 200 else 1)"]
CMD ["uvicorn", "--factory", "animerec_recommender.app:create_app", "--host", "0.0.0.0", "--port", "8003", "--no-access-log", "--no-proxy-headers", "--http", "animerec_shared.http_protocol:HttpToolsProtocol", "--timeout-graceful-shutdown", "20"]

FROM runtime AS service-explainer
EXPOSE 8004
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8004/healthz', timeout=4).status == 200 else 1)"]
CMD ["uvicorn", "--factory", "animerec_explainer.app:create_app", "--host", "0.0.0.0", "--port", "8004", "--no-access-log", "--no-proxy-headers", "--http", "animerec_shared.http_protocol:HttpToolsProtocol", "--timeout-graceful-shutdown", "20"]

FROM runtime AS service-gateway
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
CMD ["uvicorn", "--factory", "animerec_gateway.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log", "--no-proxy-headers", "--http", "animerec_shared.http_protocol:HttpToolsProtocol", "--timeout-graceful-shutdown", "20"]

# ---- the image: SERVICE's stage of this file (not an image to tag: DL3006 does not apply); build through
# this last stage, never a service stage picked with --target (its venv would still be SERVICE's)
# checkov:skip=CKV_DOCKER_7: service-${SERVICE} names a stage of this file, not an image (no tag to pin)
# hadolint ignore=DL3006
FROM service-${SERVICE} AS image
