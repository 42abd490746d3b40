import Synchronization
@testable import Faultline

/// A deterministic clock: sleeping jumps virtual time to the deadline at once. Only the runner's own task
/// sleeps on it, so every run is reproducible. `advance` lets fakes spend time (a command taking 50 ms).
final class VirtualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private let state = Mutex<Duration>(.zero)
    var now: Instant { Instant(offset: state.withLock { $0 }) }
    var minimumResolution: Duration { .milliseconds(1) }
    var elapsedMs: Int { now.offset.milliseconds }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        state.withLock { $0 = max($0, deadline.offset) }
        await Task.yield()
    }

    /// A wait that moves no time: it returns once someone else (the runner's own sleeps) has moved the clock `d` on.
    /// For a second task of the run (the abort watcher), so that only the runner drives virtual time.
    var passiveWait: @Sendable (Duration) async throws -> Void {
        { [self] d in
            let deadline = now.advanced(by: d)
            while now < deadline {
                try Task.checkCancellation()
                await Task.yield()
            }
        }
    }

    func advance(by d: Duration) { state.withLock { $0 += d } }
}

/// Everything the fakes were asked to do, in order, across environment, ledger and load.
final class Journal: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ s: String) { lines.withLock { $0.append(s) } }
    var all: [String] { lines.withLock { $0 } }
    func index(_ prefix: String) -> Int? { all.firstIndex { $0.hasPrefix(prefix) } }
}

