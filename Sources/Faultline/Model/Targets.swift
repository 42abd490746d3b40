/// What a run must achieve. Every target is an upper bound; a nil target is not checked.
public struct Targets: Codable, Sendable, Equatable {
    /// Client-view recovery time: injection to the first write of a sustained clean run. nil: not a target
    /// (for faults whose writes are meant to stay blocked until the heal; see `writesBackAfterHeal`).
    public var rto: Duration?
    /// Acknowledged writes allowed to go missing (normally 0).
    public var lostWrites: Int
    /// Default time an `Expect` after the heal may take.
    public var settle: Duration
    /// How long writes must stay clean for recovery to count (whole timeline windows).
    public var sustain: Duration
    /// Error ratio allowed while the fault is in effect, after clients recovered (0.01 = 1 %).
    public var errorBudgetDuring: Double?
    /// Error ratio allowed after the heal finished.
    public var errorBudgetAfter: Double?
    /// p99 latency allowed while the fault is in effect, after clients recovered.
    public var p99During: Duration?
    /// p99 latency allowed after the heal finished.
    public var p99After: Duration?
    /// How long the load keeps running once the steps are done after a heal (settle met), so that the
    /// after-heal error budget and p99 are measured on a healed cluster. Zero: the load stops at once.
    public var observeAfterHeal: Duration
    /// What writes must do while the fault is in effect (blocked, or continued with a bounded stall); nil: not checked.
    public var writesDuringFault: WritesDuringFault?
    /// Time from the start of the heal to the first write of a sustained clean run; nil: not checked.
    public var writesBackAfterHeal: Duration?
    /// Which recovery instant the RTO verdict judges (`--set rto-judges=application`); without service-probe data
    /// it falls back to the application instant and says so.
    public var rtoJudges: RTOInstant = .serviceRestored
    /// Disaster recovery: the data a restore may lose, in time. To a target T: from T back to the newest acknowledged
    /// commit that survived; to the end of the archive: from the newest acknowledged commit back to the newest that
    /// survived. nil: not checked.
    public var rpo: Duration?
    /// A schema migration under load (a `Migrate` or `StartMigration` step): what the application may see while it runs.
    /// nil: not checked.
    public var migration: MigrationTargets?
    /// Errors the write workload may see from the first injection to the end of the heal (a paused switchover: 0, the
    /// clients wait instead of failing). Every error counts, a request failed fast in its client's reconnect backoff
    /// too: the application saw it. nil: not checked.
    public var writeErrors: Int?
    /// The longest an acknowledged write may take, from its intended start to its COMMIT's answer, among the writes
    /// started from the first injection to the end of the heal: the longest wait a client saw. nil: not checked.
    public var longestWriteWait: Duration?

    public init(rto: Duration? = .seconds(30), lostWrites: Int = 0, settle: Duration = .seconds(60),
                sustain: Duration = .seconds(1), errorBudgetDuring: Double? = nil, errorBudgetAfter: Double? = 0.01,
                p99During: Duration? = nil, p99After: Duration? = nil, observeAfterHeal: Duration = .seconds(5),
                writesDuringFault: WritesDuringFault? = nil, writesBackAfterHeal: Duration? = nil, rpo: Duration? = nil,
                migration: MigrationTargets? = nil, writeErrors: Int? = nil, longestWriteWait: Duration? = nil) {
        self.rto = rto
        self.lostWrites = lostWrites
        self.settle = settle
        self.sustain = sustain
        self.errorBudgetDuring = errorBudgetDuring
        self.errorBudgetAfter = errorBudgetAfter
        self.p99During = p99During
        self.p99After = p99After
        self.observeAfterHeal = observeAfterHeal
        self.writesDuringFault = writesDuringFault
        self.writesBackAfterHeal = writesBackAfterHeal
        self.rpo = rpo
        self.migration = migration
        self.writeErrors = writeErrors
        self.longestWriteWait = longestWriteWait
    }
}

/// The bounds of a zero-downtime schema migration, judged by `MigrationChecks`. A nil bound is not checked.
public struct MigrationTargets: Codable, Sendable, Equatable {
    /// Errors the application workload ("orders") may see over the whole load (normally 0); nil: not checked
    /// (a failover is the point and its errors are the RTO's to judge).
    public var appErrors: Int?
    /// The application's p99 while a migration runs may be at most `p99Factor` × its steady-state p99 ...
    /// nil: the p99 is not checked.
    public var p99Factor: Double?
    /// ... or `p99Floor`, whichever is larger (a fast steady state must not make the bound unreachably tight).
    public var p99Floor: Duration
    /// The longest an application session may wait on a lock while a migration runs.
    public var lockWait: Duration?
    /// The largest replay lag a replica may reach while a migration runs.
    public var replicaLag: Duration?

