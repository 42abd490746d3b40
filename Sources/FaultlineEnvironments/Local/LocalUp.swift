import FaultlinePG
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Bring-up: `up()` creates the whole environment (state, secrets, network, storage, configs, daemons)
/// and waits until it is healthy.
extension LocalEnvironment {
    // MARK: - up

    /// Creates the whole environment and waits until it is healthy. Refuses when not root, when a
    /// requirement is missing, or when it is already up; then nothing is changed.
    ///
    /// A failed attempt is torn down and the whole bring-up tried once more (a brand-new environment has
    /// nothing to lose, so every phase can be retried this way); the error of the last attempt names the phase
    /// that failed and why, and says whether anything was left behind (`FAULTLINE_KEEP_FAILED` keeps a failed
    /// environment for inspection instead, and does not retry).
    public func up(timeout: Duration = .seconds(90), attempts: Int = 2) async throws -> BringUpReport {
        try config.validate()
        try Self.checkPreconditions(config)
        guard !(try await isUp()) else { throw EnvironmentError.alreadyUp("local") }
        let keep = ProcessInfo.processInfo.environment["FAULTLINE_KEEP_FAILED"] != nil
        let tries = keep ? 1 : max(1, attempts)
        for attempt in 1...tries {
            var phase = "state, secrets, network, storage and configs"
            do {
                return try await attemptUp(timeout: timeout) { phase = $0 }
            } catch {
                let reason = (error as? EnvironmentError)?.description ?? "\(error)"
                let kept = keepFailedLogs()
                logger.error("env up attempt \(attempt) of \(tries) failed in phase '\(phase)'; tearing down; daemon logs kept in \(kept)",
                             metadata: ["error": "\(reason)"])
                if keep {
                    throw EnvironmentError.bringUpFailed(phase: phase, attempts: attempt, reason: reason, leftovers: ["kept: FAULTLINE_KEEP_FAILED"])
                }
                try? await down()
                if attempt == tries {
                    let left = (try? await leftovers()) ?? ["(could not check)"]
                    throw EnvironmentError.bringUpFailed(phase: phase, attempts: attempt, reason: reason, leftovers: left)
                }
                FileHandle.standardError.write(Data("faultline: env up failed in phase '\(phase)' (\(reason)); torn down, trying once more\n".utf8))
            }
        }
        throw EnvironmentError.unhealthy("env up made no attempt")
    }

