import Foundation

/// The compose environment's config files: the local environment's templates (environments/local/*.tmpl), rendered
/// by the local environment's own code (`LocalEnvironment.values` and `Template`) for the compose address plan and
/// paths, so both environments run the same Patroni, etcd, HAProxy and PgBouncer configuration and timing profile.
/// Rendered on the host under `<state>/config/<service>/` and mounted read-only at /etc/faultline in each container.
extension ComposeEnvironment {
    /// The renderer: a `LocalEnvironment` value for the shared settings (it starts nothing).
    public var shared: LocalEnvironment { LocalEnvironment(config: config.local, logger: logger) }

    /// Where the project venv's SeaweedFS binary (static) is mounted in the store containers (docker-compose.yml).
    static let weedInContainer = "/usr/local/bin/weed"
    /// The Python (with psycopg 3) that runs the PgBouncer exporter in the proxy container: the image's Patroni venv.
    static let imagePython = "/opt/patroni/bin/python"

    /// The service of each object store: region A (repo1) in the proxy at the client address, as local runs it in
    /// the client namespace; region B (repo2) in a container of its own at .3, as local's namespace of its own.
    func storeService(_ store: ObjectStore) -> String { store.region == "a" ? "proxy" : "s3b" }

    /// A daemon as one argv for a start script (`runuser` to its user, `env` for its variables, none of them secret):
    /// written one argument a line to /etc/faultline/daemons/<name>, which the start scripts run in the background. Pure.
    static func containerArgv(_ spec: DaemonSpec) -> [String] {
        let env = spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let run = env.isEmpty ? spec.argv : ["/usr/bin/env"] + env + spec.argv
        guard let user = spec.user else { return run }
        return ["/usr/sbin/runuser", "-u", user, "--"] + run
    }

    static func lines(_ argv: [String]) -> String { argv.joined(separator: "\n") + "\n" }

    /// Every file of every service, by service (a subfolder as "service/folder"), as (file name, text). The node,
    /// proxy and pgBackRest configs are the local templates rendered by the local code with the local values (WAL
    /// archiving included); the daemons are the local specs (SeaweedFS' argv, the exporters). Pure apart from reading the templates.
    func renderedFiles(secrets: LocalEnvironment.SecretSet) throws -> [String: [(name: String, text: String)]] {
        let l = shared
        let obs = config.local.observabilityEnabled
        var out: [String: [(name: String, text: String)]] = [:]
        for n in config.nodeNames {
            let v = l.values(node: n, secrets: secrets)
            out[n] = [("patroni.yml", try l.template("patroni.yml").render(v)), ("etcd.conf.yml", try l.template("etcd.conf.yml").render(v)),
                      ("pgbackrest.conf", try l.template("pgbackrest.conf").render(v)), ("patroni-bin", config.local.patroni + "\n")]
            if obs {
                out["\(n)/daemons"] = [("pg-exporter", Self.lines(Self.containerArgv(l.postgresExporterSpec(n))))]
                out["\(n)/observability"] = [("queries.yaml", try String(contentsOfFile: "\(config.local.observabilitySourceDir)/queries.yaml", encoding: .utf8)),
                                             ("monitor.pass", secrets.app)]
            }
        }
        let v = l.values(node: nil, secrets: secrets)
        out["proxy"] = [("haproxy.cfg", try l.template("haproxy.cfg").render(v)), ("pgbouncer.ini", try l.template("pgbouncer.ini").render(v)),
                        ("userlist.txt", "\"faultline\" \"\(secrets.app)\"\n")]
        for store in config.local.objectStores {
            let weed = ArchivingConfig.weedArgv(weed: Self.weedInContainer, dataDir: "\(store.dir)/data", ip: store.ip,
                                                cert: "\(store.tlsDir)/s3.crt", key: "\(store.tlsDir)/s3.key", identities: store.identities)
            out["\(storeService(store))/daemons", default: []].append(("seaweedfs", Self.lines(weed)))
        }
        // Prometheus and Alertmanager (the proxy's start script runs them), the node exporter and the PgBouncer exporter:
        // the shared configuration and alert rules (environments/shared/observability), the local specs.
        if obs {
            let src = config.local.observabilitySourceDir
            var files = try ObservabilityConfig.render(sourceDir: src, values: try l.observabilityValues()).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            files.append(("pgbouncer_exporter.py", try String(contentsOfFile: "\(src)/pgbouncer_exporter.py", encoding: .utf8)))
            files.append(("monitor.pgpass", "*:*:*:faultline:\(secrets.app)\n"))
            out["proxy/observability"] = files
            let exporter = l.pgbouncerExporterSpec(python: Self.imagePython, script: "\(config.local.observabilityDir)/pgbouncer_exporter.py")
            out["proxy/daemons", default: []] += [("node-exporter", Self.lines(Self.containerArgv(l.nodeExporterSpec))),
                                                  ("pgbouncer-exporter", Self.lines(Self.containerArgv(exporter)))]
        }
        return out
    }

    /// Both object stores' CA, certificate, key and identities under `<state>/archive` and `<state>/archive-b`, by the
    /// local code (mounted into the store's container, and the CA read-only into every node).
    func prepareStores(secrets: LocalEnvironment.SecretSet) async throws {
        let stores = config.local.objectStores
        try await shared.prepareStore(stores[0], accessKey: secrets.s3AccessKey, secretKey: secrets.s3SecretKey)
        try await shared.prepareStore(stores[1], accessKey: secrets.s3AccessKeyB ?? "", secretKey: secrets.s3SecretKeyB ?? "")
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
        return LocalEnvironment.SecretSet(superuser: random(), replication: random(), rewind: random(), app: random(),
                                          s3AccessKey: random(20), s3SecretKey: random(40), s3AccessKeyB: random(20), s3SecretKeyB: random(40))
    }
}
