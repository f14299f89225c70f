#!/usr/bin/env bash
# Make the base image CI builds from when no image registry is reachable: a minimal Debian
# bookworm root file system with Python 3.11 and venv, made with debootstrap from Debian's own
# package mirror and imported into podman. Kept once made: a second run only says so.
#
#   container/make-base-image.sh [IMAGE]      (root; default localhost/debian-python:bookworm)
#
# With Docker Hub at hand you do not need this: the Dockerfile's default base is python:3.11-slim.
set -euo pipefail

IMAGE="${1:-localhost/debian-python:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if podman image exists "$IMAGE"; then
    echo "Base image $IMAGE is already there; keeping it."
    exit 0
fi
command -v debootstrap >/dev/null || {
    echo "debootstrap is missing: apt-get install debootstrap" >&2
    exit 1
}

rootfs="$(mktemp -d /var/tmp/debian-python-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
# minbase: essential packages and apt only. ca-certificates lets pip reach PyPI over HTTPS.
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" "$MIRROR"
# A machine behind a TLS-inspecting proxy trusts an extra certificate authority; so must the
# image, or pip cannot reach PyPI from inside it. pip reads the system's bundle, not its own.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates
fi
# What an image does not need: downloaded packages, package lists, documentation.
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
# podman import turns the tree into a one-layer image; CMD is what `podman run IMAGE` starts.
tar --numeric-owner -C "$rootfs" -c . |
    podman import --change 'CMD ["python3"]' --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' - "$IMAGE"
echo "Made base image $IMAGE."
