#!/usr/bin/env bash
# Start PostgreSQL; on an empty data directory, first create the cluster, the user and the
# database that POSTGRES_USER, POSTGRES_PASSWORD(_FILE) and POSTGRES_DB name (as the official
# image does, for the part compose.yaml uses).
set -euo pipefail

if [[ -n "${POSTGRES_PASSWORD_FILE:-}" ]]; then
    POSTGRES_PASSWORD="$(<"$POSTGRES_PASSWORD_FILE")"
fi
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE}"
user="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:-$user}"

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    echo "Creating a PostgreSQL cluster in $PGDATA for user $user, database $database."
    initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8
    # Other containers reach it over the compose network, always with the password.
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    if [[ "$database" != postgres ]]; then
        # Single-user mode: no server listens while the cluster is being set up, so no
        # health check can call it ready too early.
        echo "CREATE DATABASE \"$database\";" |
            postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
fi

# exec: the server becomes PID 1 and gets `docker stop`'s SIGTERM (a clean, fast shutdown).
exec "$@" -c listen_addresses='*'
