import Foundation

/// The compose environment's config files: the local environment's templates (environments/local/*.tmpl), rendered
/// by the local environment's own code (`LocalEnvironment.values` and `Template`) for the compose address plan and
/// paths, so both environments run the same Patroni, etcd, HAProxy and PgBouncer configuration and timing profile.
/// Rendered on the host under `<state>/config/<service>/` and mounted read-only at /etc/faultline in each container.
extension ComposeEnvironment {
    /// The renderer: a `LocalEnvironment` value for the shared settings (it starts nothing).
    var shared: LocalEnvironment { LocalEnvironment(config: config.local, logger: logger) }

    /// WAL archiving is not built on compose yet (no SeaweedFS or pgBackRest repository there): the archiver accepts
    /// every segment without keeping it, and a replica never restores from an archive (docs/environments.md).
    static let archivingOff = ["ARCHIVE_COMMAND": "/bin/true", "RESTORE_COMMAND": "/bin/false"]

    /// Every file of every service, by service, as (file name, text). Pure apart from reading the templates.
    func renderedFiles(secrets: LocalEnvironment.SecretSet) throws -> [String: [(name: String, text: String)]] {
        let l = shared
        var out: [String: [(name: String, text: String)]] = [:]
        for n in config.nodeNames {
            let v = l.values(node: n, secrets: secrets).merging(Self.archivingOff) { _, off in off }
            out[n] = [("patroni.yml", try l.template("patroni.yml").render(v)), ("etcd.conf.yml", try l.template("etcd.conf.yml").render(v))]
        }
        let v = l.values(node: nil, secrets: secrets)
        out["proxy"] = [("haproxy.cfg", try l.template("haproxy.cfg").render(v)), ("pgbouncer.ini", try l.template("pgbouncer.ini").render(v)),
                        ("userlist.txt", "\"faultline\" \"\(secrets.app)\"\n")]
        // Prometheus and Alertmanager: the shared configuration and alert rules (environments/shared/observability).
        if config.local.observabilityEnabled {
            let files = try ObservabilityConfig.render(sourceDir: config.local.observabilitySourceDir, values: try l.observabilityValues())
            out["proxy/observability"] = files.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        return out
    }

    /// Writes the secrets (root, 0600), the client passfile, the env file and every service's configs.
    func writeFiles() throws -> LocalEnvironment.SecretSet {
        let fm = FileManager.default
        try fm.createDirectory(atPath: config.configDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let s = Self.newSecrets()
        let l = shared
        try l.writePrivate("\(config.stateDir)/secrets.json", String(decoding: try JSONEncoder.pretty.encode(s), as: UTF8.self), owner: "root")
        try l.writePrivate(config.local.passfile, "*:*:*:postgres:\(s.superuser)\n*:*:*:faultline:\(s.app)\n*:*:*:replicator:\(s.replication)\n", owner: "root")
        try l.writePrivate(config.envFile, config.envFileText, owner: "root")
        for (service, files) in try renderedFiles(secrets: s) {
            let dir = "\(config.configDir)/\(service)"
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for f in files { try l.writePrivate("\(dir)/\(f.name)", f.text, owner: "root") }
        }
        return s
    }

    static func newSecrets() -> LocalEnvironment.SecretSet {
        func random(_ n: Int = 24) -> String {
            let alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
            var g = SystemRandomNumberGenerator()
            return (0..<n).map { _ in String(alphabet.randomElement(using: &g)!) }.joined()
        }
        return LocalEnvironment.SecretSet(superuser: random(), replication: random(), rewind: random(), app: random())
    }
}
