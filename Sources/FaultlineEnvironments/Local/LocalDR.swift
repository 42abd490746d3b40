import Faultline
import FaultlineConcurrency
import FaultlinePG
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// Disaster-recovery operations of the local environment (docs/dr.md): a mark's server time, a backup, the
// destroy (after a pre-check that a restore can undo it), a repository's loss, an archive gap, and the restore
// by point-in-time recovery through Patroni's custom bootstrap. Every command is kept for the drill's runbook.

/// What a drill keeps between its steps: each mark's server time (the restore target), by name.
public final class DRState: Sendable {
    let marks = Mutex<[String: String]>([:])
    public init() {}
}

/// The marker file a destroy leaves until a restore finished: `faultline heal` after a crash restores from it.
struct DestroyedMarker: Codable {
    /// The repositories the pre-check found restorable, best first.
    var repos: [Int]
    var at: String
}

/// Records the commands of one operation, for `OperationOutcome.commands`.
struct RunbookRecorder {
    var steps: [RunbookStep] = []

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    mutating func add(_ purpose: String, _ command: String, _ outcome: String, at: String = RunbookRecorder.now()) {
        steps.append(RunbookStep(at: at, purpose: purpose, command: Secrets.mask(command), outcome: Secrets.mask(outcome)))
    }
}

extension LocalEnvironment {
    /// The repositories pgBackRest is configured with here.
    public var repositories: [Int] { config.objectStores.map(\.repo) }

    var destroyedMarkerPath: String { "\(config.stateDir)/dr-destroyed.json" }

    func repository(_ name: String?) throws -> Int {
        guard let name else { return repositories[0] }
        guard let n = Int(name) else { throw EnvironmentError.badConfig("repository '\(name)' must be a number (1 or 2)") }
        try BackupRepositories.check(n)
        return n
    }

    /// Runs `argv`, records it for the runbook with its purpose and outcome, and throws on failure.
    @discardableResult
    func recorded(_ book: inout RunbookRecorder, _ purpose: String, _ argv: [String], stdin: String? = nil,
                  timeout: Duration = .seconds(120), check: Bool = true) async throws -> CommandResult {
        let at = RunbookRecorder.now()
        let start = ContinuousClock.now
        let r = try await runner.run(argv, check: false, timeout: timeout, stdin: stdin)
        let took = DurationText.human(ms: start.duration(to: .now).milliseconds)
        let shown = argv.map(CommandRunner.quote).joined(separator: " ") + (stdin.map { "  <<< \($0.trimmingCharacters(in: .newlines))" } ?? "")
        book.add(purpose, shown, r.succeeded ? "ok, \(took)" : "exit \(r.status) after \(took): \(CommandRunner.lastLine(r.stderr + r.stdout))", at: at)
        if check, !r.succeeded {
            throw EnvironmentError.unhealthy("\(purpose) failed: \(Secrets.mask(CommandRunner.lastLine(r.stderr + r.stdout)))")
        }
        return r
    }

    /// SIGKILLs Patroni and PostgreSQL on every node where they run (`killNode`), records each for the runbook,
    /// and waits until no postmaster is left.
    func killCluster(_ why: String, book: inout RunbookRecorder) async throws {
        for n in config.nodeNames {
            let at = RunbookRecorder.now()
            guard (try? await killNode(n)) != nil else { continue }
            book.add("stop \(n) \(why)", "kill -9 <patroni and postgres pids of \(n)>", "killed", at: at)
        }
        try await poll(timeout: .seconds(10), what: "PostgreSQL gone on every node") {
            config.nodeNames.allSatisfy { n in postmasterPID(n).map { !Daemons.isAlive($0) } ?? true } ? () : nil
        }
    }

    /// The current leader, or the first node when there is none.
    func leaderOrFirst() async -> String { await leaderName() ?? config.nodeNames[0] }

    // MARK: mark

    /// The primary's own clock now (through HAProxy, as the application writes): the instant a restore may target.
    func drMark(_ name: String, state: DRState) async throws -> OperationOutcome {
        let dsn = config.readWrite
        let row: [String?] = try await Blocking.run {
            let c = try PGConnection(dsn, connectTimeout: .seconds(2))
            defer { c.close() }
            let r = try c.exec("select to_char(t at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00', "
                               + "(extract(epoch from t) * 1000)::float8::text from (select clock_timestamp() t) s", timeout: .seconds(5))
            return r.rows.first ?? []
        }
        guard row.count == 2, let time = row[0], let epoch = row[1] else { throw EnvironmentError.unhealthy("the primary gave no time") }
        state.marks.withLock { $0[name] = time }
        return OperationOutcome("server time \(time)", facts: ["server-time": time, "server-time-epoch-ms": epoch])
    }

