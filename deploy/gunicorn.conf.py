"""gunicorn settings for the web processes (`gunicorn -c deploy/gunicorn.conf.py`).

Stateless processes behind a load balancer: any process serves any request, so scale out by
starting more machines with the same command. Every value can be overridden from the environment
(GUNICORN_*), so one file serves every size of machine.
"""

from __future__ import annotations

import multiprocessing
import os

wsgi_app = "safety_portal.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: each request holds a database connection for its duration; 2 per core plus one.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Requests are short (the heavy work is in Celery); a worker stuck past this is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so no slow leak grows without bound; jitter avoids a thundering herd.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# The application logs JSON lines to stderr (LOG_FORMAT); gunicorn's own error log goes there too.
# The access log is off: the request-latency metrics and the application's request ids replace it.
errorlog = "-"
accesslog = None
# Behind the load balancer: trust its X-Forwarded-* headers (set the address in production).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket is one per user's home by default: two gunicorns of one user on a
# machine would share it. Nothing here uses it; switch it on with GUNICORN_CONTROL_SOCKET=path.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