/// A three-node cluster that fails over on script: after a kill of the primary the topology shows the old
/// leader for `detectAfter`, then no primary until `promoteAfter`, then n2 as primary with n3 sync.
/// A reverted node comes back as an async replica 2 s later.
actor FakeCluster: Environment {
    enum Mode {
        case normal, neverPromotes, applyThrows, applyHangs, healThrows, unhealthyAtStart, topologyThrowsDuringOutage
        /// Every reversal succeeds, then the heal throws `ClusterDidNotRecover` (the old primary never started).
        case healDoesNotRecover
        /// A reversal throws, and the heal then throws `ClusterDidNotRecover`: still the harness's failure.
        case revertFailsHealDoesNotRecover
    }

    let clock: VirtualClock
    let journal: Journal
    let mode: Mode
    let detectAfter = Duration.seconds(1)
    let promoteAfter = Duration.seconds(3)
    var killedAt: VirtualClock.Instant?
    var killed: String?
    var revertedAt: VirtualClock.Instant?
    var switchedAt: VirtualClock.Instant?
    /// Whether the pooler is paused (`pausePooler`), until its reversal or the full heal resumes it.
    var poolerPaused = false
    /// Set by `takeBack()`: the old primary n1 took the leader key back on a new timeline (Patroni 3.0.2's bug).
    var takenBack = false
    let applyStarted: AsyncStream<Void>.Continuation
    /// How `perform` behaves, by operation slug (`backup`, `restore`, ...); an operation not listed is unsupported.
    let operations: [String: FakeOperation]
    /// `memberReadEndpoints`: none unless given (the read-back then goes to the primary only).
    let members: [String: String]
    /// What `blastRadius()` answers (nil: no bounds declared, the protocol's default).
    let radius: BlastRadius?
    /// What `diskFree()` answers; nil: `ReadingUnsupported`, the protocol's default.
    let disk: [String: Double]?

    init(clock: VirtualClock, journal: Journal, mode: Mode = .normal, applyStarted: AsyncStream<Void>.Continuation,
         operations: [String: FakeOperation] = [:], members: [String: String] = [:], radius: BlastRadius? = nil,
         disk: [String: Double]? = nil) {
        (self.clock, self.journal, self.mode, self.applyStarted) = (clock, journal, mode, applyStarted)
        (self.operations, self.members, self.radius, self.disk) = (operations, members, radius, disk)
    }

    func blastRadius() async -> BlastRadius? { radius }

    func diskFree() async throws -> [String: Double] {
        guard let disk else { throw ReadingUnsupported("the fake's disks") }
        return disk
    }

    func memberReadEndpoints() async -> [String: String] { members }

    /// The read-write endpoint follows the topology's primary 700 ms after a switchover (its health check), 200 ms
    /// after the topology shows the new primary; before that it still reaches the old one.
    func routedPrimary() async throws -> String? {
        if let s = switchedAt {
            return clock.now >= s.advanced(by: .milliseconds(700)) ? "n2" : "n1"
        }
        return try await topology().primary?.name
    }

    func takeBack() { takenBack = true }

    func topology() async throws -> Topology {
        let now = clock.now
        if takenBack {
            return Topology(members: [Member(name: "n1", role: .primary, timeline: 3),
                                     Member(name: "n2", role: .syncStandby, timeline: 3),
                                     Member(name: "n3", role: .asyncReplica, timeline: 3)])
        }
        let healthy = Topology(members: [Member(name: "n1", role: .primary, timeline: 1),
                                         Member(name: "n2", role: .syncStandby, timeline: 1),
                                         Member(name: "n3", role: .asyncReplica, timeline: 1)])
        if mode == .unhealthyAtStart {
            return Topology(members: [healthy.members[0], healthy.members[1], Member(name: "n3", role: .down)])
        }
        if let s = switchedAt, now >= s.advanced(by: .milliseconds(500)) {
            return Topology(members: [Member(name: "n1", role: .syncStandby, timeline: 2),
                                     Member(name: "n2", role: .primary, timeline: 2),
                                     Member(name: "n3", role: .asyncReplica, timeline: 2)])
        }
        guard let k = killedAt, let victim = killed else { return healthy }
        if now < k.advanced(by: detectAfter) { return healthy }
        let old: Member = if let r = revertedAt, now >= r.advanced(by: .seconds(2)) {
            Member(name: victim, role: .asyncReplica, timeline: 2)
        } else {
            Member(name: victim, role: .down)
        }
        if now < k.advanced(by: promoteAfter) || mode == .neverPromotes {
            if mode == .topologyThrowsDuringOutage { throw FakeError("patroni API unreachable") }
            return Topology(members: [old, Member(name: "n2", role: .unknown, timeline: 1), Member(name: "n3", role: .unknown, timeline: 1)])
        }
        let n3role: MemberRole = old.role == .down ? .syncStandby : .syncStandby
        return Topology(members: [old, Member(name: "n2", role: .primary, timeline: 2), Member(name: "n3", role: n3role, timeline: 2)])
    }

    func apply(_ action: FaultAction) async throws {
        journal.add("apply \(action)")
        applyStarted.yield()
        switch mode {
        case .applyThrows: throw FakeError("ssh: connection refused")
        case .applyHangs: try await Task.sleep(for: .seconds(3_600))  // ends only by cancellation
        default: break
        }
        clock.advance(by: .milliseconds(50))
        switch action {
        case .killNode(let m), .killPostgres(let m):
            killedAt = clock.now
            killed = m
        case .switchover:
            switchedAt = clock.now
        case .pausePooler:
            poolerPaused = true
        @unknown default:  // faults this fake does not model take no effect on its topology
            break
        }
    }

    func revert(_ reversal: Reversal) async throws {
        try Task.checkCancellation()  // like a real driver: a cancelled task cannot run commands
        journal.add("revert \(reversal)")
        clock.advance(by: .milliseconds(100))
        if mode == .revertFailsHealDoesNotRecover { throw FakeError("patroni did not start on n1") }
        if reversal == .resumePooler { poolerPaused = false }
        revertedAt = clock.now
    }

    func heal() async throws {
        try Task.checkCancellation()
        journal.add("heal")
        poolerPaused = false  // the full heal resumes a paused pooler (as LocalHeal does)
        clock.advance(by: .milliseconds(200))
        if mode == .healThrows { throw FakeError("patronictl: timeout") }
        if mode == .healDoesNotRecover || mode == .revertFailsHealDoesNotRecover {
            throw ClusterDidNotRecover("PostgreSQL not running on n1 after the heal")
        }
    }

    func commandLog() async -> [String] { journal.all }

    /// Scripted under the slug "prepare", like an operation (not listed: unsupported).
    func prepareApplication(_ app: ApplicationSpec) async throws -> OperationOutcome {
        journal.add("prepare \(app.revision)")
        return try await play(operations["prepare"], unsupported: "the fake cluster has no application")
    }

    /// Spends the scripted virtual time, then answers as scripted. `.hangs` signals `applyStarted` first.
    func perform(_ operation: OperationSpec) async throws -> OperationOutcome {
        journal.add("perform \(operation)")
        return try await play(operations[operation.slug], unsupported: "the fake cluster has no \(operation.slug)")
    }

    private func play(_ script: FakeOperation?, unsupported: String) async throws -> OperationOutcome {
        switch script {
        case nil: throw OperationUnsupported(unsupported)
        case .takes(let d, let outcome):
            clock.advance(by: d)
            return outcome
        case .fails(let d, let message):
            clock.advance(by: d)
            throw FakeError(message)
        case .hangs:
            applyStarted.yield()
            try await Task.sleep(for: .seconds(3_600))  // ends only by cancellation
            return OperationOutcome()
        }
    }
}

/// What the fake cluster does when asked to perform an operation.
enum FakeOperation: Sendable {
    /// Takes this long on the virtual clock, then succeeds.
    case takes(Duration, OperationOutcome = OperationOutcome())
    /// Takes this long, then throws.
    case fails(after: Duration, String)
    /// Never returns until cancelled.
    case hangs
}

