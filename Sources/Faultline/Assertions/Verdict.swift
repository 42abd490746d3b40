/// A measured or target value with its unit.
public struct Quantity: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Unit: String, Codable, Sendable { case ms, count, ratio }
    public var value: Double
    public var unit: Unit

    public init(_ value: Double, _ unit: Unit) {
        self.value = value
        self.unit = unit
    }

    public static func ms(_ v: Int) -> Quantity { Quantity(Double(v), .ms) }
    public static func count(_ v: Int) -> Quantity { Quantity(Double(v), .count) }
    public static func ratio(_ v: Double) -> Quantity { Quantity(v, .ratio) }

    public var description: String {
        switch unit {
        case .ms: DurationText.human(ms: Int(value))
        case .count: "\(Int(value))"
        case .ratio: percent(value)
        }
    }
}

/// The outcome of one check. Targets are upper bounds: measured must be at most target.
public enum VerdictResult: Sendable, Equatable {
    case passed(measured: Quantity, target: Quantity)
    case failed(measured: Quantity?, target: Quantity, why: String)
    /// Not checked, for a reason that is not a failure (no target set, nothing to measure).
    case skipped(reason: String)
    /// The harness or the environment failed; the check says nothing about the system under test.
    case error(String)
    /// A safety limit stopped the run (the steady state was not met, an abort condition held, a fault was refused):
    /// the run ends `aborted`, apart from passed, failed and errored.
    case aborted(String)

    public enum Status: String, Codable, Sendable { case passed, failed, skipped, error, aborted }

    public var status: Status {
        switch self {
        case .passed: .passed
        case .failed: .failed
        case .skipped: .skipped
        case .error: .error
        case .aborted: .aborted
        }
    }

    public var measured: Quantity? {
        switch self {
        case .passed(let m, _): m
        case .failed(let m, _, _): m
        default: nil
        }
    }

    public var target: Quantity? {
        switch self {
        case .passed(_, let t), .failed(_, let t, _): t
        default: nil
        }
    }

    /// Why it failed, was skipped, or errored; nil when passed.
    public var message: String? {
        switch self {
        case .passed: nil
        case .failed(_, _, let why): why
        case .skipped(let r): r
        case .error(let e): e
        case .aborted(let why): why
        }
    }

    /// Passed when `measured <= target`, else failed with `why`.
    public static func judge(_ measured: Quantity, atMost target: Quantity, why: @autoclosure () -> String) -> VerdictResult {
        measured.value <= target.value ? .passed(measured: measured, target: target)
            : .failed(measured: measured, target: target, why: why())
    }
}

/// One named check of one run.
public struct Verdict: Codable, Sendable, Equatable {
    /// Stable id: "rto", "lost-writes", "await-new-primary", ...
    public var id: String
    /// Human title: "RTO (client view)".
    public var title: String
    public var result: VerdictResult
    /// Facts behind the result, one line each (breakdowns, counts).
    public var notes: [String]
    /// Items the result is about (for lost writes: every lost id).
    public var items: [String]

    public init(id: String, title: String, result: VerdictResult, notes: [String] = [], items: [String] = []) {
        self.id = id
        self.title = title
        self.result = result
        self.notes = notes
        self.items = items
    }

    enum CodingKeys: String, CodingKey { case id, title, status, measured, target, message, notes, items }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        title = try c.decode(String.self, forKey: .title)
        notes = try c.decodeIfPresent([String].self, forKey: .notes) ?? []
        items = try c.decodeIfPresent([String].self, forKey: .items) ?? []
        let status = try c.decode(VerdictResult.Status.self, forKey: .status)
        let measured = try c.decodeIfPresent(Quantity.self, forKey: .measured)
        let target = try c.decodeIfPresent(Quantity.self, forKey: .target)
        let message = try c.decodeIfPresent(String.self, forKey: .message) ?? ""
        switch (status, measured, target) {
        case (.passed, .some(let m), .some(let t)): result = .passed(measured: m, target: t)
        case (.failed, _, .some(let t)): result = .failed(measured: measured, target: t, why: message)
        case (.skipped, _, _): result = .skipped(reason: message)
        case (.error, _, _): result = .error(message)
        case (.aborted, _, _): result = .aborted(message)
        default:
            throw DecodingError.dataCorruptedError(forKey: .status, in: c, debugDescription: "\(status) needs measured and target")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(title, forKey: .title)
        try c.encode(result.status, forKey: .status)
        try c.encodeIfPresent(result.measured, forKey: .measured)
        try c.encodeIfPresent(result.target, forKey: .target)
        try c.encodeIfPresent(result.message, forKey: .message)
        try c.encode(notes, forKey: .notes)
        try c.encode(items, forKey: .items)
    }
}

/// The process exit code of a run.
public enum ExitStatus: Int32, Codable, Sendable {
    case passed = 0
    case targetFailed = 1
    case badInput = 2
    case harnessError = 3
    /// A safety limit stopped the run (`VerdictResult.aborted`). Exit codes 4 to 6 are the environment's (`faultline env`).
    case aborted = 7

    /// Any error → 3 (the measurements cannot be trusted); else an abort → 7; else any failure → 1; else 0.
    /// No verdicts at all is a harness error: a run that checked nothing did not work.
    public static func of(_ verdicts: [Verdict]) -> ExitStatus {
        if verdicts.isEmpty || verdicts.contains(where: { $0.result.status == .error }) { return .harnessError }
        if verdicts.contains(where: { $0.result.status == .aborted }) { return .aborted }
        if verdicts.contains(where: { $0.result.status == .failed }) { return .targetFailed }
        return .passed
    }

    /// How bad an outcome is, for the worst of several (a suite's exit code): harness error, then aborted, then a
    /// failed target, then passed. Bad input ranks with the harness error (nothing could be judged).
    public var severity: Int {
        switch self {
        case .passed: 0
        case .targetFailed: 1
        case .aborted: 2
        case .harnessError, .badInput: 3
        }
    }

    /// The worst of `statuses` by `severity`; `.passed` for none.
    public static func worst(_ statuses: [ExitStatus]) -> ExitStatus {
        statuses.max { $0.severity < $1.severity } ?? .passed
    }

    public var name: String {
        switch self {
        case .passed: "passed"
        case .targetFailed: "target-failed"
        case .badInput: "bad-input"
        case .harnessError: "harness-error"
        case .aborted: "aborted"
        }
    }
}