    /// Copies what explains a failed attempt before the teardown removes it: the daemons' logs (Patroni's
    /// includes PostgreSQL's) and each node's pgBackRest logs (stanza-create, archive-push-async: a first
    /// segment that is not archived in time says why only there), as `nN-pgbackrest-<file>`.
    /// Returns the folder, `/tmp/faultline-failed-up-logs` by default, replaced each time.
    func keepFailedLogs(in kept: String = "/tmp/faultline-failed-up-logs") -> String {
        let fm = FileManager.default
        try? fm.removeItem(atPath: kept)
        try? fm.copyItem(atPath: "\(config.stateDir)/logs", toPath: kept)
        for n in config.nodeNames {
            let dir = "\(config.nodeDir(n))/pgbackrest/log"
            for f in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] {
                try? fm.copyItem(atPath: "\(dir)/\(f)", toPath: "\(kept)/\(n)-pgbackrest-\(f)")
            }
        }
        return kept
    }

    /// One bring-up attempt; `entering` is told the name of each phase as it starts.
    private func attemptUp(timeout: Duration, entering: (String) -> Void) async throws -> BringUpReport {
        let started = ContinuousClock.now
        var phases: [(name: String, at: Duration)] = []
        func mark(_ name: String, next: String) {
            phases.append((name, ContinuousClock.now - started))
            logger.info("up: \(name)", metadata: ["at": "\(ContinuousClock.now - started)"])
            entering(next)
        }
        try prepareStateDir()
        let secrets = try writeSecrets()
        try await createNetwork()
        try await mountData()
        try await prepareArchiving(secrets: secrets)
        try renderConfigs(secrets: secrets)
        try renderObservability(appPassword: secrets.app)
        try await startSeaweed()
        mark("network, storage and configs", next: "etcd quorum")
        for n in config.nodeNames { try await startEtcd(n) }
        try await waitEtcd(timeout: .seconds(20))
        mark("etcd quorum", next: "Patroni leader")
        for n in config.nodeNames { try await startPatroni(n) }
        try await startHAProxy()
        // The bucket is created while Patroni bootstraps.
        async let bucket: Void = createBucket(timeout: .seconds(60))
        // The leader is the one this poll saw running, not a second look: right after the bootstrap the members'
        // views pick up the leader's timeline a moment apart, and a second status once found no leader a moment
        // after this poll had seen one (docs/environment.md, "No leader right after the leader was seen").
        let leader = try await poll(timeout: timeout, what: "a leader") { () -> String? in
            try ensureRunning(config.nodeNames.map(patroniSpec))
            return await self.status(withReplication: false).runningLeader
        }
        mark("Patroni leader running", next: "S3 bucket and pgBackRest stanza")
        try await bucket
        try await createStanza(on: leader, timeout: .seconds(20))
        mark("S3 bucket and pgBackRest stanza", next: "application database and PgBouncer")
        try await createAppDatabase(secrets: secrets, on: leader)
        try await startPgBouncer()
        try ensureRunning([pgbouncerSpec])
        mark("application database and PgBouncer", next: "healthy: streaming replicas and a sync standby")
        let healthy = try await waitHealthy(timeout: timeout, watching: clusterSpecs)
        // Only now: in strict synchronous mode a commit waits until a standby streams, and on a busy machine the
        // replicas' base backups can take longer than this wait (1 bring-up in 10, 2026-12-07, load average 25).
        mark("healthy: 2 streaming replicas, 1 sync", next: "writes through HAProxy and PgBouncer")
        try await waitEndpoints(timeout: .seconds(20))
        mark("writes through HAProxy and PgBouncer", next: "first WAL segment archived")
        // The leader of the healthy status (a healthy cluster has one).
        let l = healthy.leader?.name ?? leader
        // 75 s: once in 5 bring-ups (2026-12-01, archive-async to two stores) the first segment took longer than
        // 30 s to reach both; a slow first push is not a broken environment.
        let waitStarted = ContinuousClock.now
        let seg = try await waitFirstArchive(on: l, timeout: .seconds(75))
        // A slow first segment (2 of 20 bring-ups on 2026-12-07, ~50 s; usually ~1 s) was stanza-create's
        // archive lock (`pushReadySegments`). Should another cause make it slow, keep what would explain it.
        let slow = ContinuousClock.now - waitStarted > .seconds(15)
            ? "; slow, logs kept in \(keepFailedLogs(in: "/tmp/faultline-slow-first-archive-logs"))" : ""
        mark("WAL archiving: \(seg) in \(config.s3URL)\(slow)", next: "observability")
        await writeBackupMetrics()
        try await startObservability()
        if config.observabilityEnabled {
            mark("observability (\(config.alertProfile.rawValue) alerts): Prometheus and Alertmanager ready", next: "status")
        }
        let status = await self.status(withMemory: true)
        try writeOwnershipStamp()  // last: only a bring-up that finished owns the environment
        return BringUpReport(elapsed: ContinuousClock.now - started, phases: phases, status: status)
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
        /// Region B's own key pair (repo2).
        var s3AccessKeyB: String? = nil, s3SecretKeyB: String? = nil
    }

    private func writeSecrets() throws -> SecretSet {
        func random(_ n: Int = 24, _ alphabet: String = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") -> String {
            var g = SystemRandomNumberGenerator()
            return (0..<n).map { _ in String(alphabet.randomElement(using: &g)!) }.joined()
        }
        let s = SecretSet(superuser: random(), replication: random(), rewind: random(), app: random(),
                          s3AccessKey: random(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), s3SecretKey: random(40),
                          s3AccessKeyB: random(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), s3SecretKeyB: random(40))
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
        // Region B's object store: a namespace of its own on the bridge.
        do {
            let ns = config.regionBNetns, v = "v-s3b"
            try await runner.run([ip, "-n", c, "link", "add", v, "type", "veth", "peer", "name", "eth0", "netns", ns])
            try await runner.run([ip, "-n", c, "link", "set", v, "master", config.bridge, "up"])
            try await runner.run([ip, "-n", ns, "addr", "add", "\(config.regionBIP)/24", "dev", "eth0"])
            try await runner.run([ip, "-n", ns, "link", "set", "eth0", "up"])
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

    private func waitEtcd(timeout: Duration) async throws {
        try await poll(timeout: timeout, what: "etcd quorum") { () -> Void? in
            let healthy = self.config.nodeNames.filter { n in
                (try? HTTP.get("http://\(self.config.nodeIP(n)):2379/health", timeout: .milliseconds(500)))?.body.contains("\"true\"") == true
            }
            return healthy.count == self.config.nodeCount ? () : nil
        }
    }

    private func createAppDatabase(secrets: SecretSet, on leader: String) async throws {
        // `synchronous_commit = local`: the replicas may still be taking their base backups, and in strict
        // synchronous mode (`synchronous_standby_names = '*'` while none streams) every commit would wait for one;
        // on a busy machine longer than a statement's deadline ("no answer within 10.0 seconds", 2026-12-07).
        // Nothing is at stake yet: the bring-up checks later that commits reach a sync standby.
        let admin = try PGConnection(config.direct(leader, user: "postgres", dbname: "postgres"))
        defer { admin.close() }
        try admin.exec("set synchronous_commit = local")
        // The password is sent as a literal in SQL: it is never logged (log_statement is off).
        let pw = secrets.app.replacingOccurrences(of: "'", with: "''")
        try admin.exec("create role faultline login password '\(pw)'")
        try admin.exec("create database faultline owner faultline")
        let app = try PGConnection(config.direct(leader, user: "postgres", dbname: "faultline"))
        defer { app.close() }
        try app.exec("set synchronous_commit = local; create extension if not exists pg_stat_statements; grant pg_monitor to faultline")
    }
}
