import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Observability of the local environment: one postgres_exporter per node namespace; the PgBouncer
// exporter, one node_exporter (filesystem collector), Prometheus and Alertmanager in the client
// namespace. Configuration comes from environments/shared/observability (the same templates and
// profile files as render.sh); see docs/observability.md.

/// Which alert thresholds the local environment's Prometheus uses.
public enum AlertProfile: String, Codable, Sendable, CaseIterable {
    /// Short `for:` and low thresholds (environments/shared/observability/ci.env): alerts fire within seconds.
    case ci
    /// The shipped defaults (defaults.env).
    case `default`
    /// No exporters, no Prometheus, no Alertmanager.
    case off
}

/// Fixed ports of the observability processes (the same in every environment: each has its own namespaces).
public enum ObservabilityPorts {
    public static let prometheus = 9090
    public static let alertmanager = 9093
    public static let postgresExporter = 9187
    public static let pgbouncerExporter = 9127
    public static let nodeExporter = 9100
    /// The load generator's /metrics, served by the harness on the host side of the bridge.
    public static let loadMetrics = 9464
}

extension LocalConfig {
    public var alertProfile: AlertProfile { AlertProfile(rawValue: observability) ?? .ci }
    public var observabilityEnabled: Bool { alertProfile != .off }
    public var prometheusURL: String { "http://\(clientIP):\(ObservabilityPorts.prometheus)" }
    public var alertmanagerURL: String { "http://\(clientIP):\(ObservabilityPorts.alertmanager)" }
    /// Where the load generator serves /metrics for this environment's Prometheus: the host's address on the bridge.
    public var loadMetricsAddress: String { "\(hostIP):\(ObservabilityPorts.loadMetrics)" }
    /// Rendered configuration and the monitoring credentials (files readable by the `prometheus` user only).
    public var observabilityDir: String { "\(stateDir)/observability" }
    /// The shared templates and profiles.
    public var observabilitySourceDir: String { "\(home)/environments/shared/observability" }
}

/// The values of the observability templates, computed as render.sh does. Pure.
public enum ObservabilityConfig {
    /// The templates the environment renders (plain `{{NAME}}` substitution), and the file each becomes.
    public static let templates = ["prometheus.yml", "alerts.rules.yml", "alertmanager.yml"]

