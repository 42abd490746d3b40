import FaultlinePG
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The `local` environment: real processes in Linux network namespaces on this machine.
///
/// Topology: a client namespace `fl-client` holds the bridge (`.1`), HAProxy and PgBouncer; one
/// namespace per node holds etcd, Patroni and PostgreSQL 15 on its own size-limited tmpfs; the host
/// reaches the bridge through one veth (`.254`), so the host's own network is never bridged.
public struct LocalEnvironment: Sendable {
    public var config: LocalConfig
    public let logger: Logger
    public let runner: CommandRunner
    public let daemons: Daemons

    public init(config: LocalConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        let state = URL(fileURLWithPath: config.stateDir)
        self.runner = CommandRunner(logger: logger, commandLog: CommandLog(url: state.appendingPathComponent("commands.log")))
        self.daemons = Daemons(runner: runner, pidDir: state.appendingPathComponent("pids"), logDir: state.appendingPathComponent("logs"))
    }

    /// The environment as recorded at `up` in `stateDir`, or nil when it is not up.
    public static func existing(stateDir: String = LocalConfig().stateDir, logger: Logger) -> LocalEnvironment? {
        let url = URL(fileURLWithPath: stateDir).appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url), let cfg = LocalConfig.decode(data) else { return nil }
        return LocalEnvironment(config: cfg, logger: logger)
    }

    public var endpoints: [String: String] {
        ["rw": config.readWrite, "ro": config.readOnly, "pooler": config.pooler,
         "rest": config.nodeNames.map(config.restURL).joined(separator: ","), "s3": config.s3URL].merging(observabilityEndpoints) { a, _ in a }
    }

    // MARK: - up

    /// What `up` reports.
    public struct UpReport: Sendable {
        public var elapsed: Duration
        /// When each phase finished, measured from the start of `up`.
        public var phases: [(name: String, at: Duration)]
        public var status: ClusterStatus
    }

    /// Creates the whole environment and waits until it is healthy. Refuses when not root, when a
    /// requirement is missing, or when it is already up; then nothing is changed.
    public func up(timeout: Duration = .seconds(90)) async throws -> UpReport {
        let started = ContinuousClock.now
        try config.validate()
        try Self.checkPreconditions(config)
        guard !(try await isUp()) else { throw EnvironmentError.alreadyUp("local") }
        var phases: [(name: String, at: Duration)] = []
        func mark(_ name: String) {
            phases.append((name, ContinuousClock.now - started))
            logger.info("up: \(name)", metadata: ["at": "\(ContinuousClock.now - started)"])
        }
        do {
            try prepareStateDir()
            let secrets = try writeSecrets()
            try await createNetwork()
            try await mountData()
            try await prepareArchiving(secrets: secrets)
            try renderConfigs(secrets: secrets)
            try renderObservability(appPassword: secrets.app)
            try await startSeaweed()
            mark("network, storage and configs")
            for n in config.nodeNames { try await startEtcd(n) }
            try await waitEtcd(timeout: .seconds(20))
            mark("etcd quorum")
            for n in config.nodeNames { try await startPatroni(n) }
            try await startHAProxy()
            // The bucket is created while Patroni bootstraps.
            async let bucket: Void = createBucket(timeout: .seconds(60))
            try await poll(timeout: timeout, what: "a leader") { () -> Void? in
                try ensureRunning(config.nodeNames.map(patroniSpec))
                return await self.status(withReplication: false).leader?.state == "running" ? () : nil
            }
            mark("Patroni leader running")
            guard let leader = await status(withReplication: false).leader?.name else { throw EnvironmentError.unhealthy("no leader") }
            try await bucket
            try await createStanza(on: leader, timeout: .seconds(20))
            mark("S3 bucket and pgBackRest stanza")
            try await createAppDatabase(secrets: secrets)
            try await startPgBouncer()
            try ensureRunning([pgbouncerSpec])
            try await waitEndpoints(timeout: .seconds(20))
            mark("writes through HAProxy and PgBouncer")
            try await waitHealthy(timeout: timeout, watching: clusterSpecs)
            mark("healthy: 2 streaming replicas, 1 sync")
            if let l = await status(withReplication: false).leader?.name {
                let seg = try await waitFirstArchive(on: l, timeout: .seconds(30))
                mark("WAL archiving: \(seg) in \(config.s3URL)")
            }
            try await startObservability()
            if config.observabilityEnabled { mark("observability (\(config.alertProfile.rawValue) alerts): Prometheus and Alertmanager ready") }
            let status = await self.status(withMemory: true)
            return UpReport(elapsed: ContinuousClock.now - started, phases: phases, status: status)
        } catch {
            let kept = "/tmp/faultline-failed-up-logs"
            try? FileManager.default.removeItem(atPath: kept)
            try? FileManager.default.copyItem(atPath: "\(config.stateDir)/logs", toPath: kept)
            logger.error("env up failed, tearing down; daemon logs kept in \(kept)", metadata: ["error": "\(error)"])
            if ProcessInfo.processInfo.environment["FAULTLINE_KEEP_FAILED"] == nil { try? await down() }
            throw error
        }
    }

    /// Checks root, binaries and templates.
    static func checkPreconditions(_ config: LocalConfig) throws(EnvironmentError) {
        guard geteuid() == 0 else { throw .notRoot }
        let fm = FileManager.default
        let bins = ["/usr/sbin/ip", "/usr/sbin/iptables", "/usr/bin/nsenter", "/usr/bin/setpriv", "/usr/bin/setsid",
                    "/usr/bin/etcd", "/usr/sbin/haproxy", "/usr/sbin/pgbouncer", "/usr/lib/postgresql/15/bin/postgres",
                    "/usr/lib/postgresql/15/bin/pg_ctl", config.patroni, ArchivingConfig.pgbackrest, "/usr/bin/openssl", config.weed]
        for b in bins where !fm.isExecutableFile(atPath: b) { throw .requirementMissing(b) }
        for t in ["patroni.yml", "etcd.conf.yml", "haproxy.cfg", "pgbouncer.ini", "pgbackrest.conf"] {
            let p = "\(config.home)/environments/local/\(t).tmpl"
            if !fm.fileExists(atPath: p) { throw .requirementMissing(p) }
        }
        try checkObservabilityPreconditions(config)
    }

    /// Whether any part of the environment exists: its state or one of its namespaces.
    public func isUp() async throws -> Bool {
        if FileManager.default.fileExists(atPath: "\(config.stateDir)/config.json") { return true }
        let existing = try await netnsList()
        return config.allNetns.contains { existing.contains($0) }
    }

    func netnsList() async throws -> Set<String> {
        let out = try await runner.run(["/usr/sbin/ip", "netns", "list"]).stdout
        return Set(out.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    private func prepareStateDir() throws {
        let fm = FileManager.default
        for d in ["", "/pids", "/logs", "/run", "/pgbouncer"] {
            try fm.createDirectory(atPath: config.stateDir + d, withIntermediateDirectories: true)
        }
        try JSONEncoder.pretty.encode(config).write(to: URL(fileURLWithPath: "\(config.stateDir)/config.json"))
        for n in config.nodeNames {
            for d in [config.nodeDir(n), config.dataMount(n), config.socketDir(n), config.etcdDir(n)] {
                try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
            }
        }
        try chown(config.stateDir + "/pgbouncer", "postgres")
        try chown(config.stateDir + "/run", "postgres")
        try chmod(config.stateDir + "/logs", 0o755)
        for n in config.nodeNames {
            try chown(config.nodeDir(n), "postgres")
            try chown(config.socketDir(n), "postgres")
            try chown(config.etcdDir(n), "etcd")
            try chmod(config.etcdDir(n), 0o700)
        }
    }

    /// Fresh random passwords, kept in files readable by root only (and the postgres user where needed).
    struct SecretSet: Codable {
        var superuser, replication, rewind, app: String
        /// SeaweedFS' S3 key pair (pgBackRest's repo1-s3-key and repo1-s3-key-secret).
        var s3AccessKey = "", s3SecretKey = ""
    }

    private func writeSecrets() throws -> SecretSet {
        func random(_ n: Int = 24, _ alphabet: String = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") -> String {
            var g = SystemRandomNumberGenerator()
            return (0..<n).map { _ in String(alphabet.randomElement(using: &g)!) }.joined()
        }
        let s = SecretSet(superuser: random(), replication: random(), rewind: random(), app: random(),
                          s3AccessKey: random(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), s3SecretKey: random(40))
        let dir = config.stateDir
        try writePrivate("\(dir)/secrets.json", String(decoding: try JSONEncoder.pretty.encode(s), as: UTF8.self), owner: "root")
        try writePrivate(config.passfile, "*:*:*:postgres:\(s.superuser)\n*:*:*:faultline:\(s.app)\n*:*:*:replicator:\(s.replication)\n", owner: "root")
        try writePrivate("\(dir)/pgbouncer/userlist.txt", "\"faultline\" \"\(s.app)\"\n", owner: "postgres")
        return s
    }

    private func readSecrets() throws -> SecretSet {
        try JSONDecoder().decode(SecretSet.self, from: Data(contentsOf: URL(fileURLWithPath: "\(config.stateDir)/secrets.json")))
    }

    // MARK: network and storage

    private func createNetwork() async throws {
        let ip = "/usr/sbin/ip"
        let c = config.clientNetns
        for ns in config.allNetns {
            try await runner.run([ip, "netns", "add", ns])
            try await runner.run([ip, "-n", ns, "link", "set", "lo", "up"])
        }
        try await runner.run([ip, "-n", c, "link", "add", config.bridge, "type", "bridge"])
        try await runner.run([ip, "-n", c, "addr", "add", "\(config.clientIP)/24", "dev", config.bridge])
        try await runner.run([ip, "-n", c, "link", "set", config.bridge, "up"])
        for n in config.nodeNames {
            let ns = config.nodeNetns(n), v = "v-\(n)"
            try await runner.run([ip, "-n", c, "link", "add", v, "type", "veth", "peer", "name", "eth0", "netns", ns])
            try await runner.run([ip, "-n", c, "link", "set", v, "master", config.bridge, "up"])
            try await runner.run([ip, "-n", ns, "addr", "add", "\(config.nodeIP(n))/24", "dev", "eth0"])
            try await runner.run([ip, "-n", ns, "link", "set", "eth0", "up"])
            // No default route: nothing leaves the subnet, and a DNS lookup (Python's getfqdn in
            // Patroni's REST API) fails at once instead of timing out for 10 s.
        }
        // The host's one link into the bridge, so the harness can reach every address.
        try await runner.run([ip, "link", "add", config.hostLink, "type", "veth", "peer", "name", "v-host", "netns", c])
        try await runner.run([ip, "-n", c, "link", "set", "v-host", "master", config.bridge, "up"])
        try await runner.run([ip, "addr", "add", "\(config.hostIP)/24", "dev", config.hostLink])
        try await runner.run([ip, "link", "set", config.hostLink, "up"])
    }

    private func mountData() async throws {
        for n in config.nodeNames {
            try await runner.run(["/usr/bin/mount", "-t", "tmpfs", "-o", "size=\(config.dataSizeMiB)m,mode=0700",
                                  "faultline-\(config.namePrefix)-\(n)", config.dataMount(n)])
            try chown(config.dataMount(n), "postgres")
        }
    }

    // MARK: configs

    func template(_ name: String) throws -> Template {
        let path = "\(config.home)/environments/local/\(name).tmpl"
        return Template(try String(contentsOfFile: path, encoding: .utf8), name: name)
    }

    /// The etcd client endpoints Patroni on node `n` is given: every member, or only its own (`local`).
    func etcdHosts(node n: String?) -> String {
        let members = config.dcsEndpoints == "local" && n != nil ? [n!] : config.nodeNames
        return members.map { "\(config.nodeIP($0)):2379" }.joined(separator: ",")
    }

    /// The values every template of node `n` may use.
    func values(node n: String?, secrets: SecretSet) -> [String: String] {
        var v: [String: String] = [
            "SUBNET": config.subnet, "CLIENT_IP": config.clientIP, "STATE_DIR": config.stateDir,
            "DCS_API": config.dcsAPI, "TTL": "\(config.ttl)", "LOOP_WAIT": "\(config.loopWait)",
            "RETRY_TIMEOUT": "\(config.retryTimeout)", "SYNC_STRICT": config.syncStrict ? "true" : "false",
            "ETCD_HOSTS": etcdHosts(node: n),
            "DCS_USE_PROXIES": config.dcsEndpoints == "local" && n != nil ? "true" : "false",
            "ETCD_CLUSTER": config.nodeNames.map { "\($0)=http://\(config.nodeIP($0)):2380" }.joined(separator: ","),
            "SUPERUSER_PASSWORD": secrets.superuser, "REPLICATION_PASSWORD": secrets.replication,
            "REWIND_PASSWORD": secrets.rewind,
            "INTER": config.haproxyInter, "FASTINTER": config.haproxyFastInter, "DOWNINTER": config.haproxyDownInter,
            "FALL": "\(config.haproxyFall)", "RISE": "\(config.haproxyRise)",
        ]
        let servers = config.nodeNames.map { "    server \($0) \(config.nodeIP($0)):5432 check port 8008" }.joined(separator: "\n")
        v["SERVERS_RW"] = servers
        v["SERVERS_RO"] = servers
        if let n {
            v["NODE"] = n
            v["NODE_IP"] = config.nodeIP(n)
            v["NODE_DIR"] = config.nodeDir(n)
            v["DATA_DIR"] = config.dataDir(n)
            v["SOCKET_DIR"] = config.socketDir(n)
            v["ETCD_DIR"] = config.etcdDir(n)
            v.merge(archivingValues(node: n, secrets: secrets)) { a, _ in a }
        }
        return v
    }

    private func renderConfigs(secrets: SecretSet) throws {
        for n in config.nodeNames {
            let v = values(node: n, secrets: secrets)
            try writePrivate("\(config.nodeDir(n))/patroni.yml", try template("patroni.yml").render(v), owner: "postgres")
            try writePrivate("\(config.nodeDir(n))/etcd.conf.yml", try template("etcd.conf.yml").render(v), owner: "etcd")
            try writePrivate(config.pgbackrestConfig(n), try template("pgbackrest.conf").render(v), owner: "postgres")
        }
        let v = values(node: nil, secrets: secrets)
        try writePrivate("\(config.stateDir)/haproxy.cfg", try template("haproxy.cfg").render(v), owner: "root")
        try writePrivate("\(config.stateDir)/pgbouncer/pgbouncer.ini", try template("pgbouncer.ini").render(v), owner: "postgres")
    }

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
    var allSpecs: [DaemonSpec] { clusterSpecs + [seaweedSpec] + observabilitySpecs }

    private func waitEtcd(timeout: Duration) async throws {
        try await poll(timeout: timeout, what: "etcd quorum") { () -> Void? in
            let healthy = self.config.nodeNames.filter { n in
                (try? HTTP.get("http://\(self.config.nodeIP(n)):2379/health", timeout: .milliseconds(500)))?.body.contains("\"true\"") == true
            }
            return healthy.count == self.config.nodeCount ? () : nil
        }
    }

    // MARK: status

    /// Members and roles from Patroni's REST API (the first node that answers), plus the leader's view of replication.
    public func status(withReplication: Bool = true, withMemory: Bool = false) async -> ClusterStatus {
        var members: [MemberStatus] = config.nodeNames.map {
            MemberStatus(name: $0, role: "down", state: "unreachable", host: config.nodeIP($0), timeline: nil, lagBytes: nil)
        }
        var problems: [String] = []
        // Every member is asked (at once): a member back from a partition may answer from a stale view.
        let answers = HTTP.getAll(config.nodeNames.map { config.restURL($0) + "/cluster" }, timeout: .milliseconds(800))
        let views = zip(config.nodeNames, answers).compactMap { n, a -> ClusterStatus.View? in
            guard case .success(let r) = a, r.status == 200,
                  let m = try? ClusterStatus.members(fromPatroniCluster: r.body, expected: config.nodeNames) else { return nil }
            return ClusterStatus.View(node: n, members: m)
        }
        if let c = ClusterStatus.consensus(views) {
            members = c.members
            problems += c.dissent
        } else {
            problems.append("no Patroni REST API answered")
        }
        problems += ClusterStatus.problems(members: members, expected: config.nodeCount, sync: config.nodeCount > 1 ? 1 : 0)
        var replication: [ReplicationRow] = []
        if withReplication, let leader = members.first(where: \.isLeader) {
            replication = (try? replicationRows(on: leader.name)) ?? []
        }
        var s = ClusterStatus(environment: "local", members: members, replication: replication, endpoints: endpoints,
                              memoryKiB: withMemory ? await residentMemoryKiB() : nil, problems: problems)
        if withReplication, let leader = members.first(where: \.isLeader) { s.archiving = try? archiverStatus(leader.name) }
        return s
    }

    /// The leader's `pg_stat_replication`, through a superuser connection straight to the node.
    public func replicationRows(on node: String) throws -> [ReplicationRow] {
        let c = try PGConnection(config.direct(node, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(2))
        defer { c.close() }
        let r = try c.exec("""
            select application_name, coalesce(client_addr::text, ''), state, sync_state,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint,
                   extract(epoch from replay_lag)::float8
            from pg_stat_replication order by application_name
            """, timeout: .seconds(2))
        return r.rows.map { row in
            ReplicationRow(applicationName: row[0] ?? "", clientAddr: row[1] ?? "", state: row[2] ?? "",
                           syncState: row[3] ?? "", replayLagBytes: row[4].flatMap { Int($0) },
                           replayLagSeconds: row[5].flatMap { Double($0) })
        }
    }

    /// Throws, with the last line of its log, if a daemon of `specs` has exited.
    func ensureRunning(_ specs: [DaemonSpec]) throws {
        for s in specs where !daemons.isRunning(s.name) {
            let log = (try? String(contentsOf: daemons.logFile(s.name), encoding: .utf8)) ?? ""
            let last = log.split(separator: "\n").last(where: { !$0.isEmpty }).map(String.init) ?? "no log"
            throw EnvironmentError.daemonExited("\(s.name): \(Secrets.mask(last)) (log: \(daemons.logFile(s.name).path))")
        }
    }

    /// Polls until the cluster is healthy; throws with the last problems on timeout, or at once when
    /// a daemon of `watching` has exited.
    @discardableResult
    public func waitHealthy(timeout: Duration, watching: [DaemonSpec] = []) async throws -> ClusterStatus {
        var last: ClusterStatus?
        do {
            return try await poll(timeout: timeout, what: "a healthy cluster") {
                try self.ensureRunning(watching)
                let s = await self.status(withReplication: false)
                last = s
                return s.healthy ? s : nil
            }
        } catch let e as EnvironmentError {
            if case .daemonExited = e { throw e }
            throw EnvironmentError.unhealthy((last?.problems ?? ["no status"]).joined(separator: "; ") + " after \(timeout)")
        } catch {
            throw EnvironmentError.unhealthy((last?.problems ?? ["no status"]).joined(separator: "; ") + " after \(timeout)")
        }
    }

    /// Waits until a write through HAProxy's read-write port and through PgBouncer succeeds.
    private func waitEndpoints(timeout: Duration) async throws {
        for (name, dsn) in [("HAProxy rw", config.readWrite), ("PgBouncer", config.pooler)] {
            try await poll(timeout: timeout, what: "\(name) to accept writes") { () -> Void? in
                guard let c = try? PGConnection(dsn, connectTimeout: .seconds(2)) else { return nil }
                defer { c.close() }
                return (try? c.exec("select pg_is_in_recovery()", timeout: .seconds(2)).scalar) == "f" ? () : nil
            }
        }
    }

    private func createAppDatabase(secrets: SecretSet) async throws {
        guard let leader = await status(withReplication: false).leader?.name else { throw EnvironmentError.unhealthy("no leader") }
        let admin = try PGConnection(config.direct(leader, user: "postgres", dbname: "postgres"))
        defer { admin.close() }
        // The password is sent as a literal in SQL: it is never logged (log_statement is off).
        let pw = secrets.app.replacingOccurrences(of: "'", with: "''")
        try admin.exec("create role faultline login password '\(pw)'")
        try admin.exec("create database faultline owner faultline")
        let app = try PGConnection(config.direct(leader, user: "postgres", dbname: "faultline"))
        defer { app.close() }
        try app.exec("create extension if not exists pg_stat_statements; grant pg_monitor to faultline")
    }

    /// Memory (KiB) of every process in the environment's namespaces, as proportional set size (shared
    /// pages such as PostgreSQL's shared buffers are split among the processes that map them), plus
    /// the tmpfs pages in use.
    public func residentMemoryKiB() async -> Int {
        var total = 0
        for ns in config.allNetns {
            for pid in (try? await pidsIn(ns)) ?? [] {
                guard let s = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8),
                      let line = s.split(separator: "\n").first(where: { $0.hasPrefix("Pss:") }) else { continue }
                total += Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
            }
        }
        for n in config.nodeNames {
            var st = statvfs()
            if statvfs(config.dataMount(n), &st) == 0 { total += Int(st.f_blocks - st.f_bfree) * Int(st.f_frsize) / 1024 }
        }
        return total
    }

    /// Every process whose network namespace is `ns`.
    public func pidsIn(_ ns: String) async throws -> [Int32] {
        let r = try await runner.run(["/usr/sbin/ip", "netns", "pids", ns], check: false)
        return r.stdout.split(separator: "\n").compactMap { Int32($0) }
    }

    // MARK: process faults

    /// The postmaster pid of `node`, from its `postmaster.pid`, if PostgreSQL is running.
    public func postmasterPID(_ node: String) -> Int32? {
        guard let s = try? String(contentsOfFile: "\(config.dataDir(node))/postmaster.pid", encoding: .utf8),
              let first = s.split(separator: "\n").first, let pid = Int32(first), Daemons.isAlive(pid) else { return nil }
        return pid
    }

    /// Sends `signal` to `node`'s postmaster (SIGQUIT = immediate shutdown, SIGKILL = crash).
    /// Patroni notices and restarts PostgreSQL, or fails over.
    public func signalPostgres(_ node: String, _ signal: Int32) throws {
        guard let pid = postmasterPID(node) else { throw EnvironmentError.unhealthy("PostgreSQL is not running on \(node)") }
        runner.commandLog?.append("kill -\(signal) \(pid)  # \(node) postmaster")
        guard kill(pid, signal) == 0 else { throw EnvironmentError.unhealthy("cannot signal PostgreSQL on \(node)") }
    }

    /// The name of the current leader, from Patroni.
    public func leaderName() async -> String? { await status(withReplication: false).leader?.name }

    // MARK: heal

    /// Returns a damaged environment to healthy without losing data: resumes paused processes, removes
    /// fault rules, qdiscs and ballast, restarts what is down, then waits until the cluster is healthy,
    /// every node's PostgreSQL runs, and writes go through HAProxy and PgBouncer.
    @discardableResult
    public func heal(timeout: Duration = .seconds(90)) async throws -> ClusterStatus {
        guard FileManager.default.fileExists(atPath: "\(config.stateDir)/config.json") else { throw EnvironmentError.notUp("local") }
        for ns in config.allNetns {
            for pid in try await pidsIn(ns) { kill(pid, SIGCONT) }
            try await runner.run(["/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/iptables", "-F"], check: false)
            try await runner.run(["/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/iptables", "-X"], check: false)
            for chain in ["INPUT", "OUTPUT", "FORWARD"] {
                try await runner.run(["/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/iptables", "-P", chain, "ACCEPT"], check: false)
            }
        }
        for n in config.nodeNames {
            try await runner.run(["/usr/sbin/tc", "-n", config.nodeNetns(n), "qdisc", "del", "dev", "eth0", "root"], check: false)
            try await runner.run(["/usr/sbin/tc", "-n", config.clientNetns, "qdisc", "del", "dev", "v-\(n)", "root"], check: false)
            for f in (try? FileManager.default.contentsOfDirectory(atPath: config.dataMount(n))) ?? [] where f.hasPrefix("faultline-ballast") {
                try? FileManager.default.removeItem(atPath: "\(config.dataMount(n))/\(f)")
            }
        }
        for spec in allSpecs where !daemons.isRunning(spec.name) {
            logger.info("restarting \(spec.name)")
            try await daemons.start(spec)
        }
        // Healthy as the DCS sees it, then as each node's own Patroni sees it (the DCS shows a member
        // killed moments ago as running until its key expires), then as clients see it: writes go
        // through HAProxy and PgBouncer again.
        let deadline = ContinuousClock.now + timeout
        func left() -> Duration { max(ContinuousClock.now.duration(to: deadline), .seconds(5)) }
        try await waitHealthy(timeout: left())
        do {
            try await poll(timeout: left(), what: "PostgreSQL running on every node") { nodesNotServing().isEmpty ? () : nil }
        } catch {
            throw EnvironmentError.unhealthy("PostgreSQL not running on \(nodesNotServing().joined(separator: ", ")) after the heal")
        }
        try await waitEndpoints(timeout: min(left(), .seconds(30)))
        return try await waitHealthy(timeout: left())
    }

    // MARK: down

    /// Stops everything and removes namespaces, links, rules, mounts and data. Safe to run twice.
    public func down() async throws {
        guard geteuid() == 0 else { throw EnvironmentError.notRoot }
        let existing = try await netnsList()
        // Patroni first (it would restart PostgreSQL), then everything left in our namespaces.
        for n in config.nodeNames { await daemons.stop("\(n)-patroni", signal: SIGKILL, grace: .seconds(2)) }
        for ns in config.allNetns where existing.contains(ns) {
            for pid in try await pidsIn(ns) { kill(pid, SIGKILL) }
        }
        for ns in config.allNetns where existing.contains(ns) {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, !(try await pidsIn(ns)).allSatisfy({ !Daemons.isAlive($0) }) {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        for n in config.nodeNames where Self.isMountPoint(config.dataMount(n)) {
            let r = try await runner.run(["/usr/bin/umount", config.dataMount(n)], check: false)
            if !r.succeeded { try await runner.run(["/usr/bin/umount", "-l", config.dataMount(n)]) }
        }
        for ns in config.allNetns where existing.contains(ns) {
            try await runner.run(["/usr/sbin/ip", "netns", "del", ns])
        }
        try await runner.run(["/usr/sbin/ip", "link", "del", config.hostLink], check: false)
        if FileManager.default.fileExists(atPath: config.stateDir) {
            try FileManager.default.removeItem(atPath: config.stateDir)
        }
    }

    /// What of the environment is still on the machine (namespaces, mounts, processes, state); empty when clean.
    public func leftovers() async throws -> [String] {
        var left: [String] = []
        let ns = try await netnsList()
        left += config.allNetns.filter(ns.contains).map { "netns \($0)" }
        left += config.nodeNames.map(config.dataMount).filter(Self.isMountPoint).map { "mount \($0)" }
        if FileManager.default.fileExists(atPath: config.stateDir) { left.append("state dir \(config.stateDir)") }
        let link = try await runner.run(["/usr/sbin/ip", "link", "show", config.hostLink], check: false)
        if link.succeeded { left.append("link \(config.hostLink)") }
        for spec in allSpecs where daemons.isRunning(spec.name) { left.append("process \(spec.name)") }
        return left
    }

    static func isMountPoint(_ path: String) -> Bool {
        guard let m = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return false }
        return m.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
    }

    // MARK: helpers

    /// Calls `body` every 100 ms until it returns a value or `timeout` passes.
    func poll<T: Sendable>(timeout: Duration, what: String, _ body: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let v = try await body() { return v }
            guard ContinuousClock.now < deadline else { throw EnvironmentError.unhealthy("timed out after \(timeout) waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func writePrivate(_ path: String, _ text: String, owner: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw EnvironmentError.badConfig("cannot write \(path)")
        }
        try chmod(path, 0o600)
        try chown(path, owner)
    }

    /// Gives `path` to `user` (a system user such as postgres).
    func chown(_ path: String, _ user: String) throws {
        guard let pw = getpwnam(user) else { throw EnvironmentError.requirementMissing("system user \(user)") }
        guard Glibc.chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
            throw EnvironmentError.badConfig("cannot chown \(path) to \(user)")
        }
    }

    func chmod(_ path: String, _ mode: mode_t) throws {
        guard Glibc.chmod(path, mode) == 0 else { throw EnvironmentError.badConfig("cannot chmod \(path)") }
    }
}

extension JSONEncoder {
    static var pretty: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }
}