struct FakeError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A load that runs until cancelled, then returns canned observations; read-back answers `missing`.
/// With a `clock`, it returns instead clean 100 ms write windows (20 ok, p99 2 ms) for exactly the virtual
/// time it ran: what a real load would have seen of a run.
final class FakeLoad: LoadDriver {
    let observations: LoadObservations
    let missing: [String]
    let journal: Journal
    let clock: VirtualClock?

    /// Read-backs that throw before one answers.
    let verifyFailures: Int
    /// Called with the attempt number (1, 2, …) before each read-back answers.
    let onVerify: (@Sendable (Int) async -> Void)?
    /// What each member's direct read-back answers (missing ids), by conninfo; a conninfo not listed refuses the
    /// connection. nil: this load cannot read members (`MemberReadUnsupported`).
    let memberMissing: [String: [String]]?
    /// What `ledgerCommits()` answers, call by call (the drill reads it before the destroy, then after the restore);
    /// a nil entry throws. nil: this load cannot read commit times (`MemberReadUnsupported`).
    let commits: [[String: Double]?]?
    /// What `switchWorkload` answers (or throws); nil: this load cannot switch (`OperationUnsupported`).
    let onSwitch: (@Sendable (String, Double?) throws -> String)?
    /// What `progress()` answers at a virtual time (ms on `progressClock`); nil: 400 ok/s, nothing else.
    let progressAt: (@Sendable (Int) -> LoadProgress)?
    let progressClock: VirtualClock?
    private let verifyCalls = Mutex(0)
    private let commitCalls = Mutex(0)

    init(observations: LoadObservations, missing: [String] = [], journal: Journal, clock: VirtualClock? = nil,
         verifyFailures: Int = 0, onVerify: (@Sendable (Int) async -> Void)? = nil, memberMissing: [String: [String]]? = nil,
         commits: [[String: Double]?]? = nil, onSwitch: (@Sendable (String, Double?) throws -> String)? = nil,
         progressAt: (@Sendable (Int) -> LoadProgress)? = nil, progressClock: VirtualClock? = nil) {
        self.onSwitch = onSwitch
        (self.progressAt, self.progressClock) = (progressAt, progressClock)
        (self.observations, self.missing, self.journal, self.clock) = (observations, missing, journal, clock)
        (self.verifyFailures, self.onVerify, self.memberMissing, self.commits) = (verifyFailures, onVerify, memberMissing, commits)
    }

    func ledgerCommits() async throws -> [String: Double] {
        guard let commits else { throw MemberReadUnsupported() }
        let n = commitCalls.withLock { $0 += 1; return $0 }
        journal.add("commit times \(n)")
        guard n <= commits.count, let answer = commits[n - 1] else { throw FakeError("commit times: connection refused") }
        return answer
    }

    func run(_ workloads: [Workload]) async throws -> LoadObservations {
        journal.add("load on \(workloads.map(\.name).joined(separator: ","))")
        let start = clock?.now
        try? await Task.sleep(for: .seconds(3_600))  // until the runner cancels: load off
        journal.add("load off")
        guard let clock, let start else { return observations }
        return Fixture.writes(until: start.duration(to: clock.now).milliseconds) { _ in false }
    }

    func progress() async -> LoadProgress {
        guard let progressAt else { return LoadProgress(okPerSecond: 400, totalOk: 1) }
        return progressAt((progressClock ?? clock)?.elapsedMs ?? 0)
    }

    func switchWorkload(version: String, share: Double?) async throws -> String {
        journal.add("switch \(version) \(share.map { "\($0)" } ?? "all")")
        guard let onSwitch else { throw OperationUnsupported("the fake load cannot switch") }
        return try onSwitch(version, share)
    }

    func verifyWrites(_ ids: [String]) async throws -> [String] {
        journal.add("verify \(ids.count)")
        let n = verifyCalls.withLock { $0 += 1; return $0 }
        await onVerify?(n)
        if n <= verifyFailures { throw FakeError("connection to server at \"10.0.0.1\", port 5000 failed") }
        return missing
    }

    func verifyWrites(_ ids: [String], on conninfo: String) async throws -> [String] {
        guard let memberMissing else { throw MemberReadUnsupported() }
        journal.add("verify \(ids.count) on \(conninfo)")
        guard let m = memberMissing[conninfo] else { throw FakeError("connection to \(conninfo) refused") }
        return m
    }
}

actor InMemoryLedger: FaultLedgerStore {
    var stored: [FaultLedgerEntry]
    let journal: Journal

    init(journal: Journal, stored: [FaultLedgerEntry] = []) {
        self.journal = journal
        self.stored = stored
    }

    func record(_ entry: FaultLedgerEntry) async throws {
        journal.add("ledger record \(entry.reversal)")
        stored.append(entry)
    }

    func remove(id: String) async throws {
        try Task.checkCancellation()
        journal.add("ledger remove \(id)")
        stored.removeAll { $0.id == id }
    }

    func entries() async throws -> [FaultLedgerEntry] { stored }
}
