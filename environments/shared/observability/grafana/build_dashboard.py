#!/usr/bin/env python3
"""Generates faultline-dashboard.json and panels.json (next to this file) from one panel list,
so the dashboard and the machine-readable list of its PromQL never drift apart.

  python3 build_dashboard.py          # rewrite both files
  python3 build_dashboard.py --check  # exit 1 if the committed files differ from the output

PromQL uses fixed windows ([10s], [30s]) instead of Grafana's $__rate_interval so that every
expression in panels.json runs unchanged against Prometheus' HTTP API (scrape interval 1s).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
PRIMARY = 'on (node) (patroni_primary{job="patroni"} == 1)'

# (title, unit, description, [(legend, expr)], extra field config)
PANELS = [
    ("Connection pool utilization", "percent",
     "PgBouncer: busy server connections / pool_size per pool (alert FaultlinePoolUtilizationHigh). "
     "PostgreSQL: client backends / (max_connections - superuser_reserved_connections) per node.",
     [("pgbouncer {{database}}/{{user}}", "100 * faultline:pgbouncer_pool_utilization:ratio"),
      ("postgres {{node}}", "100 * faultline:pg_connections_utilization:ratio")],
     {"max": 100, "min": 0, "thresholds": [("green", None), ("orange", 80)]}),
    ("PgBouncer waiting clients", "short",
     "Clients queued for a server connection (SHOW POOLS cl_waiting) and the oldest wait.",
     [("waiting {{database}}", 'sum by (database) (pgbouncer_pools_client_waiting_connections{job="pgbouncer", database!="pgbouncer"})'),
      ("max wait s {{database}}", 'max by (database) (pgbouncer_pools_client_maxwait_seconds{job="pgbouncer", database!="pgbouncer"})')],
     {}),
    ("Query latency p50 / p95 / p99", "s",
     "From the load generator's histogram faultline_load_request_duration_seconds, all outcomes, 10s window.",
     [("p50 {{workload}}", "histogram_quantile(0.50, sum by (le, workload) (rate(faultline_load_request_duration_seconds_bucket[10s])))"),
      ("p95 {{workload}}", "histogram_quantile(0.95, sum by (le, workload) (rate(faultline_load_request_duration_seconds_bucket[10s])))"),
      ("p99 {{workload}}", "histogram_quantile(0.99, sum by (le, workload) (rate(faultline_load_request_duration_seconds_bucket[10s])))")],
     {}),
    ("Load throughput by outcome", "reqps",
     "faultline_load_requests_total per second, by workload and outcome.",
     [("{{workload}} {{outcome}}", "sum by (workload, outcome) (rate(faultline_load_requests_total[10s]))")],
     {}),
    ("Load errors (ratio of requests not ok)", "percentunit",
     "Share of load requests whose outcome is not \"ok\"; assumes the load generator labels successes outcome=\"ok\".",
     [("{{workload}}", 'sum by (workload) (rate(faultline_load_requests_total{outcome!="ok"}[10s])) / sum by (workload) (rate(faultline_load_requests_total[10s]))')],
     {"min": 0}),
    ("Cache hit ratio (target > 99%)", "percentunit",
     "blks_hit / (blks_hit + blks_read) of database faultline per node over 30s (pg_stat_database).",
     [("{{node}}", 'sum by (node) (rate(pg_stat_database_blks_hit{job="postgres", datname="faultline"}[30s])) / (sum by (node) (rate(pg_stat_database_blks_hit{job="postgres", datname="faultline"}[30s])) + sum by (node) (rate(pg_stat_database_blks_read{job="postgres", datname="faultline"}[30s])))')],
     {"max": 1, "thresholds": [("red", None), ("green", 0.99)]}),
    ("Replication lag (seconds)", "s",
     "faultline:replication_lag_seconds: now - last replayed commit while the replica is behind the primary's LSN, else 0 (Patroni /metrics).",
     [("{{node}}", "faultline:replication_lag_seconds")],
     {"min": 0, "thresholds": [("green", None), ("orange", 10), ("red", 30)]}),
    ("Replication lag (bytes)", "bytes",
     "Primary's flushed LSN minus each replica's replayed LSN (Patroni patroni_xlog_*).",
     [("{{node}}", 'scalar(max(patroni_xlog_location{job="patroni"})) - (patroni_xlog_replayed_location{job="patroni"} and on (instance) (patroni_replica{job="patroni"} == 1))')],
     {"min": 0}),
    ("Cluster roles", "short",
     "1 = primary with PostgreSQL running, 0 = replica/stopped, per node; count of running primaries.",
     [("primary {{node}}", '(patroni_primary{job="patroni"} == 1) and on (instance) (patroni_postgres_running{job="patroni"} == 1) or (0 * patroni_primary{job="patroni"})'),
      ("running primaries", '(count((patroni_primary{job="patroni"} == 1) and on (instance) (patroni_postgres_running{job="patroni"} == 1)) or vector(0))')],
     {}),
    ("Lock waits", "short",
     "Client sessions waiting on a heavyweight lock (pg_stat_activity.wait_event_type = 'Lock') and ungranted pg_locks entries, per node (queries.yaml).",
     [("waiting sessions {{node}}", 'faultline_pg_activity_lock_waiting_sessions{job="postgres"}'),
      ("ungranted locks {{node}}", 'faultline_pg_locks_not_granted{job="postgres"}')],
     {"min": 0}),
    ("Longest active query", "s",
     "Age of the longest active client query per node (alert FaultlineLongRunningQuery).",
     [("{{node}}", 'faultline_pg_activity_max_active_query_seconds{job="postgres"}')],
     {"min": 0}),
    ("Table bloat estimate (dead tuple ratio, primary)", "percentunit",
     "n_dead_tup / (n_live_tup + n_dead_tup) per table from pg_stat_user_tables on the current primary (queries.yaml faultline_pg_table).",
     [("{{relname}}", 'faultline_pg_table_dead_tuples{job="postgres"} / (faultline_pg_table_live_tuples{job="postgres"} + faultline_pg_table_dead_tuples{job="postgres"} > 0) and ' + PRIMARY)],
     {"min": 0, "max": 1}),
    ("Index bloat estimate (bytes, primary)", "bytes",
     "Statistical btree estimate: index size minus size expected from reltuples and key widths at fillfactor 90 (queries.yaml faultline_pg_index_bloat); updated by VACUUM/ANALYZE.",
     [("{{indexname}}", 'faultline_pg_index_bloat_bloat_bytes_estimate{job="postgres"} and ' + PRIMARY)],
     {"min": 0}),
    ("PGDATA filesystem usage", "percent",
     "df-style used / (used + avail) of the PGDATA mount point(s) (node_exporter, alert FaultlineDiskUsageHigh).",
     [("{{mountpoint}}", "100 * faultline:pgdata_filesystem_usage:ratio")],
     {"min": 0, "max": 100, "thresholds": [("green", None), ("orange", 70)]}),
    ("WAL archiving", "short",
     "1 = the last archive attempt failed on a primary; archive failures per minute (pg_stat_archiver).",
     [("failing {{node}}", 'faultline_pg_archiver_failing{job="postgres"}'),
      ("failures/min {{node}}", '60 * rate(pg_stat_archiver_failed_count{job="postgres"}[1m])')],
     {"min": 0}),
    ("Top queries by total time (pg_stat_statements)", "s",
     "Execution seconds per second of the 5 statements with the most time over the last minute, per node, from "
     "pg_stat_statements (queries.yaml faultline_pg_stat_statements: each node's top 10 by total time since the last reset). "
     "`faultline queries report` ranks, explains and fixes them (docs/query-optimization.md).",
     [("{{node}} {{datname}}: {{query}}", 'topk(5, sum by (node, datname, queryid, query) (rate(faultline_pg_stat_statements_exec_seconds{job="postgres"}[1m])))')],
     {"min": 0}),
    ("Scrape targets up", "short",
     "Prometheus up per job and node.",
     [("{{job}} {{node}}", "up")],
     {"min": 0, "max": 1}),
]


def panel(i, title, unit, desc, targets, extra):
    thresholds = extra.get("thresholds", [("green", None)])
    defaults = {
        "unit": unit,
        "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
                   "spanNulls": False},
        "thresholds": {"mode": "absolute",
                       "steps": [{"color": c, "value": v} for c, v in thresholds]},
    }
    if len(thresholds) > 1:
        defaults["custom"]["thresholdsStyle"] = {"mode": "line"}
    for k in ("min", "max"):
        if k in extra:
            defaults[k] = extra[k]
    return {
        "id": i + 1,
        "type": "timeseries",
        "title": title,
        "description": desc,
        "datasource": DS,
        "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "none"}},
        "targets": [{"datasource": DS, "refId": chr(ord("A") + j), "expr": e, "legendFormat": l,
                     "range": True, "instant": False}
                    for j, (l, e) in enumerate(targets)],
    }


def build():
    panels = [panel(i, *p) for i, p in enumerate(PANELS)]
    alerts = {
        "id": len(panels) + 1, "type": "table", "title": "Firing alerts", "datasource": DS,
        "description": "ALERTS{alertstate=\"firing\"} as seen by Prometheus.",
        "gridPos": {"h": 8, "w": 24, "x": 0, "y": (len(panels) + 1) // 2 * 8},
        "fieldConfig": {"defaults": {}, "overrides": []},
        "options": {"showHeader": True},
        "targets": [{"datasource": DS, "refId": "A", "expr": 'ALERTS{alertstate="firing"}',
                     "format": "table", "instant": True, "range": False}],
    }
    panels.append(alerts)
    dashboard = {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource",
                      "pluginId": "prometheus", "pluginName": "Prometheus"}],
        "uid": "faultline-overview",
        "title": "Faultline - PostgreSQL HA under chaos",
        "tags": ["faultline", "postgresql", "patroni"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "timepicker": {"refresh_intervals": ["1s", "5s", "10s", "30s", "1m"]},
        "templating": {"list": [{
            "name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0, "refresh": 1, "regex": "",
            "options": []}]},
        "annotations": {"list": []},
        "panels": panels,
    }
    listing = [{"title": p["title"], "refId": t["refId"], "legend": t.get("legendFormat", ""),
                "expr": t["expr"]} for p in panels for t in p["targets"]]
    return dashboard, listing


def main():
    dashboard, listing = build()
    files = {
        os.path.join(HERE, "faultline-dashboard.json"): json.dumps(dashboard, indent=2) + "\n",
        os.path.join(HERE, "panels.json"): json.dumps(listing, indent=2) + "\n",
    }
    if "--check" in sys.argv:
        stale = [f for f, text in files.items()
                 if not os.path.exists(f) or open(f).read() != text]
        for f in stale:
            print("stale: %s (run %s)" % (f, os.path.basename(__file__)))
        sys.exit(1 if stale else 0)
    for f, text in files.items():
        with open(f, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
