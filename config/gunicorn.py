"""gunicorn's settings, for config/serve (`make serve`) and the tests that start real servers.

Sync workers, each serving one request at a time: a request here is short database work, and
separate processes share nothing but the database (sessions are stored there too), so the
same settings serve one machine or several behind a proxy.
"""

import os

bind = os.environ.get("HOST_PORT", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or 4)
worker_class = "sync"
# The access log on stdout, with each request's time in milliseconds (%(M)s).
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
# No control socket: its default path is one per user, which a second server on this machine
# (another app server, a test's) would take over.
control_socket_disable = True
