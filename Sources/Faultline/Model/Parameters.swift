/// One `--set key=value` from the command line, parsed and typed.
public struct ParameterOverride: Sendable, Equatable {
    public var parameter: Parameter
    public var value: Value

    public enum Value: Sendable, Equatable {
        case duration(Duration)
        case count(Int)
        case ratio(Double)
        case instant(RTOInstant)
        case route(WriteRoute)
    }

    /// The parameters a scenario exposes to `--set`.
    public enum Parameter: String, Sendable, CaseIterable {
        case rto, settle, steady, sustain, await, hold, observe
        case rate, writeRate = "write-rate", readRate = "read-rate"
        case lostWrites = "lost-writes"
        case errorBudget = "error-budget", errorBudgetDuring = "error-budget-during"
        case p99, p99During = "p99-during"
        /// Which recovery instant the RTO verdict judges: `service` (the probe, default) or `application`.
        case rtoJudges = "rto-judges"
        /// The steady-state hypothesis: the error rate and p99 the load may show before the fault.
        case steadyErrorRate = "steady-error-rate", steadyP99 = "steady-p99"
        /// Where the write workloads connect: `direct` (the read-write endpoint) or `pooler` (PgBouncer).
        case writesVia = "writes-via"
        /// The write errors allowed from the first injection to the end of the heal, and the longest acknowledged write
        /// of that span (`Targets.writeErrors`, `Targets.longestWriteWait`).
        case writeErrors = "write-errors", longestWait = "longest-wait"

        enum Kind { case duration, count, ratio, instant, route }

        var kind: Kind {
            switch self {
            case .rto, .settle, .steady, .sustain, .await, .hold, .observe, .p99, .p99During, .steadyP99, .longestWait: .duration
            case .rate, .writeRate, .readRate, .lostWrites, .writeErrors: .count
            case .errorBudget, .errorBudgetDuring, .steadyErrorRate: .ratio
            case .rtoJudges: .instant
            case .writesVia: .route
            }
        }

        /// Accepts `lost-writes`, `lost_writes` and `lostWrites` alike.
        init?(key: String) {
            let norm = { (s: String) in s.lowercased().filter { $0 != "-" && $0 != "_" } }
            guard let p = Parameter.allCases.first(where: { norm($0.rawValue) == norm(key) }) else { return nil }
            self = p
        }
    }

    public init(parameter: Parameter, value: Value) {
        self.parameter = parameter
        self.value = value
    }

    /// Parses `rto=20s`, `rate=100`, `error-budget=0.5%`. Throws a one-line `InputError` otherwise.
    public static func parse(_ text: String) throws(InputError) -> ParameterOverride {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw InputError("--set '\(text)': expected key=value, for example rto=20s")
        }
        let key = String(parts[0]).trimmingWhitespace()
        let raw = String(parts[1]).trimmingWhitespace()
        guard let parameter = Parameter(key: key) else {
            let known = Parameter.allCases.map(\.rawValue).joined(separator: ", ")
            throw InputError("--set: unknown parameter '\(key)' (known: \(known))")
        }
        switch parameter.kind {
        case .duration:
            // `observe=0s` turns the after-heal observation off; every other duration must be positive.
            let zeroAllowed = parameter == .observe
            guard let d = DurationText.parse(raw), d > .zero || (zeroAllowed && d == .zero) else {
                let what = zeroAllowed ? "a duration (0s or more)" : "a positive duration"
                throw InputError("--set \(parameter.rawValue)='\(raw)': expected \(what) such as 500ms, 20s or 2m")
            }
            return .init(parameter: parameter, value: .duration(d))
        case .count:
            let minimum = parameter == .lostWrites || parameter == .writeErrors ? 0 : 1
            guard let n = Int(raw), n >= minimum else {
                throw InputError("--set \(parameter.rawValue)='\(raw)': expected a whole number of at least \(minimum)")
            }
            return .init(parameter: parameter, value: .count(n))
        case .ratio:
            let isPercent = raw.hasSuffix("%")
            guard let n = Double(isPercent ? String(raw.dropLast()) : raw), n.isFinite else {
                throw InputError("--set \(parameter.rawValue)='\(raw)': expected a ratio such as 0.01 or 1%")
            }
            let ratio = isPercent ? n / 100 : n
            guard (0...1).contains(ratio) else {
                throw InputError("--set \(parameter.rawValue)='\(raw)': must lie between 0 and 1 (0 % and 100 %)")
            }
            return .init(parameter: parameter, value: .ratio(ratio))
        case .instant:
            guard let i = RTOInstant(text: raw) else {
                throw InputError("--set \(parameter.rawValue)='\(raw)': expected service (the service probe) or application (the workload)")
            }
            return .init(parameter: parameter, value: .instant(i))
        case .route:
            guard let r = WriteRoute(text: raw) else {
                throw InputError("--set \(parameter.rawValue)='\(raw)': expected direct (the read-write endpoint) or pooler (PgBouncer)")
            }
            return .init(parameter: parameter, value: .route(r))
        }
    }

    /// Parses every `--set`; the first bad one throws.
    public static func parseAll(_ texts: [String]) throws(InputError) -> [ParameterOverride] {
        var out: [ParameterOverride] = []
        for t in texts { out.append(try parse(t)) }
        return out
    }
}

