/// What the environment saw with its own direct probes while faults were in effect: a write tried on
/// every member (split brain: two members accepting writes at the same time), replication lag from the
/// primary's `pg_stat_replication`, and notable log lines. Times are ms since the load started once the
/// runner has placed them on the run's timeline.
public struct ProbeReport: Codable, Sendable, Equatable {
    public var rounds: [WriteProbeRound]
    public var lag: [LagSample]
    /// Notable facts about the faults (PostgreSQL or Patroni log lines for a full disk, connections held, ...).
    public var notes: [String]

    public init(rounds: [WriteProbeRound] = [], lag: [LagSample] = [], notes: [String] = []) {
        self.rounds = rounds
        self.lag = lag
        self.notes = notes
    }

    /// The same report with every time moved by `ms`.
    public func shifted(by ms: Int) -> ProbeReport {
        ProbeReport(rounds: rounds.map { var r = $0; r.atMs += ms; return r },
                    lag: lag.map { var l = $0; l.atMs += ms; return l }, notes: notes)
    }
}

/// One round of direct writes, tried on every member at the same time.
public struct WriteProbeRound: Codable, Sendable, Equatable {
    public var atMs: Int
    /// Members whose COMMIT returned OK in this round.
    public var accepted: [String]
    /// Members that did not acknowledge, with why ("read_only", "timeout", "connection_refused", ...).
    public var refused: [String: String]

    public init(atMs: Int, accepted: [String], refused: [String: String]) {
        self.atMs = atMs
        self.accepted = accepted
        self.refused = refused
    }
}

/// A replica's lag as the primary's `pg_stat_replication` shows it (replay position).
public struct LagSample: Codable, Sendable, Equatable {
    public var atMs: Int
    public var member: String
    public var bytes: Int?
    public var seconds: Double?

    public init(atMs: Int, member: String, bytes: Int?, seconds: Double?) {
        self.atMs = atMs
        self.member = member
        self.bytes = bytes
        self.seconds = seconds
    }
}
