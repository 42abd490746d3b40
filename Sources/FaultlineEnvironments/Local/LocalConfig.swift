import Foundation

/// Settings of the local environment. Persisted in the state directory at `up`, so `status`, `heal`
/// and `down` act on what was really started.
public struct LocalConfig: Codable, Sendable, Equatable {
    /// The bridge subnet, a private IPv4 /24 (e.g. 10.77.0.0/24). Bridge .1, nodes .11…, host .254.
    public var subnet: String = "10.77.0.0/24"
    public var nodeCount: Int = 3
    /// Prefix of the namespaces and links this environment creates ("fl": fl-client, fl-n1, …), so a
    /// second environment with another prefix, subnet and state dir can run beside the first.
    public var namePrefix: String = "fl"
    /// Where configs, logs, pid files and data mounts live.
    public var stateDir: String = "/var/lib/faultline/local"
    /// Size of each node's PGDATA filesystem (a size-limited tmpfs), MiB.
    /// 2 GiB: the 1-million-row orders table of the migration scenarios, its backfill and pg_wal fit beside the rest.
    public var dataSizeMiB: Int = 2048
    /// Patroni executable: the project venv's 4.1.x by default; `/usr/bin/patroni` is Debian's 3.0.2 control.
    public var patroni: String = ""
    /// Patroni's DCS section: `etcd3` (v3 API, default) or `etcd` (v2 API).
    public var dcsAPI: String = "etcd3"
    /// Which etcd members Patroni talks to: `all` (every member; Patroni discovers and shuffles them) or
    /// `local` (only the member on its own node, as through a local etcd proxy: `use_proxies`, no discovery).
    public var dcsEndpoints: String = "all"
    /// Timing profile (see environments/local/README.md).
    public var ttl: Int = 20
    public var loopWait: Int = 2
    public var retryTimeout: Int = 5
    public var syncStrict: Bool = true
    public var haproxyInter: String = "1s"
    public var haproxyFastInter: String = "300ms"
    public var haproxyDownInter: String = "300ms"
    public var haproxyFall: Int = 2
    public var haproxyRise: Int = 1
    /// Repository root: where `environments/local/*.tmpl` and `.venv` are.
    public var home: String = ""
    /// Alert profile of the observability processes: `ci` (short `for:`, low thresholds; the default
    /// here, so scenarios see alerts within seconds), `default` (the shipped thresholds) or `off`.
    public var observability: String = AlertProfile.ci.rawValue

    public init() {}

