import Faultline
import FaultlineConcurrency
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The local environment as the scenario runner sees it: topology from Patroni, faults as signals
/// and Patroni REST calls, reversals and heal through `LocalEnvironment`.
public struct LocalRunnerEnvironment: Faultline.Environment {
    public let local: LocalEnvironment
    /// Size of commands.log when this run began: the run's own commands follow it.
    private let logOffset: UInt64
    /// Direct probes (split brain, lag), started by the first fault this run applies.
    public let probes: ProbeSampler
    /// Sessions held by session faults (long query, idle in transaction, connections).
    public let sessions = HeldSessions()
    /// A drill's marks (their server times), for a restore to one.
    public let dr = DRState()
    /// The migration a `StartMigration` left running while the next steps go on.
    public let background = BackgroundMigration()

    public init(_ local: LocalEnvironment) {
        self.local = local
        self.probes = ProbeSampler(local)
        let attrs = try? FileManager.default.attributesOfItem(atPath: Self.logPath(local))
        self.logOffset = (attrs?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    static func logPath(_ l: LocalEnvironment) -> String { "\(l.config.stateDir)/commands.log" }

    public func topology() async throws -> Topology {
        ClusterStatus.topology(from: await local.status(withReplication: false).members)
    }

    /// Called once, at the end of a run: stops the probes, and a background migration the run never finished
    /// (an aborted or failed run: SIGTERM, `scripts/migrate` rolls back).
    public func probeReport() async -> ProbeReport? {
        await Blocking.run { background.cancel() }
        return probes.finish()
    }

    /// Not only the DCS view: every node's PostgreSQL runs and clients can write again. When the heal gives up
    /// on an unhealthy cluster although every daemon it restarts is running (Patroni up, PostgreSQL never
    /// started, no leader, writes refused), that is the cluster's failure to recover: `ClusterDidNotRecover`.
    /// Any other error (a daemon that would not start, a command that failed) stays the harness's.
    public func heal() async throws {
        do {
            try await local.heal(timeout: .seconds(90))
        } catch EnvironmentError.unhealthy(let why) where local.everyDaemonRunning {
            local.logPatroniTails(lines: 25)
            throw ClusterDidNotRecover(why)
        }
    }

    /// The demo application before a migration scenario's load (LocalMigrations.swift).
    public func prepareApplication(_ app: ApplicationSpec) async throws -> OperationOutcome {
        try await local.prepareApplication(app)
    }

    /// The disaster-recovery operations (LocalDR.swift) and migrations (LocalMigrations.swift).
    public func perform(_ operation: OperationSpec) async throws -> OperationOutcome {
        switch operation {
        case .mark(let name): return try await local.drMark(name, state: dr)
        case .backup(let type, let repo): return try await local.drBackup(type, repo: repo)
        // With a mark, the WAL up to it is archived before anything goes; without, the loss is sudden.
        case .destroy: return try await local.drDestroy(archiveFirst: !dr.marks.withLock(\.isEmpty))
        case .destroyRepository(let repo): return try await local.drDestroyRepository(repo)
        case .removeArchivedWAL(let repo): return try await local.drRemoveArchivedWAL(repo: repo)
        case .restore(let to, let repo):
            var time: String?
            if let to {
                guard let t = dr.marks.withLock({ $0[to] }) else {
                    throw EnvironmentError.unhealthy("restore to mark '\(to)': its server time was not recorded")
                }
                time = t
            }
            return try await local.drRestore(targetTime: time, repo: repo)
        case .migrate(let revision): return try await local.migrateOperation(to: revision)
        case .startMigration(let revision): return try await local.startBackgroundMigration(revision, background)
        case .finishMigration: return try await local.finishBackgroundMigration(background)
        // The runner hands workload switches to the load generator; this environment has none of its own.
        case .switchWorkload:
            throw OperationUnsupported("the local environment does not switch workloads (the load generator does)")
        }
    }

    /// Each node's PostgreSQL, directly (not through HAProxy), as the app user that owns the ledger table;
    /// the password comes from the passfile. A replica answers the read-back too.
    public func memberReadEndpoints() async -> [String: String] {
        Dictionary(uniqueKeysWithValues: local.config.nodeNames.map { ($0, local.config.direct($0)) })
    }

    public func commandLog() async -> [String] {
        guard let h = FileHandle(forReadingAtPath: Self.logPath(local)) else { return [] }
        defer { try? h.close() }
        try? h.seek(toOffset: logOffset)
        let data = (try? h.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

extension LocalEnvironment {
    /// Every daemon the heal restarts (etcd, Patroni, HAProxy, PgBouncer, ...) is running.
    var everyDaemonRunning: Bool { allSpecs.allSatisfy { daemons.isRunning($0.name) } }

    /// Logs (warning) the last `lines` lines of every node's Patroni log (PostgreSQL's own output included),
    /// secrets masked: what a cluster that did not recover was doing, for the run's log and CI's output.
    func logPatroniTails(lines: Int) {
        for n in config.nodeNames {
            let file = daemons.logFile("\(n)-patroni")
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            let tail = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines)
            logger.warning("the last \(tail.count) lines of \(file.path):\n\(Secrets.mask(tail.joined(separator: "\n")))")
        }
    }

    /// SIGKILLs Patroni and every PostgreSQL process of `node` (etcd on the node keeps running, so
    /// the DCS keeps its quorum). The leader key then expires after ttl. Passes repeat until no process of the
    /// postgres user is left in the node's namespace: a backend the postmaster forked between the listing and its
    /// kill outlives it, keeps the shared memory attached, and the next postmaster refuses to start ("pre-existing
    /// shared memory block is still in use"): the old primary then never came back after the heal.
    public func killNode(_ node: String) async throws {
        var first: [Int32] = []
        if let p = daemons.livePid("\(node)-patroni") { first.append(p) }
        for pass in 0..<10 {
            let victims = first + (try await postgresProcesses(node)).filter { !first.contains($0) }
            first = []
            if victims.isEmpty {
                guard pass > 0 else { throw EnvironmentError.unhealthy("nothing of \(node) is running") }
                return
            }
            runner.commandLog?.append("kill -9 \(victims.map(String.init).joined(separator: " "))  # \(node): "
                                      + (pass == 0 ? "patroni and postgres" : "postgres processes left after pass \(pass)"))
            for pid in victims { kill(pid, SIGKILL) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Every process of the postgres user in `node`'s namespace (Patroni, the postmaster and its children, archive-push).
    func postgresProcesses(_ node: String) async throws -> [Int32] {
        let postgresUID = getpwnam("postgres")?.pointee.pw_uid
        return try await pidsIn(config.nodeNetns(node)).filter { Self.uid(of: $0) == postgresUID && Daemons.isAlive($0) }
    }

    /// With the postmaster of `node`'s `postmaster.pid` dead, a PostgreSQL process reparented to init (title
    /// "postgres: …") is an orphan of a killed postmaster. One that waits on a lock its killed sibling held never exits
    /// (seen: a harness probe's backend, forked as the primary was killed, asleep on a futex for minutes), keeps the old
    /// shared memory attached, and every start of the next postmaster fails ("pre-existing shared memory block is
    /// still in use"): the old primary stays "start failed". SIGKILL them. Patroni and its own children are left alone.
    func reapOrphans(_ node: String) async throws {
        guard postmasterPID(node) == nil else { return }
        let orphans = try await postgresProcesses(node).filter { Self.parentPID(of: $0) == 1 && Self.title(of: $0).hasPrefix("postgres: ") }
        guard !orphans.isEmpty else { return }
        logger.warning("\(node): \(orphans.count) PostgreSQL process(es) outlived their postmaster; killing them")
        runner.commandLog?.append("kill -9 \(orphans.map(String.init).joined(separator: " "))  # \(node): orphans of a killed postmaster")
        for pid in orphans { kill(pid, SIGKILL) }
        try await Task.sleep(for: .milliseconds(100))
    }

    static func parentPID(of pid: Int32) -> Int32? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("PPid:") }) else { return nil }
        return Int32(line.dropFirst("PPid:".count).trimmingCharacters(in: .whitespaces))
    }

    static func title(of pid: Int32) -> String {
        guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: d.split(separator: 0).first ?? Data(), as: UTF8.self)
    }

    /// Starts Patroni on `node` unless it is running.
    public func startPatroniIfDown(_ node: String) async throws {
        guard !daemons.isRunning("\(node)-patroni") else { return }
        try await reapOrphans(node)
        try await startPatroni(node)
    }

    /// A planned switchover through Patroni's REST API; returns when Patroni has answered.
    public func switchover(from: String, to: String?) async throws {
        var body = #"{"leader":"\#(from)""#
        if let to { body += #","candidate":"\#(to)""# }
        body += "}"
        let url = config.restURL(from) + "/switchover"
        runner.commandLog?.append("POST \(url) \(body)")
        let r: HTTP.Response
        do { r = try HTTP.request("POST", url, body: body, timeout: .seconds(30)) } catch {
            throw EnvironmentError.unhealthy("switchover request failed: \(error)")
        }
        guard r.status == 200 else {
            throw EnvironmentError.unhealthy("switchover refused (HTTP \(r.status)): \(r.body.prefix(200))")
        }
    }

    static func uid(of pid: Int32) -> uid_t? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { uid_t($0) }
    }
}

extension LocalRunnerEnvironment {
    /// Which member HAProxy's read-write port reaches as a primary (PoolerFaults.swift).
    public func routedPrimary() async throws -> String? { await local.routedPrimary() }
}
