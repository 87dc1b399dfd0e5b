# Airbyte's convention for Python connectors: the connector base image, the package installed
# into it, and main.py as the entrypoint. Build with --build-arg BASE_IMAGE=... to use a mirror.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code

COPY pyproject.toml README.md main.py manifest.yaml ./
COPY schemas ./schemas
COPY source_jira_port ./source_jira_port
RUN pip install --no-cache-dir . && chown -R 1000:1000 /airbyte

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.version=0.1.0
LABEL io.airbyte.name=airbyte/source-jira-port

USER 1000
