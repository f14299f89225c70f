# An SMTP sink for compose.yaml where mailpit (the development default) cannot be pulled: CI
# builds from no registry. aiosmtpd takes every mail on port 1025 and keeps each one as a
# file in /var/spool/sink, where `nox -s container` reads what the worker delivered.
#
#   docker build -f unit4_extensions/container/smtp-sink.Dockerfile -t scheduler-smtp-sink .
#
# Built from the repository root, like the API image: the pin file is there.
ARG BASE_IMAGE=localhost/debian-python:bookworm
FROM ${BASE_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /opt/sink
COPY constraints.txt unit4_extensions/container/smtp_sink.py ./
RUN python3 -m venv venv \
    && venv/bin/pip install --constraint constraints.txt aiosmtpd \
    && install --directory --owner=10001 /var/spool/sink
USER 10001
EXPOSE 1025
HEALTHCHECK --interval=5s --timeout=3s --retries=10 \
    CMD ["venv/bin/python", "smtp_sink.py", "--check"]
CMD ["venv/bin/python", "smtp_sink.py"]
