"""gunicorn's settings for this unit, from the environment; `gunicorn` run in this folder
reads them by itself (or name the file: `gunicorn -c gunicorn.conf.py`).

Threaded workers (gthread): a client that sends its request slowly holds one thread, not a
whole worker, so a few slow clients cannot stall the API the way they stall `-w 4` sync
workers (benchmarks/slow_clients.py measures both). On the open internet, put a buffering
reverse proxy such as nginx in front as well: it reads every request in full before gunicorn
sees it, however many slow clients there are.
"""

import sys

from scheduler.config import ConfigError, load_config

# --8<-- [start:settings]
# The app's own settings table validates these too (lesson 4.3): one source of truth, and a
# wrong setting stops gunicorn here, before it starts any worker, with every problem listed.
try:
    settings = load_config()
except ConfigError as error:
    print(error.format_message(), file=sys.stderr)
    raise SystemExit(error.exit_code) from None

wsgi_app = "scheduler:create_app()"
host = settings["HOST"]
bind = f"[{host}]:{settings['PORT']}" if ":" in host else f"{host}:{settings['PORT']}"  # IPv6
worker_class = "gthread"
workers = settings["WEB_CONCURRENCY"]  # processes; the variable gunicorn itself knows
# Threads per process. A thread waiting on a slow client needs no database connection;
# threads past DB_POOL_MAX_SIZE that do need one queue for it (DB_POOL_TIMEOUT, then a 503).
threads = settings["GUNICORN_THREADS"]
# Longer than DB_POOL_TIMEOUT + DB_STATEMENT_TIMEOUT (5 + 10 s), so a stuck database ends in
# the app's 503 problem rather than in gunicorn killing the worker (an HTML 500).
timeout = settings["GUNICORN_TIMEOUT"]
keepalive = settings["GUNICORN_KEEPALIVE"]
# On SIGTERM (a deploy, `docker stop`) workers stop accepting and finish the requests in
# flight for this long; longer than a request may take, so none is cut off mid-answer.
graceful_timeout = settings["GUNICORN_GRACEFUL_TIMEOUT"]
# --8<-- [end:settings]
accesslog = "-"
# --8<-- [start:access-log]
# gunicorn's usual access line, plus the request id the app sent back (lesson 3.5), so that one
# id finds a request's access line and the app's own log lines alike.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" request=%({x-request-id}o)s'
)
# --8<-- [end:access-log]
