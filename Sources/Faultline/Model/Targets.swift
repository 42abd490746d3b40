/// What a run must achieve. Every target is an upper bound; a nil target is not checked.
public struct Targets: Codable, Sendable, Equatable {
    /// Client-view recovery time: injection to the first write of a sustained clean run.
    public var rto: Duration
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

    public init(rto: Duration = .seconds(30), lostWrites: Int = 0, settle: Duration = .seconds(60),
                sustain: Duration = .seconds(1), errorBudgetDuring: Double? = nil, errorBudgetAfter: Double? = 0.01,
                p99During: Duration? = nil, p99After: Duration? = nil, observeAfterHeal: Duration = .seconds(5)) {
        self.rto = rto
        self.lostWrites = lostWrites
        self.settle = settle
        self.sustain = sustain
        self.errorBudgetDuring = errorBudgetDuring
        self.errorBudgetAfter = errorBudgetAfter
        self.p99During = p99During
        self.p99After = p99After
        self.observeAfterHeal = observeAfterHeal
    }
}