    // MARK: backup

    /// A backup on the primary into `repo` (`runBackup`: `--start-fast`, a checkpoint at once, not at the next
    /// scheduled one, which made a 29 MB backup take 1 min 45 s here).
    func drBackup(_ type: BackupType, repo name: String?) async throws -> OperationOutcome {
        let repo = try repository(name)
        var book = RunbookRecorder()
        let at = RunbookRecorder.now()
        let b = try await runBackup(type: type, repo: repo)
        book.add("\(type.rawValue) backup of the primary into repo\(repo)",
                 "pgbackrest --stanza=\(ArchivingConfig.stanza) --repo=\(repo) --type=\(type.rawValue) --start-fast backup",
                 "backup \(b.label), \(b.durationSeconds) s, WAL \(b.walStart ?? "?")…\(b.walStop ?? "?")", at: at)
        return OperationOutcome("backup \(b.label) in repo\(repo), WAL \(b.walStart ?? "?")…\(b.walStop ?? "?")",
                                facts: ["label": b.label, "repo": "\(repo)", "wal-start": b.walStart ?? "", "wal-stop": b.walStop ?? ""],
                                commands: book.steps)
    }

    /// The newest good backup of `repo`, nil when it holds none (`pgbackrest info`), recorded for the runbook.
    func newestBackup(repo: Int, book: inout RunbookRecorder) async throws -> BackupRecord? {
        let at = RunbookRecorder.now()
        let b = try await backupInfo().newestGood(repo: repo)
        book.add("find the newest good backup in repo\(repo)", "pgbackrest --stanza=\(ArchivingConfig.stanza) --repo=\(repo) info",
                 b.map { "\($0.label), WAL from \($0.walStart ?? "?")" } ?? "none", at: at)
        return b
    }

    /// The WAL segments archived in `repo` (any timeline), recorded for the runbook.
    func archivedSegments(repo: Int, book: inout RunbookRecorder) async throws -> Set<String> {
        let at = RunbookRecorder.now()
        let segs = try await archiveSegments(repo: repo)
        book.add("list the WAL archived in repo\(repo)",
                 "pgbackrest --stanza=\(ArchivingConfig.stanza) --repo=\(repo) repo-ls --recurse archive/\(ArchivingConfig.stanza)",
                 "\(segs.count) segments", at: at)
        return segs
    }

    // MARK: pre-check and destroy

    /// Closes the primary's current WAL segment and waits until it is archived: the archive now holds every
    /// commit made before this call.
    func archiveUpToNow(on leader: String, book: inout RunbookRecorder) async throws -> String {
        let at = RunbookRecorder.now()
        let seg = try await waitFirstArchive(on: leader, timeout: .seconds(60))
        book.add("close the current WAL segment on \(leader) and wait until it is archived",
                 "psql -c \"select pg_walfile_name(pg_switch_wal())\"  # then watch pg_stat_archiver", "archived \(seg)", at: at)
        return seg
    }

    /// The pre-check before anything is destroyed: every repository holding a backup must hold a good one and every
    /// WAL segment from its start to the segment just archived; at least one must. Returns the usable repositories.
    /// `archiveFirst` (a drill with a target T): the current segment is closed and archived first, so the archive holds
    /// T; without (a sudden loss), the check runs to the last segment already archived, and what was not is lost.
    func destroyPreCheck(archiveFirst: Bool = true, book: inout RunbookRecorder) async throws -> [Int] {
        let leader = await leaderOrFirst()
        // With a target, through the segment just closed; without (a sudden loss: no switch, what was not archived is
        // lost), through each repository's newest archived segment.
        let closed: String? = archiveFirst ? try await archiveUpToNow(on: leader, book: &book) : nil
        var usable: [Int] = []
        var problems: [String] = []
        for repo in repositories {
            // No backup here: this repository cannot restore, and is not counted on.
            guard let newest = try await newestBackup(repo: repo, book: &book), let from = newest.walStart else { continue }
            let present = try await archivedSegments(repo: repo, book: &book)
            guard let last = closed ?? present.compactMap(WALSegment.init).max()?.name else { continue }
            let missing = try WALSegments.missing(present: present, from: from, through: last)
            if missing.isEmpty { usable.append(repo) } else {
                problems.append("repo\(repo) lacks WAL segment \(missing.prefix(3).joined(separator: ", "))"
                                + (missing.count > 3 ? " and \(missing.count - 3) more" : "")
                                + " between backup \(newest.label) (\(from)) and \(last)")
            }
        }
        if !problems.isEmpty { throw EnvironmentError.unhealthy("pre-check failed, nothing destroyed: " + problems.joined(separator: "; ")) }
        guard !usable.isEmpty else { throw EnvironmentError.unhealthy("pre-check failed, nothing destroyed: no repository holds a backup") }
        return usable
    }