extension Scenario {
    /// This scenario with the overrides applied, in order (a later one wins).
    public func applying(_ overrides: [ParameterOverride]) -> Scenario {
        var s = self
        for o in overrides {
            switch (o.parameter, o.value) {
            case (.rto, .duration(let d)): s.targets.rto = d
            case (.settle, .duration(let d)): s.targets.settle = d
            case (.steady, .duration(let d)): s.steadyState = d
            case (.observe, .duration(let d)): s.targets.observeAfterHeal = d
            case (.sustain, .duration(let d)): s.targets.sustain = d
            case (.p99, .duration(let d)): s.targets.p99After = d
            case (.p99During, .duration(let d)): s.targets.p99During = d
            case (.await, .duration(let d)):
                s.steps = s.steps.map { if case .await(let c, _) = $0 { .await(c, within: d) } else { $0 } }
            case (.hold, .duration(let d)):
                // Every `Hold(for:)`: how long the fault stays in effect (`Expect` windows are untouched).
                s.steps = s.steps.map { if case .hold = $0 { .hold(d) } else { $0 } }
            case (.rate, .count(let n)): s.workloads = s.workloads.map { $0.withRate(n) }
            case (.writeRate, .count(let n)): s.workloads = s.workloads.map { $0.isWrite ? $0.withRate(n) : $0 }
            case (.readRate, .count(let n)): s.workloads = s.workloads.map { if case .replicaReads = $0 { $0.withRate(n) } else { $0 } }
            case (.lostWrites, .count(let n)): s.targets.lostWrites = n
            case (.errorBudget, .ratio(let r)): s.targets.errorBudgetAfter = r
            case (.errorBudgetDuring, .ratio(let r)): s.targets.errorBudgetDuring = r
            case (.rtoJudges, .instant(let i)): s.targets.rtoJudges = i
            case (.writesVia, .route(let r)): s.writesVia = r == .direct ? nil : r
            case (.writeErrors, .count(let n)): s.targets.writeErrors = n
            case (.longestWait, .duration(let d)): s.targets.longestWriteWait = d
            case (.steadyErrorRate, .ratio(let r)):
                var limits = s.safety ?? SafetyLimits()
                var h = limits.hypothesis
                h.errorRate = r
                limits.steadyState = h
                s.safety = limits
            case (.steadyP99, .duration(let d)):
                var limits = s.safety ?? SafetyLimits()
                var h = limits.hypothesis
                h.p99 = d
                limits.steadyState = h
                s.safety = limits
            default: continue  // parse() never pairs a parameter with another kind of value
            }
        }
        return s
    }
}