    public init(appErrors: Int? = 0, p99Factor: Double? = 3, p99Floor: Duration = .milliseconds(50),
                lockWait: Duration? = .seconds(1), replicaLag: Duration? = .seconds(5)) {
        self.appErrors = appErrors
        self.p99Factor = p99Factor
        self.p99Floor = p99Floor
        self.lockWait = lockWait
        self.replicaLag = replicaLag
    }

    /// Only the end state: the schema at the target revision, as a fresh migration builds it. For a migration
    /// interrupted by a failover on purpose, where application errors, a slow p99, lock waits and lag during it are
    /// expected (the RTO and lost-writes verdicts judge that part).
    public static let completion = MigrationTargets(appErrors: nil, p99Factor: nil, lockWait: nil, replicaLag: nil)

    enum CodingKeys: String, CodingKey { case appErrors, p99Factor, p99FloorMs, lockWaitMs, replicaLagMs }

    /// An absent bound decodes as not checked (nil), so that a report round-trips; absent counts take the defaults
    /// (documents from before they could be nil always wrote them), an explicit null is not checked.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        appErrors = try c.contains(.appErrors) ? c.decodeIfPresent(Int.self, forKey: .appErrors) : 0
        p99Factor = try c.contains(.p99Factor) ? c.decodeIfPresent(Double.self, forKey: .p99Factor) : 3
        p99Floor = .milliseconds(try c.decodeIfPresent(Int.self, forKey: .p99FloorMs) ?? 50)
        lockWait = try c.decodeIfPresent(Int.self, forKey: .lockWaitMs).map { .milliseconds($0) }
        replicaLag = try c.decodeIfPresent(Int.self, forKey: .replicaLagMs).map { .milliseconds($0) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // Written as null when not checked: absent means the default.
        if let n = appErrors { try c.encode(n, forKey: .appErrors) } else { try c.encodeNil(forKey: .appErrors) }
        if let f = p99Factor { try c.encode(f, forKey: .p99Factor) } else { try c.encodeNil(forKey: .p99Factor) }
        try c.encode(p99Floor.milliseconds, forKey: .p99FloorMs)
        try c.encodeIfPresent(lockWait?.milliseconds, forKey: .lockWaitMs)
        try c.encodeIfPresent(replicaLag?.milliseconds, forKey: .replicaLagMs)
    }
}

/// The two instants a recovery can be read at (docs/rto.md).
public enum RTOInstant: String, Codable, Sendable, CaseIterable {
    /// The first acknowledged write of the service probe (a write every few ms, no backoff) that starts a
    /// sustained run: when the service could take writes again.
    case serviceRestored = "service-restored"
    /// The first acknowledged write of the workload, with its clients' reconnect backoff, that starts a sustained
    /// clean run: when the application saw writes work again.
    case applicationRecovered = "application-recovered"

    /// "service restored", "application recovered".
    public var label: String {
        switch self {
        case .serviceRestored: "service restored"
        case .applicationRecovered: "application recovered"
        }
    }

    /// Accepts `service`, `service-restored`, `probe`, `application`, `application-recovered`, `app`, `workload`.
    public init?(text: String) {
        switch text.lowercased().filter({ $0 != "-" && $0 != "_" }) {
        case "service", "servicerestored", "probe": self = .serviceRestored
        case "application", "applicationrecovered", "app", "workload": self = .applicationRecovered
        default: return nil
        }
    }
}

/// What writes must do while a fault is in effect (from the fault applied to the heal started).
public enum WritesDuringFault: Codable, Sendable, Equatable, CustomStringConvertible {
    /// No write started after the fault took effect is acknowledged before the heal: every commit waits
    /// (strict synchronous replication with no reachable standby). An acknowledged one was kept on one node only.
    case blocked
    /// Writes keep being acknowledged; the longest stretch of the fault without an acknowledged write is at most
    /// `maxStall` (asynchronous replication, or a non-strict synchronous mode that drops its standby).
    case continued(maxStall: Duration)

    public var description: String {
        switch self {
        case .blocked: "blocked"
        case .continued(let d): "continued (stall <= \(DurationText.format(d)))"
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, maxStallMs }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "blocked": self = .blocked
        case "continued": self = .continued(maxStall: .milliseconds(try c.decode(Int.self, forKey: .maxStallMs)))
        case let k:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown writes-during-fault kind '\(k)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .blocked: try c.encode("blocked", forKey: .kind)
        case .continued(let d):
            try c.encode("continued", forKey: .kind)
            try c.encode(d.milliseconds, forKey: .maxStallMs)
        }
    }
}
