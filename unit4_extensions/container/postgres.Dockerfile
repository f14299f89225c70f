# A PostgreSQL 15 image for compose.yaml where the official postgres:15 cannot be pulled (CI
# builds from no registry): Debian's own postgresql-15 package, which includes the contrib
# extensions, so btree_gist (the schema's double-booking constraints) is there.
#
#   docker build -f container/postgres.Dockerfile -t localhost/scheduler-postgres:15 container
#
# It answers to the same variables as the official image for what compose.yaml uses:
# POSTGRES_USER, POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), POSTGRES_DB; the data lives in
# /var/lib/postgresql/data.
ARG BASE_IMAGE=localhost/debian-python:bookworm
FROM ${BASE_IMAGE}

ENV PG_MAJOR=15
# The server's user first, with a fixed id (999, as in the official image), so that USER below
# can name it by number and a volume's files keep their owner from one build to the next.
RUN groupadd --system --gid 999 postgres \
    && useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql postgres
# The package name is the pin that matters (PostgreSQL 15); the rest is Debian stable's
# security fixes, which a version pinned here would refuse once the mirror drops it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
# Owned by postgres in the image: a new named volume mounted here starts as a copy of this
# directory, owner included, so the server can run as postgres without root.
RUN install --directory --owner=postgres --group=postgres --mode=0700 "$PGDATA"
COPY postgres-entrypoint.sh /usr/local/bin/
USER 999
EXPOSE 5432
ENTRYPOINT ["postgres-entrypoint.sh"]
CMD ["postgres"]
