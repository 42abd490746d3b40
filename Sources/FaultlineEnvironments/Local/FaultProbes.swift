import FaultlineConcurrency
import Faultline
import FaultlinePG
import Foundation

/// Direct probes of the local environment while faults are in effect, on threads of their own:
/// every ~500 ms a write is tried on every member's PostgreSQL at once (the harness's address is exempt
/// from network faults on port 5432), and the accepting member's `pg_stat_replication` is sampled.
/// Two members acknowledging in one round is a split brain. A probe write that hangs (a demoted primary
/// waiting for its sync standby) is closed after 1.5 s without a cancel request, so a "committed locally"
/// COMMIT is never counted as accepted.
public final class ProbeSampler: @unchecked Sendable {
    private let env: LocalEnvironment
    private let lock = NSLock()
    private var rounds: [WriteProbeRound] = []
    private var lag: [LagSample] = []
    private var notes: [String] = []
    private var running = false
    private var stopRequested = false
    private var origin = ContinuousClock.now
    private var logOffsets: [String: UInt64] = [:]
    private let done = DispatchSemaphore(value: 0)
    /// Between rounds.
    public var interval: Duration = .milliseconds(500)
    /// How long one member's probe may take, connection included.
    public var probeTimeout: Duration = .milliseconds(1_500)

    public init(_ env: LocalEnvironment) { self.env = env }

    /// Starts sampling (once); times are ms since this call.
    public func start() {
        lock.lock()
        guard !running else { lock.unlock(); return }
        running = true
        origin = ContinuousClock.now
        for n in env.config.nodeNames {
            let path = env.daemons.logFile("\(n)-patroni").path
            logOffsets[n] = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
        }
        lock.unlock()
        Thread.detachNewThread { [self] in loop() }
    }

    public func note(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        notes.append(line)
    }

    /// Stops sampling and returns what was seen, with notable PostgreSQL and Patroni log lines; nil if never started.
    public func finish() -> ProbeReport? {
        lock.lock()
        let wasRunning = running
        stopRequested = true
        lock.unlock()
        guard wasRunning else { return nil }
        _ = done.wait(timeout: .now() + 10)
        lock.lock(); defer { lock.unlock() }
        running = false
        return ProbeReport(rounds: rounds, lag: lag, notes: notes + logHighlights())
    }

    private func ms() -> Int { (ContinuousClock.now - origin).milliseconds }

    private func loop() {
        defer { done.signal() }
        while true {
            lock.lock()
            let stop = stopRequested
            lock.unlock()
            if stop { return }
            let started = ContinuousClock.now
            round()
            let rest = interval - (ContinuousClock.now - started)
            if rest > .zero { Thread.sleep(forTimeInterval: Double(rest.milliseconds) / 1_000) }
        }
    }

    private func round() {
        let at = ms()
        let nodes = env.config.nodeNames
        let results = Results()
        let dsns = nodes.map { env.config.direct($0, user: "postgres", dbname: "postgres") }
        let timeout = probeTimeout
        // On the shared blocking pool (no thread per round); each write is bounded by its own deadlines.
        Blocking.forEach(nodes.count) { i in results.set(nodes[i], Self.probeWrite(dsns[i], node: nodes[i], timeout: timeout)) }
        var accepted: [String] = [], refused: [String: String] = [:]
        for n in nodes {
            let r = results.get(n) ?? "timeout"
            if r == "ok" { accepted.append(n) } else { refused[n] = r }
        }
        var samples: [LagSample] = []
        if accepted.count == 1, let rows = try? env.replicationRows(on: accepted[0]) {
            samples = rows.map { LagSample(atMs: at, member: $0.applicationName, bytes: $0.replayLagBytes, seconds: $0.replayLagSeconds) }
        }
        lock.lock()
        rounds.append(WriteProbeRound(atMs: at, accepted: accepted, refused: refused))
        lag += samples
        lock.unlock()
    }

    /// One direct write; "ok" when COMMIT returned OK, else a short reason.
    static func probeWrite(_ dsn: String, node: String, timeout: Duration) -> String {
        let c: PGConnection
        do { c = try PGConnection(dsn + " application_name=faultline-probe", connectTimeout: .seconds(2)) } catch {
            return "connect: " + short(error)
        }
        defer { c.close() }
        let insert = "insert into faultline_probe(node) values ($1)"
        do {
            try c.exec(insert, [node], timeout: timeout)
            return "ok"
        } catch let e where e.sqlState == "42P01" {
            do {
                try c.exec("create table if not exists faultline_probe(id bigserial primary key, node text, at timestamptz default now())", timeout: timeout)
                try c.exec(insert, [node], timeout: timeout)
                return "ok"
            } catch { return short(error) }
        } catch { return short(error) }
    }

    static func short(_ error: any Error) -> String {
        guard let e = error as? PGError else { return "error" }
        if e.sqlState == "25006" { return "read_only" }
        if let s = e.sqlState { return "sqlstate_\(s)" }
        return e.kind.rawValue
    }

    /// Lines of the Patroni logs (PostgreSQL logs there too) written since the start that tell what the
    /// cluster did: demotion, promotion, lock, DCS and disk trouble, Patroni resuming paused replay. At most 40.
    private func logHighlights() -> [String] {
        let keys = ["No space left", "PANIC", "demot", "promot", "leader lock", "DCS", "failsafe", "could not write",
                    "too many clients", "remaining connection slots", "pg_rewind exit", "reinitialize", "shut down", "crash",
                    "paused WAL replay"]
        var out: [String] = []
        for n in env.config.nodeNames {
            guard let h = FileHandle(forReadingAtPath: env.daemons.logFile("\(n)-patroni").path) else { continue }
            defer { try? h.close() }
            try? h.seek(toOffset: logOffsets[n] ?? 0)
            let text = String(decoding: (try? h.read(upToCount: 4 << 20)) ?? Data(), as: UTF8.self)
            var last = ""
            // The probes' own "read-only transaction" errors are not news.
            for line in text.split(separator: "\n") where keys.contains(where: { line.contains($0) }) && !line.contains("faultline_probe") {
                let l = Secrets.mask(String(line.suffix(220)))
                let key = String(l.drop(while: { $0 != "I" && $0 != "W" && $0 != "E" && $0 != "P" && $0 != "F" }).prefix(60))
                if key == last { continue }
                last = key
                out.append("\(n) log: \(l)")
            }
        }
        return Array(out.prefix(40))
    }

    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var r: [String: String] = [:]
        func set(_ k: String, _ v: String) { lock.lock(); r[k] = v; lock.unlock() }
        func get(_ k: String) -> String? { lock.lock(); defer { lock.unlock() }; return r[k] }
    }
}
