"""gunicorn's settings for production. gunicorn reads this file when started in this folder
(`gunicorn wsgi:app`), or wherever it is named with `-c gunicorn.conf.py`; command-line options win.

Slow clients: a client that sends its headers or its body slowly holds a worker thread while it does.
Threaded workers (gthread) keep one such client from stalling a worker, and idle keep-alive connections
wait in the worker's poller, not in a thread; but a few hundred slow clients could still hold every
thread, so production puts nginx in front with request buffering (README, Production): nginx reads
each request whole, at whatever speed the client manages, and hands gunicorn only complete ones.

Environment: GUNICORN_BIND (127.0.0.1:8000), WEB_CONCURRENCY (worker processes, 2; the name other
hosts set), GUNICORN_THREADS (threads per worker, 4).
"""
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

timeout = 30  # a worker silent this long is killed and replaced
graceful_timeout = 20  # on restart, requests in flight get this long to finish
keepalive = 5  # seconds an idle connection stays open (behind nginx: longer than nothing, shorter than nginx's)

# Bounds on what a request may send before the app sees it (the app bounds the body: MAX_CONTENT_LENGTH).
limit_request_line = 4094  # bytes of the request line: method, path and query
limit_request_fields = 100  # header fields
limit_request_field_size = 8190  # bytes of one header field

errorlog = "-"  # gunicorn's own messages on standard error
accesslog = None  # the app writes one JSON line per request itself (booking/logs.py)
capture_output = False


def on_starting(server):  # type: ignore[no-untyped-def]
    """Refuse to start several workers that would each keep their own rate-limit counts (see
    booking/ratelimit.py, `check_workers`), before any worker is forked."""
    from booking.ratelimit import check_workers

    check_workers(server.cfg.workers)