    /// The disaster: after the pre-check, SIGKILLs Patroni and PostgreSQL everywhere, removes every node's PGDATA and
    /// archive spool and Patroni's keys in etcd. A marker file says which repositories can restore it.
    func drDestroy(archiveFirst: Bool) async throws -> OperationOutcome {
        var book = RunbookRecorder()
        let usable = try await destroyPreCheck(archiveFirst: archiveFirst, book: &book)
        let marker = DestroyedMarker(repos: usable, at: RunbookRecorder.now())
        try JSONEncoder().encode(marker).write(to: URL(fileURLWithPath: destroyedMarkerPath), options: .atomic)
        let disaster = Date().timeIntervalSince1970 * 1000
        try await killCluster("the hard way: SIGKILL Patroni and PostgreSQL", book: &book)
        for n in config.nodeNames {
            try await recorded(&book, "remove \(n)'s data directory", ["/bin/rm", "-rf", config.dataDir(n)])
            try await recorded(&book, "empty \(n)'s archive spool", ["/usr/bin/find", "\(config.pgbackrestDir(n))/spool", "-mindepth", "1", "-delete"])
        }
        try await deletePatroniKeys(book: &book)
        return OperationOutcome("destroyed \(config.nodeNames.joined(separator: ", ")); restorable from "
                                + usable.map { "repo\($0)" }.joined(separator: ", "),
                                facts: ["restorable-repos": usable.map(String.init).joined(separator: ","),
                                        "disaster-epoch-ms": String(format: "%.3f", disaster)], commands: book.steps)
    }

    /// Removes the cluster's keys (`/faultline/<scope>`) from etcd, both APIs.
    func deletePatroniKeys(book: inout RunbookRecorder) async throws {
        let n = config.nodeNames[0]
        let endpoints = config.nodeNames.map { "http://\(config.nodeIP($0)):2379" }.joined(separator: ",")
        let ns = ["/usr/bin/nsenter", "--net=/run/netns/\(config.nodeNetns(n))"]
        if config.dcsAPI == "etcd3" {
            try await recorded(&book, "delete the cluster's state in etcd (v3 keys)",
                               ns + ["/usr/bin/env", "ETCDCTL_API=3", "/usr/bin/etcdctl", "--endpoints=\(endpoints)", "del", "--prefix", "/faultline/"])
        } else {
            try await recorded(&book, "delete the cluster's state in etcd (v2 keys)",
                               ns + ["/usr/bin/env", "ETCDCTL_API=2", "/usr/bin/etcdctl", "--endpoints=\(endpoints)", "rm", "--recursive", "/faultline"],
                               check: false)
        }
    }

    // MARK: restore

