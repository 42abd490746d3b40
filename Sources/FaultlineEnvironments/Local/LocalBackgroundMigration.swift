import Faultline
import FaultlineConcurrency
import FaultlinePG
import Foundation

/// A migration that runs while later steps inject faults (`StartMigration` … `FinishMigration`), and every
/// `Migrate` step too (started, then waited for at once): `scripts/migrate up`
/// as a child process, watched by one thread of its own that samples the primary every 100 ms (`MigrationSampler`:
/// application lock waits, replica lag), finding the primary again after a failover. `finish` joins it; `cancel`
/// (at the end of a run that never finished it) stops the process (SIGTERM: `scripts/migrate` rolls back) and joins.
public final class BackgroundMigration: @unchecked Sendable {
    private let lock = NSLock()
    private var job: Job?

    final class Job: @unchecked Sendable {
        let revision: String
        let started = ContinuousClock.now
        let process: Process
        let sampler: MigrationSampler
        let log: URL
        let done = DispatchSemaphore(value: 0)
        init(revision: String, process: Process, sampler: MigrationSampler, log: URL) {
            (self.revision, self.process, self.sampler, self.log) = (revision, process, sampler, log)
        }
    }

    public init() {}

    /// Starts `scripts/migrate up --to revision` in the background; throws if one is running already.
    func start(_ revision: String, on env: LocalEnvironment) throws -> OperationOutcome {
        lock.lock(); defer { lock.unlock() }
        if let j = job, j.process.isRunning {
            throw EnvironmentError.unhealthy("a background migration to \(j.revision) is still running")
        }
        let argv = env.migrateArgv(["up", "--to", revision] + LocalEnvironment.historyFlags(revision))
        let log = URL(fileURLWithPath: "\(env.config.stateDir)/migrate-background.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let out = try FileHandle(forWritingTo: log)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        env.runner.commandLog?.append(Secrets.mask(argv.joined(separator: " ")) + " &  # in the background")
        try p.run()
        try? out.close()
        let nodes = env.config.nodeNames.map { env.config.direct($0, user: "postgres", dbname: LocalEnvironment.applicationDatabase) }
        let sampler = MigrationSampler(application: AppVersion.sessionName)
        let j = Job(revision: revision, process: p, sampler: sampler, log: log)
        job = j
        Thread.detachNewThread { Self.watch(j, primaryAmong: nodes) }
        return OperationOutcome("migrating to \(revision) in the background (pid \(p.processIdentifier))")
    }

    /// Samples until the process ends, then signals `done`.
    private static func watch(_ j: Job, primaryAmong nodes: [String]) {
        defer { j.done.signal() }
        var conn: PGConnection?
        while j.process.isRunning {
            let next = ContinuousClock.now.advanced(by: .milliseconds(100))
            if conn == nil { conn = primary(nodes) }
            if let c = conn {
                if !j.sampler.sample(on: c) { c.close(); conn = nil }
            } else {
                j.sampler.record(nil)
            }
            let rest = next - ContinuousClock.now
            if rest > .zero { Thread.sleep(forTimeInterval: Double(rest.milliseconds) / 1_000) }
        }
        conn?.close()
    }

    /// A superuser connection to whichever member accepts writes now, or nil (during a failover).
    private static func primary(_ nodes: [String]) -> PGConnection? {
        for dsn in nodes {
            guard let c = try? PGConnection(dsn, connectTimeout: .seconds(1)) else { continue }
            if (try? c.exec("SELECT NOT pg_is_in_recovery()", timeout: .seconds(1)).scalar) == "t" { return c }
            c.close()
        }
        return nil
    }

    /// Waits (at most `timeout`) for the background migration to end: its exit status, the last lines of its output,
    /// what the sampler saw, and how long it ran.
    func finish(timeout: Duration) async throws -> (status: Int32, output: String, facts: [String: String], ms: Int, revision: String) {
        guard let j = lock.withLock({ job }) else {
            throw EnvironmentError.unhealthy("no background migration was started")
        }
        let ended = await Blocking.run { j.done.wait(timeout: .now() + .milliseconds(timeout.milliseconds)) == .success }
        guard ended else {
            throw EnvironmentError.unhealthy("the background migration to \(j.revision) did not end within \(DurationText.format(timeout))")
        }
        j.process.waitUntilExit()
        lock.withLock { job = nil }
        let text = (try? String(contentsOf: j.log, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n").suffix(12).joined(separator: "\n")
        return (j.process.terminationStatus, Secrets.mask(tail), j.sampler.facts, Int((ContinuousClock.now - j.started).milliseconds), j.revision)
    }

    /// Whether the background migration's process still runs.
    var isRunning: Bool { lock.withLock { job?.process.isRunning ?? false } }

    /// "upgrade 0010" once the log shows the first revision's upgrade has begun; nil before.
    func firstStep() -> String? {
        guard let j = lock.withLock({ job }), let text = try? String(contentsOf: j.log, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("faultline-migrate: upgrade ") }) else { return nil }
        return String(line.dropFirst("faultline-migrate: ".count))
    }

    /// SIGTERM to a migration still running (`scripts/migrate` rolls back); returns at once.
    func terminate() {
        if let j = lock.withLock({ job }), j.process.isRunning { j.process.terminate() }
    }

    /// Stops a migration still running (SIGTERM; `scripts/migrate` rolls back), waits up to 60 s for it; nothing if none.
    func cancel() {
        guard let j = lock.withLock({ job }) else { return }
        terminate()
        _ = j.done.wait(timeout: .now() + 60)
        lock.withLock { job = nil }
    }
}

extension LocalEnvironment {
    /// `StartMigration(to:)`: returns once the first pending revision's upgrade has begun (env.py's
    /// "faultline-migrate: upgrade REV" line), so a `Hold` after it counts from the first step, not from the start-up of
    /// Python, the schema dump and Alembic (2-3 s); or once the migration ended, or after 60 s.
    func startBackgroundMigration(_ revision: String, _ job: BackgroundMigration) async throws -> OperationOutcome {
        let started = ContinuousClock.now
        var outcome = try job.start(revision, on: self)
        let deadline = started.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            if let step = job.firstStep() {
                outcome.detail += "; \(step) began after \(DurationText.human(ms: Int((ContinuousClock.now - started).milliseconds)))"
                outcome.facts["first-step"] = step
                return outcome
            }
            if !job.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return outcome
    }

    /// `FinishMigration()`: the background migration's outcome, as `migrate` reports it (facts, verify-schema).
    func finishBackgroundMigration(_ job: BackgroundMigration) async throws -> OperationOutcome {
        let r = try await job.finish(timeout: .minutes(30))
        let result: Result<Void, any Error> = r.status == 0 ? .success(())
            : .failure(EnvironmentError.unhealthy("scripts/migrate up --to \(r.revision) exited \(r.status): "
                                                  + (r.output.split(separator: "\n").last.map(String.init) ?? "")))
        var outcome = try await migrationOutcome(r.revision, result: result, facts: r.facts, ms: r.ms)
        // What scripts/migrate said of resumes after a lost database and of an INVALID index it dropped, for the report.
        let lines = r.output.split(separator: "\n")
        let resumes = lines.filter { $0.contains("resum") }
        if !resumes.isEmpty { outcome.facts["resumes"] = resumes.joined(separator: " | ") }
        if let invalid = lines.first(where: { $0.contains("INVALID") }) { outcome.facts["invalid-index"] = String(invalid) }
        return outcome
    }
}
