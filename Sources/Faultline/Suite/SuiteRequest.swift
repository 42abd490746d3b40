/// What a suite is asked to run, from a suite file or the command line (docs/suite.md). Every field is optional:
/// the planner merges a file's request with the command line's (the command line wins) and fills in the defaults.
///
/// A suite file is JSON with these keys, each optional:
/// `{"name": "nightly", "tags": ["nightly"], "scenarios": ["kill-primary", {"name": "switchover", "set": ["steady=5s"],
/// "repeat": 2}], "repeat": 1, "budget": "30m", "scenarioTimeout": "10m", "keepGoing": true, "set": [], "abort": []}`.
/// An unknown key, a wrong type or a bad duration is a decoding error naming its field (`SuiteRequest.describe`).
public struct SuiteRequest: Sendable, Equatable, Decodable {
    /// One scenario named explicitly, with its own `--set`, `--abort` and repeat count.
    public struct Entry: Sendable, Equatable, Decodable {
        public var name: String
        public var overrides: [String]
        public var abort: [String]
        /// nil: the suite's repeat count.
        public var repeats: Int?

        public init(_ name: String, overrides: [String] = [], abort: [String] = [], repeats: Int? = nil) {
            self.name = name
            self.overrides = overrides
            self.abort = abort
            self.repeats = repeats
        }

        enum Key: String, CodingKey, CaseIterable { case name, set, abort, `repeat` }

        /// A bare string (`"kill-primary"`) or an object with `name` and optionally `set`, `abort`, `repeat`.
        public init(from decoder: any Decoder) throws {
            if let single = try? decoder.singleValueContainer(), let name = try? single.decode(String.self) {
                self.init(name)
                return
            }
            let c = try decoder.container(keyedBy: Key.self)
            try SuiteRequest.rejectUnknownKeys(decoder, known: Key.allCases.map(\.rawValue))
            self.init(try c.decode(String.self, forKey: .name),
                      overrides: try c.decodeIfPresent([String].self, forKey: .set) ?? [],
                      abort: try c.decodeIfPresent([String].self, forKey: .abort) ?? [],
                      repeats: try SuiteRequest.decodeRepeat(c, .repeat))
        }
    }

    public var name: String?
    public var tags: [String]
    public var scenarios: [Entry]
    /// How many times each scenario runs; nil: 1 (or an entry's own count).
    public var repeats: Int?
    /// The suite's wall-time budget: a run starts only while what is left covers its minimum duration.
    public var budget: Duration?
    /// How long one run may take before it is stopped (and healed) and counted a harness error.
    public var scenarioTimeout: Duration?
    /// nil: stop at the first run that does not exit 0.
    public var keepGoing: Bool?
    /// `--set` for every scenario.
    public var overrides: [String]
    /// `--abort` for every scenario.
    public var abort: [String]

    public init(name: String? = nil, tags: [String] = [], scenarios: [Entry] = [], repeats: Int? = nil, budget: Duration? = nil,
                scenarioTimeout: Duration? = nil, keepGoing: Bool? = nil, overrides: [String] = [], abort: [String] = []) {
        self.name = name
        self.tags = tags
        self.scenarios = scenarios
        self.repeats = repeats
        self.budget = budget
        self.scenarioTimeout = scenarioTimeout
        self.keepGoing = keepGoing
        self.overrides = overrides
        self.abort = abort
    }

    /// Whether this request selects anything itself (a tag or a scenario).
    public var selects: Bool { !tags.isEmpty || !scenarios.isEmpty }

    enum Key: String, CodingKey, CaseIterable { case name, tags, scenarios, `repeat`, budget, scenarioTimeout, keepGoing, set, abort }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        try Self.rejectUnknownKeys(decoder, known: Key.allCases.map(\.rawValue))
        self.init(name: try c.decodeIfPresent(String.self, forKey: .name),
                  tags: try c.decodeIfPresent([String].self, forKey: .tags) ?? [],
                  scenarios: try c.decodeIfPresent([Entry].self, forKey: .scenarios) ?? [],
                  repeats: try Self.decodeRepeat(c, .repeat),
                  budget: try Self.decodeDuration(c, .budget),
                  scenarioTimeout: try Self.decodeDuration(c, .scenarioTimeout),
                  keepGoing: try c.decodeIfPresent(Bool.self, forKey: .keepGoing),
                  overrides: try c.decodeIfPresent([String].self, forKey: .set) ?? [],
                  abort: try c.decodeIfPresent([String].self, forKey: .abort) ?? [])
    }

    /// A duration written as text (`"30m"`, `"1m30s"`), or a decoding error naming the field.
    static func decodeDuration<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Duration? {
        guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let d = DurationText.parse(text), d > .zero else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "'\(text)' is not a positive duration such as 30m or 90s")
        }
        return d
    }

    /// A repeat count of at least 1, or a decoding error naming the field.
    static func decodeRepeat<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Int? {
        guard let n = try c.decodeIfPresent(Int.self, forKey: key) else { return nil }
        guard n >= 1 else { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(n): run each scenario at least once (1 or more)") }
        return n
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// A misspelt key (`"keep_going"`) would otherwise be ignored without a word.
    static func rejectUnknownKeys(_ decoder: any Decoder, known: [String]) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        if let bad = all.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [AnyKey(stringValue: bad)],
                                                    debugDescription: "unknown field (known: \(known.joined(separator: ", ")))"))
        }
    }

    /// One line for a suite file that did not decode, naming the field: `suite file suite.json: field 'scenarios[1].repeat': expected a whole number`.
    public static func describe(_ error: any Error, file: String) -> String {
        func path(_ p: [any CodingKey]) -> String {
            var out = ""
            for k in p {
                if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
            }
            return out
        }
        func type(_ t: Any.Type, at p: [any CodingKey]) -> String {
            if "\(t)".hasPrefix("Array") {
                return p.last?.stringValue == "scenarios" ? "a list of scenario names or objects" : "a list of strings"
            }
            return switch t {
            case is String.Type: "a string"
            case is Int.Type: "a whole number"
            case is Bool.Type: "true or false"
            case is [String].Type: "a list of strings"
            case is [Entry].Type: "a list of scenario names or objects"
            default: "\(t)".hasPrefix("Dictionary") ? "an object" : "\(t)"
            }
        }
        let head = "suite file \(file)"
        guard let e = error as? DecodingError else { return "\(head): not valid JSON" }
        switch e {
        case .typeMismatch(let t, let ctx):
            return ctx.codingPath.isEmpty ? "\(head): expected a JSON object" : "\(head): field '\(path(ctx.codingPath))': expected \(type(t, at: ctx.codingPath))"
        case .valueNotFound(let t, let ctx):
            return "\(head): field '\(path(ctx.codingPath))': expected \(type(t, at: ctx.codingPath)), found null"
        case .keyNotFound(let k, let ctx):
            return "\(head): field '\(path(ctx.codingPath + [k]))' is missing"
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty { return "\(head): not valid JSON" }
            return "\(head): field '\(path(ctx.codingPath))': \(ctx.debugDescription)"
        @unknown default:
            return "\(head): cannot be read"
        }
    }
}
