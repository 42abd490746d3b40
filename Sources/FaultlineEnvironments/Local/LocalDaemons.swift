import Foundation

/// The daemons the environment runs, and how to start and watch them.
extension LocalEnvironment {
    // MARK: daemons

    func etcdSpec(_ n: String) -> DaemonSpec {
        DaemonSpec(name: "\(n)-etcd", netns: config.nodeNetns(n), user: "etcd",
                   argv: ["/usr/bin/etcd", "--config-file", "\(config.nodeDir(n))/etcd.conf.yml"])
    }

    func patroniSpec(_ n: String) -> DaemonSpec {
        DaemonSpec(name: "\(n)-patroni", netns: config.nodeNetns(n), user: "postgres",
                   environment: ["HOME": config.nodeDir(n), "PYTHONUNBUFFERED": "1"],
                   argv: [config.patroni, "\(config.nodeDir(n))/patroni.yml"])
    }

    var haproxySpec: DaemonSpec {
        DaemonSpec(name: "haproxy", netns: config.clientNetns, argv: ["/usr/sbin/haproxy", "-db", "-f", "\(config.stateDir)/haproxy.cfg"])
    }

    var pgbouncerSpec: DaemonSpec {
        DaemonSpec(name: "pgbouncer", netns: config.clientNetns, user: "postgres",
                   argv: ["/usr/sbin/pgbouncer", "\(config.stateDir)/pgbouncer/pgbouncer.ini"])
    }

    func startEtcd(_ n: String) async throws { try await daemons.start(etcdSpec(n)) }
    func startPatroni(_ n: String) async throws { try await daemons.start(patroniSpec(n)) }
    func startHAProxy() async throws { try await daemons.start(haproxySpec) }
    func startPgBouncer() async throws { try await daemons.start(pgbouncerSpec) }

    /// The cluster's daemons: etcd, Patroni, HAProxy, PgBouncer.
    var clusterSpecs: [DaemonSpec] {
        config.nodeNames.flatMap { [etcdSpec($0), patroniSpec($0)] } + [haproxySpec, pgbouncerSpec]
    }

    /// Every daemon the environment runs, by name (the cluster's, SeaweedFS, then the observability processes).
    var allSpecs: [DaemonSpec] { clusterSpecs + seaweedSpecs + observabilitySpecs }

    /// Throws, with the last line of its log, if a daemon of `specs` has exited.
    func ensureRunning(_ specs: [DaemonSpec]) throws {
        for s in specs where !daemons.isRunning(s.name) {
            let log = (try? String(contentsOf: daemons.logFile(s.name), encoding: .utf8)) ?? ""
            let last = log.split(separator: "\n").last(where: { !$0.isEmpty }).map(String.init) ?? "no log"
            throw EnvironmentError.daemonExited("\(s.name): \(Secrets.mask(last)) (log: \(daemons.logFile(s.name).path))")
        }
    }
}
