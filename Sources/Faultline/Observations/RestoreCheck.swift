/// What a disaster-recovery drill read from the databases, for its verdicts (`DRChecks`): the commit times of this
/// run's ledger rows just before the cluster was destroyed, and of the rows present once it was restored.
/// Every time is a server commit time (`pg_xact_commit_timestamp`, `track_commit_timestamp = on`), in ms since the
/// Unix epoch, so the split at the target T never leans on a client clock. Gathered by the runner through
/// `LoadDriver.ledgerCommits()`; judged purely.
public struct RestoreCheck: Codable, Sendable, Equatable {
    /// The mark the restore went to; nil: the end of the archive (a sudden loss).
    public var target: String?
    /// T as the server saw it (the mark's `server-time-epoch-ms` fact), ms since the Unix epoch; nil without a target.
    public var targetEpochMs: Double?
    /// T as an ISO 8601 time (UTC, microseconds), as given to the restore; nil without a target.
    public var targetISO: String?
    /// T in the load's frame (ms since load start, as `ledger.jsonl`); nil without a target.
    public var targetLoadMs: Int?
    /// When the disaster struck (the destroy step began), in the load's frame.
    public var disasterLoadMs: Int
    /// The load's origin (its ms 0) in ms since the Unix epoch, to put commit times in the load's frame.
    public var loadOriginEpochMs: Double?
    /// This run's ledger rows on the primary just before the destroy: id → commit time (epoch ms).
    /// nil when they could not be read (the split then falls back to the client's ack times and says so).
    public var commitsBefore: [String: Double]?
    /// The rows present after the restore: id → commit time (epoch ms).
    public var presentAfter: [String: Double]
    /// Commits this close to T (ms) either side are reported indeterminate, never judged: the resolution of
    /// the clocks compared (the mark's server time against commit times on the same server clock).
    public var resolutionMs: Double
    /// The restore step's index in `Scenario.steps`.
    public var restoreStep: Int?
    /// Why it could not be gathered in full (a read that failed); nil when complete.
    public var error: String?

    public init(target: String?, targetEpochMs: Double?, targetISO: String?, targetLoadMs: Int?, disasterLoadMs: Int,
                loadOriginEpochMs: Double?, commitsBefore: [String: Double]?, presentAfter: [String: Double],
                resolutionMs: Double = 1, restoreStep: Int? = nil, error: String? = nil) {
        self.target = target
        self.targetEpochMs = targetEpochMs
        self.targetISO = targetISO
        self.targetLoadMs = targetLoadMs
        self.disasterLoadMs = disasterLoadMs
        self.loadOriginEpochMs = loadOriginEpochMs
        self.commitsBefore = commitsBefore
        self.presentAfter = presentAfter
        self.resolutionMs = resolutionMs
        self.restoreStep = restoreStep
        self.error = error
    }
}

/// One command a drill ran, for its runbook (`runbook.md`): when, why, what, and how it went. Secrets are masked
/// by whoever records it and again by the renderer.
public struct RunbookStep: Codable, Sendable, Equatable {
    /// Wall-clock time it started, ISO 8601 UTC.
    public var at: String
    /// Why it ran, in a few words ("restore the primary's data directory to T from repo1").
    public var purpose: String
    /// The command line, as a person would type it.
    public var command: String
    /// A short outcome ("ok, 1.4 s", "exit 1: ...").
    public var outcome: String

    public init(at: String, purpose: String, command: String, outcome: String) {
        self.at = at
        self.purpose = purpose
        self.command = command
        self.outcome = outcome
    }
}