    /// Point-in-time recovery of a destroyed cluster: the first node bootstraps through Patroni's custom bootstrap,
    /// whose command is `pgbackrest restore` (to `targetTime`, or to the end of the archive), replays, promotes and
    /// takes the leader key; the recovery settings pgBackRest wrote are reset so no replica inherits them; the other
    /// nodes then start empty and are built by Patroni from the new primary. Facts: the phases' durations.
    func drRestore(targetTime: String?, repo name: String?, force: Bool = false) async throws -> OperationOutcome {
        let repo = try repository(name)
        let running = config.nodeNames.filter { daemons.isRunning("\($0)-patroni") }
        if !running.isEmpty, !force {
            throw EnvironmentError.badConfig("the cluster is up (Patroni runs on \(running.joined(separator: ", "))); "
                                             + "a restore replaces it: destroy it first, or pass --force")
        }
        var book = RunbookRecorder()
        // What runs (or what a destroy killed half-way left running) is replaced by the restore.
        if force { try await killCluster("(the restore replaces it)", book: &book) }
        // Always: a destroy interrupted before it deleted them (faultline killed mid-drill) leaves the old cluster's keys,
        // and Patroni would then wait for that cluster's leader instead of bootstrapping.
        try await deletePatroniKeys(book: &book)
        let first = config.nodeNames[0]
        let yml = "\(config.nodeDir(first))/patroni.yml"
        let original = try String(contentsOfFile: yml, encoding: .utf8)
        var restoreArgs = ["--repo=\(repo)"]
        if let t = targetTime { restoreArgs += ["--type=time", "--target=\(t)", "--target-action=promote"] }
        let command = ([ArchivingConfig.pgbackrest, "--config=\(config.pgbackrestConfig(first))", "--stanza=\(ArchivingConfig.stanza)"]
                       + restoreArgs.map { $0.contains(" ") ? "'\($0)'" : $0 } + ["restore"]).joined(separator: " ")
        let bootstrap = """
            bootstrap:
              method: faultline_pitr
              faultline_pitr:
                command: "\(command)"
                no_params: true
                keep_existing_recovery_conf: true

            """
        try writePrivate(yml, original.replacingOccurrences(of: "bootstrap:\n", with: bootstrap, options: [], range: original.range(of: "bootstrap:\n")),
                         owner: "postgres")
        book.add("let Patroni on \(first) bootstrap by restoring from repo\(repo)" + (targetTime.map { " to \($0)" } ?? " to the end of the archive"),
                 "add to \(yml):\n" + bootstrap, "written")
        defer { try? writePrivate(yml, original, owner: "postgres") }
        let start = ContinuousClock.now
        let startWall = Date().timeIntervalSince1970 * 1000
        try? FileManager.default.removeItem(atPath: config.dataDir(first))
        try await startPatroni(first)
        book.add("start Patroni on \(first)", "patroni \(yml)", "started")
        var restoredAt: ContinuousClock.Instant?
        var replayedAt: ContinuousClock.Instant?
        try await poll(timeout: .seconds(900), what: "\(first) restored and promoted") { () -> Void? in
            guard daemons.isRunning("\(first)-patroni") else {
                throw EnvironmentError.unhealthy("Patroni on \(first) exited during the restore (log: \(daemons.logFile("\(first)-patroni").path))")
            }
            guard let r = try? HTTP.get(config.restURL(first) + "/patroni", timeout: .milliseconds(500)), r.status == 200 || r.status == 503,
                  let o = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] else { return nil }
            let state = o["state"] as? String ?? ""
            let role = o["role"] as? String ?? ""
            if restoredAt == nil, !state.isEmpty, state != "running custom bootstrap script", state != "stopped" { restoredAt = .now }
            if state.contains("failed") { throw EnvironmentError.unhealthy("Patroni on \(first): \(state)") }
            if role == "primary" || role == "master", state == "running" { return () }
            return nil
        }
        let promoted = ContinuousClock.now
        // Where the WAL replay ended: PostgreSQL's "archive recovery complete" in the node's log (Patroni's output), by
        // its own clock; the promotion is from there until Patroni reported the primary running.
        let promotedWall = Date().timeIntervalSince1970 * 1000
        if let end = lastRecoveryComplete(first), end >= startWall, end < promotedWall {
            replayedAt = promoted.advanced(by: .milliseconds(Int64(-(promotedWall - end).rounded())))
        }
        book.add("wait until \(first) has restored, replayed the WAL and been promoted", "curl \(config.restURL(first))/patroni",
                 "primary after \(DurationText.human(ms: start.duration(to: promoted).milliseconds))")
        try await resetRecoverySettings(first, book: &book)
        try writePrivate(yml, original, owner: "postgres")
        for n in config.nodeNames.dropFirst() {
            try? FileManager.default.removeItem(atPath: config.dataDir(n))
            try await startPatroni(n)
            book.add("start Patroni on \(n): it builds the replica from \(first)", "patroni \(config.nodeDir(n))/patroni.yml", "started")
        }
        _ = try await waitHealthy(timeout: .seconds(300))
        try await waitEndpoints(timeout: .seconds(60))
        let healthy = ContinuousClock.now
        book.add("wait until the cluster is healthy (3 members, 1 sync) and takes writes through HAProxy and PgBouncer",
                 "curl \(config.restURL(first))/cluster", "healthy after \(DurationText.human(ms: start.duration(to: healthy).milliseconds))")
        let integrity = try await integrityCheck(first, repo: repo, book: &book)
        try await recorded(&book, "make sure every repository has the stanza (a lost one is made again)",
                           pgbackrestArgv(first, ["--io-timeout=\(ArchivingConfig.setupIOTimeoutSeconds)", "stanza-create"]))
        try? FileManager.default.removeItem(atPath: destroyedMarkerPath)
        await writeBackupMetrics()
        let restoreMs = start.duration(to: restoredAt ?? promoted).milliseconds
        let replayMs = (restoredAt ?? promoted).duration(to: replayedAt ?? promoted).milliseconds
        return OperationOutcome("restored from repo\(repo)" + (targetTime.map { " to \($0)" } ?? " to the end of the archive")
                                + "; primary after \(DurationText.human(ms: start.duration(to: promoted).milliseconds)), healthy after "
                                + DurationText.human(ms: start.duration(to: healthy).milliseconds),
                                facts: ["repo": "\(repo)", "target-time": targetTime ?? "end of archive",
                                        "restore-ms": "\(restoreMs)", "replay-ms": "\(replayMs)",
                                        "promotion-ms": "\((replayedAt ?? promoted).duration(to: promoted).milliseconds)",
                                        "replicas-ms": "\(promoted.duration(to: healthy).milliseconds)"].merging(integrity) { a, _ in a },
                                commands: book.steps)
    }

    /// `faultline backup restore`: a cluster that is up is refused unless `force`, and then replaced only once the
    /// pre-check (backups and unbroken WAL since them) passed for `repo`.
    public func restoreCommand(targetTime: String?, repo: Int, force: Bool) async throws -> OperationOutcome {
        let up = config.nodeNames.filter { daemons.isRunning("\($0)-patroni") }
        if !up.isEmpty {
            guard force else {
                throw EnvironmentError.badConfig("the cluster is up (Patroni runs on \(up.joined(separator: ", "))); "
                                                 + "restoring replaces it: pass --force, or destroy it first")
            }
            var book = RunbookRecorder()
            let usable = try await destroyPreCheck(book: &book)
            guard usable.contains(repo) else {
                throw EnvironmentError.badConfig("repository \(repo) cannot restore this cluster (the pre-check found "
                                                 + (usable.isEmpty ? "none that can" : "only repo \(usable.map(String.init).joined(separator: ", "))") + ")")
            }
        }
        return try await drRestore(targetTime: targetTime, repo: "\(repo)", force: force)
    }

    /// The restored cluster's integrity, each check failing the restore with its reason: `pg_amcheck --heapallindexed`
    /// over every database, data checksums on with no checksum failure counted, `pgbackrest verify` of `repo`.
    func integrityCheck(_ node: String, repo: Int, book: inout RunbookRecorder) async throws -> [String: String] {
        try await recorded(&book, "check every table and index of every database (pg_amcheck, heap and all indexes)",
                                         ["/usr/bin/env", "PGPASSFILE=\(config.stateDir)/pgpass", "/usr/lib/postgresql/15/bin/pg_amcheck",
                                          "--all", "--heapallindexed", "--install-missing", "--host=\(config.nodeIP(node))",
                                          "--username=postgres", "--no-password"], timeout: .seconds(600))
        let dsn = config.direct(node, user: "postgres", dbname: "postgres")
        let at = RunbookRecorder.now()
        let row: [String?] = try await Blocking.run {
            let c = try PGConnection(dsn, connectTimeout: .seconds(2))
            defer { c.close() }
            return try c.exec("select current_setting('data_checksums'), coalesce(sum(checksum_failures), 0)::text from pg_stat_database",
                              timeout: .seconds(5)).rows.first ?? []
        }
        let checksums = row.first.flatMap { $0 } ?? "?"
        let failures = row.count > 1 ? row[1] ?? "?" : "?"
        book.add("data checksums on, and no checksum failure counted",
                 "psql -c \"select current_setting('data_checksums'), sum(checksum_failures) from pg_stat_database\"",
                 "data_checksums \(checksums), \(failures) failures", at: at)
        guard checksums == "on", failures == "0" else {
            throw EnvironmentError.unhealthy("integrity: data_checksums \(checksums), \(failures) checksum failures on the restored primary")
        }
        try await recorded(&book, "verify every backup and archived WAL file of repo\(repo) (pgbackrest verify)",
                           pgbackrestArgv(node, ["--repo=\(repo)", "--io-timeout=\(ArchivingConfig.setupIOTimeoutSeconds)", "--output=text", "verify"]),
                           timeout: .seconds(600))
        return ["pg_amcheck": "ok", "data-checksums": "on, \(failures) failures", "pgbackrest-verify": "ok"]
    }

    /// The wall-clock time (epoch ms) of the last "archive recovery complete" in `node`'s Patroni log, if any.
    func lastRecoveryComplete(_ node: String) -> Double? {
        guard let text = try? String(contentsOf: daemons.logFile("\(node)-patroni"), encoding: .utf8) else { return nil }
        guard let line = text.split(separator: "\n").last(where: { $0.contains("archive recovery complete") }) else { return nil }
        // "2026-12-01 18:42:25.033 UTC [11438] LOG:  archive recovery complete"
        return EpochTime.milliseconds(iso: String(line.prefix(23)))
    }

    /// pgBackRest's restore wrote restore_command and the recovery target into postgresql.auto.conf; a replica built
    /// from this primary would copy them and stop replaying at T. Reset them.
    func resetRecoverySettings(_ node: String, book: inout RunbookRecorder) async throws {
        let dsn = config.direct(node, user: "postgres", dbname: "postgres")
        let sql = ["alter system reset recovery_target_time", "alter system reset recovery_target_action",
                   "alter system reset restore_command", "select pg_reload_conf()"]
        let at = RunbookRecorder.now()
        var last = ""
        do {
            // Right after the promotion Patroni may not have written its pg_hba.conf yet: retry for a while.
            try await poll(timeout: .seconds(30), what: "the recovery settings reset on \(node)") { () -> Void? in
                do {
                    try await Blocking.run {
                        let c = try PGConnection(dsn, connectTimeout: .seconds(2))
                        defer { c.close() }
                        for s in sql { _ = try c.exec(s, timeout: .seconds(5)) }
                    }
                    return ()
                } catch {
                    last = describe(error)
                    return nil
                }
            }
        } catch {
            throw EnvironmentError.unhealthy("cannot reset the recovery settings on \(node): \(last)")
        }
        book.add("reset the recovery settings pgBackRest wrote, so that replicas do not inherit them",
                 "psql -h \(config.nodeIP(node)) -U postgres -c \"" + sql.joined(separator: "; ") + "\"", "ok", at: at)
    }

    // MARK: repository loss and archive gap

    /// Region loss: removes everything of `repo` (its pgBackRest path in the object store).
    func drDestroyRepository(_ name: String) async throws -> OperationOutcome {
        let repo = try repository(name)
        var book = RunbookRecorder()
        guard let store = config.objectStore(repo: repo) else { throw EnvironmentError.badConfig(BackupRepositories.unknown(repo)) }
        let at = RunbookRecorder.now()
        try await removeRepositoryPath(store)
        book.add("delete repo\(repo): its whole pgBackRest path in region \(store.region)'s object store",
                 "weed shell -master=\(store.ip):\(ArchivingConfig.masterPort) <<< 'fs.rm -r /buckets/\(ArchivingConfig.bucket)\(ArchivingConfig.repoPath)'",
                 "deleted", at: at)
        return OperationOutcome("repo\(repo) deleted", facts: ["repo": "\(repo)"], commands: book.steps)
    }

    /// The archive-gap control: closes the current segment twice, so that at least one whole segment lies after
    /// the newest backup, then deletes the first archived segment after that backup's last one (`repo-rm`).
    func drRemoveArchivedWAL(repo name: String?) async throws -> OperationOutcome {
        let repo = try repository(name)
        var book = RunbookRecorder()
        let leader = await leaderOrFirst()
        guard let backup = try await newestBackup(repo: repo, book: &book), let stop = backup.walStop.flatMap(WALSegment.init) else {
            throw EnvironmentError.unhealthy("repo\(repo) holds no backup: no WAL after one to remove")
        }
        _ = try await archiveUpToNow(on: leader, book: &book)
        _ = try await archiveUpToNow(on: leader, book: &book)
        let after = try await archivedSegments(repo: repo, book: &book).compactMap(WALSegment.init).filter { $0.position > stop.position }
        guard let victim = after.min() else { throw EnvironmentError.unhealthy("no archived segment after \(stop) in repo\(repo)") }
        let at = RunbookRecorder.now()
        let files = try await removeArchivedSegment(victim.name, repo: repo)
        book.add("delete archived WAL segment \(victim) from repo\(repo): the gap",
                 "pgbackrest --stanza=\(ArchivingConfig.stanza) --repo=\(repo) repo-rm " + files.map { "\(archivePath)/\($0)" }.joined(separator: " "),
                 "removed", at: at)
        return OperationOutcome("removed \(victim) from repo\(repo)", facts: ["segment": victim.name], commands: book.steps)
    }
}