    /// Decodes a saved config; settings it lacks (saved by an older Faultline) take their defaults.
    public static func decode(_ data: Data) -> LocalConfig? {
        guard var saved = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let defaults = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(LocalConfig())) as? [String: Any],
              true else { return nil }
        // Saved before the environment ran exporters, Prometheus and Alertmanager: it has none.
        if saved["observability"] == nil { saved["observability"] = AlertProfile.off.rawValue }
        guard let merged = try? JSONSerialization.data(withJSONObject: defaults.merging(saved) { _, new in new }) else { return nil }
        return try? JSONDecoder().decode(LocalConfig.self, from: merged)
    }

    /// Prefix of the /24, e.g. "10.77.0".
    public var prefix: String { subnet.split(separator: "/")[0].split(separator: ".").prefix(3).joined(separator: ".") }
    public var clientIP: String { "\(prefix).1" }
    public var hostIP: String { "\(prefix).254" }
    public var nodeNames: [String] { (1...nodeCount).map { "n\($0)" } }
    public func nodeIP(_ node: String) -> String { "\(prefix).\(10 + (Int(node.dropFirst()) ?? 0))" }
    public func nodeNetns(_ node: String) -> String { "\(namePrefix)-\(node)" }
    public var clientNetns: String { "\(namePrefix)-client" }
    public var bridge: String { "\(namePrefix)br0" }
    public var hostLink: String { "\(namePrefix)-host" }
    public var allNetns: [String] { [clientNetns] + nodeNames.map(nodeNetns) + [regionBNetns] }

    public func nodeDir(_ node: String) -> String { "\(stateDir)/\(node)" }
    public func dataMount(_ node: String) -> String { "\(stateDir)/\(node)/pgdata" }
    public func dataDir(_ node: String) -> String { "\(dataMount(node))/data" }
    public func socketDir(_ node: String) -> String { "\(stateDir)/\(node)/run" }
    public func etcdDir(_ node: String) -> String { "\(stateDir)/\(node)/etcd" }
    public var passfile: String { "\(stateDir)/pgpass" }

    /// Client endpoints as libpq conninfo strings (no password: it comes from `passfile`).
    public func conninfo(host: String, port: Int, user: String = "faultline", dbname: String = "faultline") -> String {
        "host=\(host) port=\(port) user=\(user) dbname=\(dbname) passfile=\(passfile) connect_timeout=2 application_name=faultline"
    }
    public var readWrite: String { conninfo(host: clientIP, port: 5000) }
    public var readOnly: String { conninfo(host: clientIP, port: 5001) }
    public var pooler: String { conninfo(host: clientIP, port: 6432) }
    /// PgBouncer's session-mode database (`faultline_session` in pgbouncer.ini: the same database, `pool_mode=session`).
    public var poolerSession: String { conninfo(host: clientIP, port: 6432, dbname: "faultline_session") }
    /// PgBouncer's admin console (`SHOW POOLS`, `RECONNECT`; the application user is an admin user).
    public var poolerAdmin: String { conninfo(host: clientIP, port: 6432, dbname: "pgbouncer") }
    public func direct(_ node: String, user: String = "faultline", dbname: String = "faultline") -> String {
        conninfo(host: nodeIP(node), port: 5432, user: user, dbname: dbname)
    }
    public func restURL(_ node: String) -> String { "http://\(nodeIP(node)):8008" }

    /// Checks the settings; the error says what is wrong and how to mend it.
    public func validate() throws(EnvironmentError) {
        let parts = subnet.split(separator: "/")
        let octets = parts.first.map { $0.split(separator: ".").compactMap { Int($0) } } ?? []
        guard parts.count == 2, parts[1] == "24", octets.count == 4, octets.allSatisfy({ (0...255).contains($0) }), octets[3] == 0 else {
            throw .badConfig("subnet '\(subnet)' must be an IPv4 /24 such as 10.77.0.0/24 (--subnet)")
        }
        let privateNet = octets[0] == 10 || (octets[0] == 172 && (16...31).contains(octets[1])) || (octets[0] == 192 && octets[1] == 168)
        guard privateNet else { throw .badConfig("subnet '\(subnet)' is not private; use one in 10/8, 172.16/12 or 192.168/16 (--subnet)") }
        guard (1...4).contains(namePrefix.count), namePrefix.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) }) else {
            throw .badConfig("name prefix '\(namePrefix)' must be 1–4 lowercase letters or digits")
        }
        guard (1...9).contains(nodeCount) else { throw .badConfig("node count \(nodeCount) must be 1…9") }
        guard dataSizeMiB >= 128 else { throw .badConfig("data size \(dataSizeMiB) MiB is too small; use at least 128 (--data-size)") }
        guard ["etcd", "etcd3"].contains(dcsAPI) else { throw .badConfig("DCS API '\(dcsAPI)' must be etcd or etcd3 (--dcs)") }
        guard ["all", "local"].contains(dcsEndpoints) else {
            throw .badConfig("DCS endpoints '\(dcsEndpoints)' must be all or local (--dcs-endpoints)")
        }
        guard ttl >= loopWait + 2 * retryTimeout else {
            throw .badConfig("ttl \(ttl) must be at least loop_wait + 2×retry_timeout (\(loopWait + 2 * retryTimeout))")
        }
        guard AlertProfile(rawValue: observability) != nil else {
            throw .badConfig("alert profile '\(observability)' must be ci, default or off (--alerts)")
        }
        guard stateDir.hasPrefix("/"), stateDir.count > 5 else { throw .badConfig("state dir '\(stateDir)' must be an absolute path") }
    }
}
