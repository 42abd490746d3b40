#!/usr/bin/env python3
"""Faultline's small PgBouncer exporter for Prometheus.

Why this file exists: Debian 12's prometheus-pgbouncer-exporter (1.7) reads the column
`total_requests` of SHOW STATS, which PgBouncer removed in 1.8; against Debian's PgBouncer
1.18 it dies at start-up with KeyError: 'total_requests'. postgres_exporter cannot help
either: its start-up and per-scrape SQL (SELECT version(), pg_settings, ...) is not
accepted by PgBouncer's admin console, which only understands SHOW/SET/admin commands.

This exporter connects to the admin console (database `pgbouncer`) as a user listed in
PgBouncer's `stats_users` (or `admin_users`), runs SHOW POOLS / DATABASES / STATS / LISTS /
CONFIG on every scrape, and reconnects on the next scrape after any error. Metric names follow
prometheus-community/pgbouncer_exporter so dashboards and rules port over unchanged.

Usage (inside the client namespace, next to PgBouncer):
  .venv/bin/python pgbouncer_exporter.py --listen 10.77.0.1:9127 \
      --dsn 'host=127.0.0.1 port=6432 dbname=pgbouncer user=faultline_monitor password=...'
  The DSN may also come from the environment variable PGBOUNCER_EXPORTER_DSN.
Needs psycopg 3 (in the project venv) or psycopg2.
"""
import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import psycopg  # psycopg 3

    def _connect(dsn, timeout):
        return psycopg.connect(dsn, autocommit=True, connect_timeout=timeout,
                               cursor_factory=psycopg.ClientCursor)
except ImportError:  # pragma: no cover - fallback for hosts without psycopg 3
    import psycopg2 as psycopg

    def _connect(dsn, timeout):
        conn = psycopg.connect(dsn, connect_timeout=timeout)
        conn.set_session(autocommit=True)
        return conn

# (SHOW POOLS column, metric suffix, help, scale)
POOL_COLUMNS = [
    ("cl_active", "client_active_connections", "Client connections linked to a server connection", 1),
    ("cl_waiting", "client_waiting_connections", "Client connections waiting for a server connection", 1),
    ("sv_active", "server_active_connections", "Server connections linked to a client (busy)", 1),
    ("sv_idle", "server_idle_connections", "Server connections idle and ready", 1),
    ("sv_used", "server_used_connections", "Server connections idle for more than server_check_delay", 1),
    ("sv_tested", "server_testing_connections", "Server connections being tested or reset", 1),
    ("sv_login", "server_login_connections", "Server connections currently logging in", 1),
]
# (SHOW DATABASES column, metric suffix, help)
DATABASE_COLUMNS = [
    ("pool_size", "pool_size", "Maximum server connections per user pool of this database"),
    ("reserve_pool", "reserve_pool", "Extra server connections allowed when clients wait"),
    ("max_connections", "max_connections", "Maximum server connections for this database (0 = unlimited)"),
    ("current_connections", "current_connections", "Current server connections for this database"),
]
# (SHOW STATS column, metric suffix, help, scale) - all counters
STATS_COLUMNS = [
    ("total_xact_count", "sql_transactions_pooled_total", "SQL transactions pooled", 1),
    ("total_query_count", "queries_pooled_total", "SQL queries pooled", 1),
    ("total_received", "received_bytes_total", "Bytes received from clients", 1),
    ("total_sent", "sent_bytes_total", "Bytes sent to clients", 1),
    ("total_xact_time", "server_in_transaction_seconds_total", "Seconds spent in transactions on servers", 1e-6),
    ("total_query_time", "queries_duration_seconds_total", "Seconds spent running queries on servers", 1e-6),
    ("total_wait_time", "client_wait_seconds_total", "Seconds clients spent waiting for a server", 1e-6),
]
CONFIG_KEYS = [
    ("max_client_conn", "max_client_connections", "PgBouncer max_client_conn"),
    ("default_pool_size", "default_pool_size", "PgBouncer default_pool_size"),
]


def _esc(v):
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(d):
    return "{" + ",".join('%s="%s"' % (k, _esc(v)) for k, v in d.items()) + "}" if d else ""


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


