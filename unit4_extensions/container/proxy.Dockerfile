# The reverse proxy for compose.scale.yaml (lesson 4.10): nginx from Debian's packages on
# the local base image, since CI reaches no registry to pull nginx's own image.
#
#   podman build -f unit4_extensions/container/proxy.Dockerfile -t scheduler-proxy .
#
# Built from the repository root, like the other images of the stack.
ARG BASE_IMAGE=localhost/debian-python:bookworm
FROM ${BASE_IMAGE}
# Debian's nginx at whatever bookworm ships; the base image pins the snapshot, not apt.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --yes --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/*
COPY unit4_extensions/container/nginx.conf /etc/nginx/nginx.conf
EXPOSE 8080
# In the foreground: the container lives as long as nginx does.
CMD ["nginx", "-g", "daemon off;"]
