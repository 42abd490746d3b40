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
        guard let n = Int(name), repositories.contains(n) else {
            throw EnvironmentError.badConfig("unknown repository '\(name)'; this environment has repositories "
                                             + repositories.map(String.init).joined(separator: " and "))
        }
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

    /// pgBackRest with `node`'s config, in its namespace, as postgres (argv only).
    func pgbackrestArgv(_ node: String, _ args: [String]) -> [String] {
        ["/usr/bin/nsenter", "--net=/run/netns/\(config.nodeNetns(node))",
         "/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
         ArchivingConfig.pgbackrest, "--config=\(config.pgbackrestConfig(node))", "--stanza=\(ArchivingConfig.stanza)"] + args
    }

    /// The current leader, or the first node when there is none.
    func leaderOrFirst() async -> String {
        await status(withReplication: false).members.first { $0.isLeader }?.name ?? config.nodeNames[0]
    }

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

    /// `pgbackrest backup` on the primary into `repo` (`--start-fast`: a checkpoint at once, not at the next
    /// scheduled one, which made a 29 MB backup take 1 min 45 s here).
    func drBackup(_ type: BackupType, repo name: String?) async throws -> OperationOutcome {
        let repo = try repository(name)
        let leader = await leaderOrFirst()
        var book = RunbookRecorder()
        try await recorded(&book, "\(type.rawValue) backup of the primary (\(leader)) into repo\(repo)",
                           pgbackrestArgv(leader, ["--repo=\(repo)", "--type=\(type.rawValue)", "--start-fast", "backup"]),
                           timeout: .seconds(600))
        let info = try await backupInfo(on: leader, repo: repo, book: &book)
        guard let newest = info.last else { throw EnvironmentError.unhealthy("no backup listed in repo\(repo) after the backup") }
        return OperationOutcome("backup \(newest.label) in repo\(repo), WAL \(newest.walStart)…\(newest.walStop)",
                                facts: ["label": newest.label, "repo": "\(repo)", "wal-start": newest.walStart, "wal-stop": newest.walStop],
                                commands: book.steps)
    }

    struct BackupEntry { var label: String; var walStart: String; var walStop: String }

    /// The good backups of `repo`, oldest first (`pgbackrest info --output=json`).
    func backupInfo(on node: String, repo: Int, book: inout RunbookRecorder) async throws -> [BackupEntry] {
        let r = try await recorded(&book, "list the backups of repo\(repo)", pgbackrestArgv(node, ["--repo=\(repo)", "--output=json", "info"]))
        guard let stanzas = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] else {
            throw EnvironmentError.unhealthy("pgbackrest info gave no JSON")
        }
        var out: [BackupEntry] = []
        for s in stanzas {
            for b in s["backup"] as? [[String: Any]] ?? [] where (b["error"] as? Bool) != true {
                let a = b["archive"] as? [String: Any]
                if let label = b["label"] as? String, let start = a?["start"] as? String, let stop = a?["stop"] as? String {
                    out.append(BackupEntry(label: label, walStart: start, walStop: stop))
                }
            }
        }
        return out
    }

    /// The WAL segments archived in `repo` (24-hex names, any timeline).
    func archivedSegments(on node: String, repo: Int, book: inout RunbookRecorder) async throws -> Set<String> {
        let r = try await recorded(&book, "list the WAL archived in repo\(repo)",
                                   pgbackrestArgv(node, ["--repo=\(repo)", "repo-ls", "--recurse", "archive/\(ArchivingConfig.stanza)"]))
        return WALNames.segments(inListing: r.stdout)
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
    func destroyPreCheck(book: inout RunbookRecorder) async throws -> [Int] {
        let leader = await leaderOrFirst()
        let last = try await archiveUpToNow(on: leader, book: &book)
        var usable: [Int] = []
        var problems: [String] = []
        for repo in repositories {
            let backups = try await backupInfo(on: leader, repo: repo, book: &book)
            guard let oldestUseful = backups.last else { continue }  // no backup here: this repository cannot restore
            let present = try await archivedSegments(on: leader, repo: repo, book: &book)
            let missing = WALNames.missing(present: present, from: oldestUseful.walStart, through: last)
            if missing.isEmpty { usable.append(repo) } else {
                problems.append("repo\(repo) lacks WAL segment \(missing.prefix(3).joined(separator: ", "))"
                                + (missing.count > 3 ? " and \(missing.count - 3) more" : "")
                                + " between backup \(oldestUseful.label) (\(oldestUseful.walStart)) and \(last)")
            }
        }
        if !problems.isEmpty { throw EnvironmentError.unhealthy("pre-check failed, nothing destroyed: " + problems.joined(separator: "; ")) }
        guard !usable.isEmpty else { throw EnvironmentError.unhealthy("pre-check failed, nothing destroyed: no repository holds a backup") }
        return usable
    }

    /// The disaster: after the pre-check, SIGKILLs Patroni and PostgreSQL everywhere, removes every node's PGDATA and
    /// archive spool and Patroni's keys in etcd. A marker file says which repositories can restore it.
    func drDestroy() async throws -> OperationOutcome {
        var book = RunbookRecorder()
        let usable = try await destroyPreCheck(book: &book)
        let marker = DestroyedMarker(repos: usable, at: RunbookRecorder.now())
        try JSONEncoder().encode(marker).write(to: URL(fileURLWithPath: destroyedMarkerPath), options: .atomic)
        for n in config.nodeNames {
            let at = RunbookRecorder.now()
            try? await killNode(n)
            book.add("stop \(n) the hard way: SIGKILL Patroni and PostgreSQL", "kill -9 <patroni and postgres pids of \(n)>", "killed", at: at)
        }
        try await poll(timeout: .seconds(10), what: "PostgreSQL gone on every node") {
            config.nodeNames.allSatisfy { n in postmasterPID(n).map { !Daemons.isAlive($0) } ?? true } ? () : nil
        }
        for n in config.nodeNames {
            try await recorded(&book, "remove \(n)'s data directory", ["/bin/rm", "-rf", config.dataDir(n)])
            try await recorded(&book, "empty \(n)'s archive spool", ["/usr/bin/find", "\(config.pgbackrestDir(n))/spool", "-mindepth", "1", "-delete"])
        }
        try await deletePatroniKeys(book: &book)
        return OperationOutcome("destroyed \(config.nodeNames.joined(separator: ", ")); restorable from "
                                + usable.map { "repo\($0)" }.joined(separator: ", "),
                                facts: ["restorable-repos": usable.map(String.init).joined(separator: ",")], commands: book.steps)
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
        if !running.isEmpty {  // forced: what runs is replaced by the restore
            for n in running {
                try? await killNode(n)
                book.add("stop \(n) (the restore replaces it)", "kill -9 <patroni and postgres pids of \(n)>", "killed")
            }
            try await poll(timeout: .seconds(10), what: "PostgreSQL gone on every node") {
                config.nodeNames.allSatisfy { n in postmasterPID(n).map { !Daemons.isAlive($0) } ?? true } ? () : nil
            }
            try await deletePatroniKeys(book: &book)
        }
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
            if role == "primary" || role == "master", state == "running" {
                replayedAt = replayedAt ?? .now
                return ()
            }
            return nil
        }
        let promoted = ContinuousClock.now
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
        try await recorded(&book, "make sure every repository has the stanza (a lost one is made again)",
                           pgbackrestArgv(first, ["--io-timeout=\(ArchivingConfig.setupIOTimeoutSeconds)", "stanza-create"]))
        try? FileManager.default.removeItem(atPath: destroyedMarkerPath)
        let restoreMs = start.duration(to: restoredAt ?? promoted).milliseconds
        let replayMs = (restoredAt ?? promoted).duration(to: replayedAt ?? promoted).milliseconds
        return OperationOutcome("restored from repo\(repo)" + (targetTime.map { " to \($0)" } ?? " to the end of the archive")
                                + "; primary after \(DurationText.human(ms: start.duration(to: promoted).milliseconds)), healthy after "
                                + DurationText.human(ms: start.duration(to: healthy).milliseconds),
                                facts: ["repo": "\(repo)", "target-time": targetTime ?? "end of archive",
                                        "restore-ms": "\(restoreMs)", "replay-ms": "\(replayMs)",
                                        "promotion-ms": "\((replayedAt ?? promoted).duration(to: promoted).milliseconds)",
                                        "replicas-ms": "\(promoted.duration(to: healthy).milliseconds)"],
                                commands: book.steps)
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
        try await recorded(&book, "delete repo\(repo) (its whole pgBackRest path in region \(config.objectStore(repo: repo)?.region ?? "?")'s object store)",
                           weedShellArgv(repo: repo), stdin: "fs.rm -r /buckets/\(ArchivingConfig.bucket)\(ArchivingConfig.repoPath)\n")
        return OperationOutcome("repo\(repo) deleted", facts: ["repo": "\(repo)"], commands: book.steps)
    }

    /// The archive-gap control: closes the current segment twice, so that at least one whole segment lies after
    /// the newest backup, then deletes the first archived segment after that backup's last one.
    func drRemoveArchivedWAL(repo name: String?) async throws -> OperationOutcome {
        let repo = try repository(name)
        var book = RunbookRecorder()
        let leader = await leaderOrFirst()
        guard let backup = try await backupInfo(on: leader, repo: repo, book: &book).last else {
            throw EnvironmentError.unhealthy("repo\(repo) holds no backup: no WAL after one to remove")
        }
        _ = try await archiveUpToNow(on: leader, book: &book)
        _ = try await archiveUpToNow(on: leader, book: &book)
        let r = try await recorded(&book, "list the WAL archived in repo\(repo)",
                                   pgbackrestArgv(leader, ["--repo=\(repo)", "repo-ls", "--recurse", "archive/\(ArchivingConfig.stanza)"]))
        let files = WALNames.files(inListing: r.stdout)
        guard let victim = files.filter({ String($0.name.prefix(24)).dropFirst(8) > backup.walStop.dropFirst(8) }).min(by: { $0.name < $1.name }) else {
            throw EnvironmentError.unhealthy("no archived segment after \(backup.walStop) in repo\(repo)")
        }
        try await recorded(&book, "delete archived WAL segment \(victim.name.prefix(24)) from repo\(repo) (the gap)",
                           weedShellArgv(repo: repo),
                           stdin: "fs.rm /buckets/\(ArchivingConfig.bucket)\(ArchivingConfig.repoPath)/archive/\(ArchivingConfig.stanza)/\(victim.path)\n")
        return OperationOutcome("removed \(victim.name.prefix(24)) from repo\(repo)", facts: ["segment": String(victim.name.prefix(24))],
                                commands: book.steps)
    }

    /// `weed shell` against the object store of `repo`.
    func weedShellArgv(repo: Int) -> [String] {
        weedShell(config.objectStore(repo: repo) ?? config.objectStores[0])
    }
}