class Collector:
    def __init__(self, dsn, timeout):
        self.dsn = dsn
        self.timeout = timeout
        self.conn = None
        self.lock = threading.Lock()

    def _show(self, what):
        cur = self.conn.cursor()
        cur.execute("SHOW " + what)
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        cur.close()
        return rows

    def collect(self):
        with self.lock:
            start = time.monotonic()
            out, up = [], 1
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = _connect(self.dsn, self.timeout)
                out = self._render(self._show("POOLS"), self._show("DATABASES"),
                                   self._show("STATS"), self._show("LISTS"), self._show("CONFIG"))
            except Exception as e:  # any failure: report down, reconnect next scrape
                up = 0
                sys.stderr.write("pgbouncer_exporter: scrape failed: %s\n" % (e,))
                try:
                    if self.conn is not None:
                        self.conn.close()
                except Exception:
                    pass
                self.conn = None
                out = []
            out += [
                "# HELP pgbouncer_up 1 if the last query to the PgBouncer admin console succeeded",
                "# TYPE pgbouncer_up gauge",
                "pgbouncer_up %d" % up,
                "# HELP pgbouncer_exporter_scrape_duration_seconds Time spent querying PgBouncer",
                "# TYPE pgbouncer_exporter_scrape_duration_seconds gauge",
                "pgbouncer_exporter_scrape_duration_seconds %.6f" % (time.monotonic() - start),
            ]
            return "\n".join(out) + "\n"

    @staticmethod
    def _render(pools, databases, stats, lists, config):
        out = []

        def family(name, help_, type_, samples):
            out.append("# HELP %s %s" % (name, help_))
            out.append("# TYPE %s %s" % (name, type_))
            for labels, value in samples:
                out.append("%s%s %s" % (name, _labels(labels), repr(float(value))))

        for col, suffix, help_, scale in POOL_COLUMNS:
            family("pgbouncer_pools_" + suffix, help_, "gauge",
                   [({"database": r["database"], "user": r["user"]}, _num(r.get(col)) * scale)
                    for r in pools if _num(r.get(col)) is not None])
        family("pgbouncer_pools_client_maxwait_seconds",
               "Age of the oldest waiting client", "gauge",
               [({"database": r["database"], "user": r["user"]},
                 (_num(r.get("maxwait")) or 0) + (_num(r.get("maxwait_us")) or 0) / 1e6) for r in pools])
        for col, suffix, help_ in DATABASE_COLUMNS:
            family("pgbouncer_databases_" + suffix, help_, "gauge",
                   [({"database": r["name"], "backend_database": r.get("database") or ""}, _num(r.get(col)))
                    for r in databases if _num(r.get(col)) is not None])
        for col, suffix, help_, scale in STATS_COLUMNS:
            family("pgbouncer_stats_" + suffix, help_, "counter",
                   [({"database": r["database"]}, _num(r.get(col)) * scale)
                    for r in stats if _num(r.get(col)) is not None])
        family("pgbouncer_lists_items", "Items in PgBouncer's internal lists (SHOW LISTS)", "gauge",
               [({"list": r["list"]}, _num(r["items"])) for r in lists if _num(r.get("items")) is not None])
        cfg = {r.get("key"): r.get("value") for r in config}
        for key, suffix, help_ in CONFIG_KEYS:
            if _num(cfg.get(key)) is not None:
                family("pgbouncer_config_" + suffix, help_, "gauge", [({}, _num(cfg[key]))])
        return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", default="127.0.0.1:9127", help="HOST:PORT to serve /metrics on")
    p.add_argument("--dsn", default=os.environ.get("PGBOUNCER_EXPORTER_DSN",
                                                    "host=127.0.0.1 port=6432 dbname=pgbouncer"),
                   help="libpq DSN of PgBouncer's admin console (env PGBOUNCER_EXPORTER_DSN)")
    p.add_argument("--connect-timeout", type=int, default=2)
    a = p.parse_args()
    host, _, port = a.listen.rpartition(":")
    collector = Collector(a.dsn, a.connect_timeout)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.split("?")[0] != "/metrics":
                body, ctype = b"Faultline PgBouncer exporter: see /metrics\n", "text/plain"
            else:
                body, ctype = collector.collect().encode(), "text/plain; version=0.0.4; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer((host.strip("[]") or "0.0.0.0", int(port)), Handler)
    sys.stderr.write("pgbouncer_exporter: listening on %s\n" % a.listen)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