    /// `KEY=VALUE` lines of a profile file, in order; comments and other lines are skipped.
    public static func parseEnvFile(_ text: String) -> [(key: String, value: String)] {
        text.split(separator: "\n").compactMap { line in
            guard let eq = line.firstIndex(of: "="), let first = line.first, first.isASCII, first.isUppercase else { return nil }
            let key = line[..<eq]
            guard key.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }) else { return nil }
            return (String(key), String(line[line.index(after: eq)...]))
        }
    }

    /// defaults.env, then ci.env for the ci profile, then `overrides`; validated like render.sh
    /// (`*_FOR` whole seconds, thresholds integers, critical lag above warning lag + 1).
    public static func values(profile: AlertProfile, defaultsEnv: String, ciEnv: String,
                              overrides: [String: String]) throws(EnvironmentError) -> [String: String] {
        var v: [String: String] = [:]
        for (k, x) in parseEnvFile(defaultsEnv) { v[k] = x }
        if profile == .ci { for (k, x) in parseEnvFile(ciEnv) { v[k] = x } }
        v.merge(overrides) { _, new in new }
        for (k, x) in v.sorted(by: { $0.key < $1.key }) {
            if k.hasSuffix("_FOR"), !(x.hasSuffix("s") && !x.dropLast().isEmpty && x.dropLast().allSatisfy(\.isNumber)) {
                throw .badConfig("observability \(k)=\(x) must be whole seconds, e.g. 30s")
            }
            if k.hasSuffix("_PCT") || k.hasSuffix("_SECONDS"), x.isEmpty || !x.allSatisfy(\.isNumber) {
                throw .badConfig("observability \(k)=\(x) must be an integer")
            }
        }
        if let w = v["REPL_LAG_WARN_SECONDS"].flatMap({ Int($0) }), let c = v["REPL_LAG_CRIT_SECONDS"].flatMap({ Int($0) }), c <= w + 1 {
            throw .badConfig("observability REPL_LAG_CRIT_SECONDS (\(c)) must exceed REPL_LAG_WARN_SECONDS + 1 (\(w + 1))")
        }
        return v
    }

    /// The addresses of this environment, which replace the reference cluster's in defaults.env.
    public static func overrides(for c: LocalConfig) -> [String: String] {
        var o: [String: String] = [
            "PGBOUNCER_EXPORTER_ADDR": "\(c.clientIP):\(ObservabilityPorts.pgbouncerExporter)",
            "NODE_EXPORTER_ADDR": "\(c.clientIP):\(ObservabilityPorts.nodeExporter)",
            "LOAD_METRICS_ADDR": c.loadMetricsAddress,
            "PROMETHEUS_ADDR": "\(c.clientIP):\(ObservabilityPorts.prometheus)",
            "ALERTMANAGER_ADDR": "\(c.clientIP):\(ObservabilityPorts.alertmanager)",
            "PG_EXPORTER_PORT": "\(ObservabilityPorts.postgresExporter)",
            // Only this environment's PGDATA tmpfs mounts: node_exporter sees the whole mount table,
            // other environments' included.
            "PGDATA_MOUNTPOINTS_RE": regexEscape(c.stateDir) + "/n[0-9]+/pgdata",
        ]
        for (i, n) in c.nodeNames.prefix(3).enumerated() { o["NODE\(i + 1)_ADDR"] = c.nodeIP(n) }
        return o
    }

    /// `s` with RE2 metacharacters escaped.
    public static func regexEscape(_ s: String) -> String {
        var out = ""
        for ch in s {
            if "\\.+*?()|[]{}^$".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// Renders the three configuration templates from `sourceDir` with `values`: file name → text.
    public static func render(sourceDir: String, values: [String: String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in templates {
            let text = try String(contentsOfFile: "\(sourceDir)/\(name).tmpl", encoding: .utf8)
            out[name] = try Template(text, name: name).render(values)
        }
        return out
    }
}

extension LocalEnvironment {
    static let observabilityUser = "prometheus"

    /// Binaries and files the observability processes need (checked before `up` changes anything).
    static func checkObservabilityPreconditions(_ config: LocalConfig) throws(EnvironmentError) {
        guard config.observabilityEnabled else { return }
        guard config.nodeCount == 3 else {
            throw .badConfig("observability templates describe 3 nodes, not \(config.nodeCount); use --alerts off")
        }
        let fm = FileManager.default
        for b in ["/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager", "/usr/bin/prometheus-postgres-exporter",
                  "/usr/bin/prometheus-node-exporter", "\(config.home)/.venv/bin/python"] where !fm.isExecutableFile(atPath: b) {
            throw .requirementMissing(b)
        }
        for f in ObservabilityConfig.templates.map({ "\($0).tmpl" }) + ["defaults.env", "ci.env", "queries.yaml", "pgbouncer_exporter.py"] {
            let p = "\(config.observabilitySourceDir)/\(f)"
            if !fm.fileExists(atPath: p) { throw .requirementMissing(p) }
        }
        guard getpwnam(observabilityUser) != nil else { throw .requirementMissing("system user \(observabilityUser)") }
    }

    /// The rendered values for this environment.
    public func observabilityValues() throws -> [String: String] {
        let src = config.observabilitySourceDir
        return try ObservabilityConfig.values(
            profile: config.alertProfile,
            defaultsEnv: String(contentsOfFile: "\(src)/defaults.env", encoding: .utf8),
            ciEnv: String(contentsOfFile: "\(src)/ci.env", encoding: .utf8),
            overrides: ObservabilityConfig.overrides(for: config))
    }

    /// Writes prometheus.yml, alerts.rules.yml, alertmanager.yml and queries.yaml, plus the monitoring
    /// credentials: the app user's password in a file for postgres_exporter (`DATA_SOURCE_PASS_FILE`)
    /// and a pgpass file for the PgBouncer exporter, both readable by the `prometheus` user only. No
    /// password ever appears on a command line or in an environment variable.
    func renderObservability(appPassword: String) throws {
        guard config.observabilityEnabled else { return }
        let dir = config.observabilityDir
        let fm = FileManager.default
        for d in [dir, "\(config.stateDir)/prometheus-data", "\(config.stateDir)/alertmanager-data"] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        try chownTo("\(config.stateDir)/prometheus-data", Self.observabilityUser)
        try chownTo("\(config.stateDir)/alertmanager-data", Self.observabilityUser)
        let files = try ObservabilityConfig.render(sourceDir: config.observabilitySourceDir, values: try observabilityValues())
        for (name, text) in files {
            fm.createFile(atPath: "\(dir)/\(name)", contents: Data(text.utf8), attributes: [.posixPermissions: 0o644])
        }
        let queries = try Data(contentsOf: URL(fileURLWithPath: "\(config.observabilitySourceDir)/queries.yaml"))
        fm.createFile(atPath: "\(dir)/queries.yaml", contents: queries, attributes: [.posixPermissions: 0o644])
        for (name, text) in [("monitor.pass", appPassword), ("monitor.pgpass", "*:*:*:faultline:\(appPassword)\n")] {
            let path = "\(dir)/\(name)"
            fm.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            guard Glibc.chmod(path, 0o600) == 0 else { throw EnvironmentError.badConfig("cannot chmod \(path)") }
            try chownTo(path, Self.observabilityUser)
        }
    }

    func postgresExporterSpec(_ n: String) -> DaemonSpec {
        let dir = config.observabilityDir
        return DaemonSpec(
            name: "\(n)-pg-exporter", netns: config.nodeNetns(n), user: Self.observabilityUser,
            environment: [
                // The exporter builds postgresql://USER:PASS@URI itself; the password stays in the file.
                // statement/lock timeouts are sent as startup parameters: a scrape never hangs behind a fault's lock.
                "DATA_SOURCE_URI": "127.0.0.1:5432/faultline?sslmode=disable&application_name=faultline-exporter&statement_timeout=800&lock_timeout=200",
                "DATA_SOURCE_USER": "faultline",
                "DATA_SOURCE_PASS_FILE": "\(dir)/monitor.pass",
            ],
            argv: ["/usr/bin/prometheus-postgres-exporter",
                   "--web.listen-address=\(config.nodeIP(n)):\(ObservabilityPorts.postgresExporter)",
                   "--extend.query-path=\(dir)/queries.yaml", "--disable-settings-metrics"])
    }

    var pgbouncerExporterSpec: DaemonSpec {
        pgbouncerExporterSpec(python: "\(config.home)/.venv/bin/python", script: "\(config.observabilitySourceDir)/pgbouncer_exporter.py")
    }

    /// The PgBouncer exporter run by `python` (with psycopg) from `script` (the compose image has its own Python).
    func pgbouncerExporterSpec(python: String, script: String) -> DaemonSpec {
        DaemonSpec(
            name: "pgbouncer-exporter", netns: config.clientNetns, user: Self.observabilityUser,
            environment: ["PYTHONUNBUFFERED": "1"],
            argv: [python, script,
                   "--listen", "\(config.clientIP):\(ObservabilityPorts.pgbouncerExporter)",
                   "--dsn", "host=127.0.0.1 port=6432 dbname=pgbouncer user=faultline passfile=\(config.observabilityDir)/monitor.pgpass"])
    }

    var nodeExporterSpec: DaemonSpec {
        DaemonSpec(name: "node-exporter", netns: config.clientNetns, user: Self.observabilityUser,
                   argv: ["/usr/bin/prometheus-node-exporter", "--web.listen-address=\(config.clientIP):\(ObservabilityPorts.nodeExporter)",
                          "--collector.disable-defaults", "--collector.filesystem",
                          // The backup metrics (`faultline backup metrics`), as a file: Prometheus' job "backup".
                          "--collector.textfile", "--collector.textfile.directory=\(config.backupMetricsDir)"])
    }

    var prometheusSpec: DaemonSpec {
        DaemonSpec(name: "prometheus", netns: config.clientNetns, user: Self.observabilityUser,
                   argv: ["/usr/bin/prometheus", "--config.file=\(config.observabilityDir)/prometheus.yml",
                          "--storage.tsdb.path=\(config.stateDir)/prometheus-data",
                          "--web.listen-address=\(config.clientIP):\(ObservabilityPorts.prometheus)",
                          "--storage.tsdb.retention.time=2d", "--web.enable-lifecycle",
                          // Re-send firing alerts every 2 s instead of every minute: an alert Alertmanager
                          // missed (restarted, not yet listening) would otherwise stay unseen for up to 1 m.
                          "--rules.alert.resend-delay=2s"])
    }

    var alertmanagerSpec: DaemonSpec {
        DaemonSpec(name: "alertmanager", netns: config.clientNetns, user: Self.observabilityUser,
                   argv: ["/usr/bin/prometheus-alertmanager", "--config.file=\(config.observabilityDir)/alertmanager.yml",
                          "--storage.path=\(config.stateDir)/alertmanager-data",
                          "--web.listen-address=\(config.clientIP):\(ObservabilityPorts.alertmanager)",
                          "--cluster.listen-address="])
    }

    /// Every observability daemon; empty when the profile is `off`. Alertmanager first, so Prometheus
    /// can deliver from its first evaluation.
    var observabilitySpecs: [DaemonSpec] {
        guard config.observabilityEnabled else { return [] }
        return [alertmanagerSpec, prometheusSpec, nodeExporterSpec, pgbouncerExporterSpec] + config.nodeNames.map(postgresExporterSpec)
    }

    /// Prometheus' and Alertmanager's URLs, for `env status`.
    var observabilityEndpoints: [String: String] {
        guard config.observabilityEnabled else { return [:] }
        return ["prometheus": config.prometheusURL, "alertmanager": config.alertmanagerURL]
    }

    /// Starts the exporters, Prometheus and Alertmanager (call once PostgreSQL and PgBouncer serve),
    /// and waits only until Prometheus and Alertmanager answer `/-/ready`.
    func startObservability(timeout: Duration = .seconds(20)) async throws {
        let specs = observabilitySpecs
        guard !specs.isEmpty else { return }
        for s in specs { try await daemons.start(s) }
        try await poll(timeout: timeout, what: "Prometheus and Alertmanager to be ready") { () -> Void? in
            try ensureRunning(specs)
            let ready = [config.prometheusURL, config.alertmanagerURL].allSatisfy { base in
                (try? HTTP.get(base + "/-/ready", timeout: .milliseconds(500)))?.status == 200
            }
            return ready ? () : nil
        }
    }

    fileprivate func chownTo(_ path: String, _ user: String) throws {
        guard let pw = getpwnam(user) else { throw EnvironmentError.requirementMissing("system user \(user)") }
        guard Glibc.chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
            throw EnvironmentError.badConfig("cannot chown \(path) to \(user)")
        }
    }
}