/// WAL file names in pgBackRest listings, and the gaps between them. Pure.
public enum WALNames {
    /// One archived file: its path below `archive/<stanza>/` and its name.
    public struct File: Equatable, Sendable { public var path: String; public var name: String }

    static func isHex24(_ s: Substring) -> Bool { s.count >= 24 && s.prefix(24).allSatisfy(\.isHexDigit) }

    /// Every archived WAL segment file in a `repo-ls --recurse` listing (`15-1/0000000100000000/<24 hex>-<sha1>.lz4`).
    public static func files(inListing text: String) -> [File] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> File? in
            let path = line.trimmingCharacters(in: .whitespaces)
            guard let name = path.split(separator: "/").last, isHex24(name), name.dropFirst(24).first == "-" else { return nil }
            return File(path: path, name: String(name))
        }
    }

    /// The 24-hex segment names of `files(inListing:)`.
    public static func segments(inListing text: String) -> Set<String> { Set(files(inListing: text).map { String($0.name.prefix(24)) }) }

    /// (log, seg) of a segment name: its position in the WAL, whatever its timeline.
    static func position(_ name: String) -> (UInt64, UInt64)? {
        guard name.count >= 24, let log = UInt64(name.dropFirst(8).prefix(8), radix: 16),
              let seg = UInt64(name.dropFirst(16).prefix(8), radix: 16) else { return nil }
        return (log, seg)
    }

    /// The positions from `from` through `through` (16 MiB segments: 256 a log file) that no archived segment of any
    /// timeline covers, as segment names on `through`'s timeline. A timeline switch is not a gap.
    public static func missing(present: Set<String>, from: String, through: String) -> [String] {
        guard let a = position(from), let b = position(through) else { return [] }
        let have = Set(present.compactMap { position($0).map { $0.0 << 8 | $0.1 } })
        let tl = through.prefix(8)
        var out: [String] = []
        var p = a.0 << 8 | a.1
        let end = b.0 << 8 | b.1
        while p <= end, out.count < 1000 {
            if !have.contains(p) {
                out.append(tl + hex8(p >> 8) + hex8(p & 0xFF))
            }
            p += 1
        }
        return out
    }

    static func hex8(_ v: UInt64) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}
