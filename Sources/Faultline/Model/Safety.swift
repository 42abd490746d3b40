/// What must hold on the healthy cluster, under load, before any fault goes in (Chaos Toolkit's steady-state
/// hypothesis). Checked once, at the end of the steady state: when it does not hold, nothing is injected and the
/// run ends `aborted: steady state not met`, with what was measured.
public struct SteadyStateHypothesis: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The error ratio of the load over the steady state may be at most this; nil: not checked.
    public var errorRate: Double?
    /// The p99 of acknowledged requests over the steady state may be at most this; nil: not checked.
    public var p99: Duration?
    /// The cluster must be healthy (`Topology.health(against:)`, the scenario's shape) at the end of the steady state.
    public var healthy: Bool

    public init(errorRate: Double? = nil, p99: Duration? = nil, healthy: Bool = true) {
        self.errorRate = errorRate
        self.p99 = p99
        self.healthy = healthy
    }

    /// Every scenario's unless it declares its own: under 1 % errors, p99 under 1 s, healthy. Loose on purpose:
    /// it stops an experiment on a cluster that is already in trouble, not a slow one.
    public static let standard = SteadyStateHypothesis(errorRate: 0.01, p99: .seconds(1), healthy: true)

    public var description: String {
        var parts: [String] = []
        if let e = errorRate { parts.append("error rate ≤ \(percent(e))") }
        if let p = p99 { parts.append("p99 ≤ \(DurationText.human(ms: p.milliseconds))") }
        if healthy { parts.append("cluster healthy") }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }

    /// What the steady state showed against this hypothesis: the broken parts, empty when it holds.
    public func violations(errors: Int, total: Int, p99Us: Int?, healthProblems: [String]) -> [String] {
        var out: [String] = []
        if let bound = errorRate {
            if total == 0 {
                out.append("no request completed in the steady state")
            } else {
                let rate = Double(errors) / Double(total)
                if rate > bound { out.append("error rate \(percent(rate)) (\(errors) of \(total)) > \(percent(bound))") }
            }
        }
        if let bound = p99, let us = p99Us, us > bound.milliseconds * 1_000 {
            out.append("p99 \(DurationText.human(ms: us / 1_000)) > \(DurationText.human(ms: bound.milliseconds))")
        }
        if healthy, !healthProblems.isEmpty { out.append("cluster not healthy: " + healthProblems.joined(separator: "; ")) }
        return out
    }
}

/// A condition that stops the experiment at once (heal now): Chaos Mesh's and AWS FIS's stop conditions.
/// When one holds, the runner heals, stops the load, reads the writes back and ends `aborted` with the condition.
public enum AbortCondition: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The load's error ratio (over its last second) stayed above `above` for `for` (zero: at once).
    case errorRate(above: Double, for: Duration)
    /// The p99 of acknowledged requests (over the last second) stayed above `above` for `for`.
    case p99(above: Duration, for: Duration)
    /// More than `above` acknowledged writes are missing on the current primary (read after each change of primary).
    case lostWrites(above: Int)
    /// A member's data volume has less than this share free (0.05 = 5 %).
    case diskFree(below: Double)
    /// A replica is more than this many bytes behind the primary.
    case replicationLag(aboveBytes: Int64)

    /// The metric names `parse` knows, for the error that lists them.
    public static let metrics = ["error-rate", "p99", "lost-writes", "disk-free", "replication-lag"]

    public var metric: String {
        switch self {
        case .errorRate: "error-rate"
        case .p99: "p99"
        case .lostWrites: "lost-writes"
        case .diskFree: "disk-free"
        case .replicationLag: "replication-lag"
        }
    }

    /// How long the condition must hold before it aborts (zero for the instantaneous ones).
    public var sustained: Duration {
        switch self {
        case .errorRate(_, let d), .p99(_, let d): d
        case .lostWrites, .diskFree, .replicationLag: .zero
        }
    }

    /// The text `parse` reads back: `error-rate>50%/60s`, `p99>2s/30s`, `lost-writes>0`, `disk-free<5%`, `replication-lag>64MiB`.
    public var text: String {
        // A form that parses back to exactly `r`: 0.07 * 100 is 7.000000000000001, yet "7%" reads back as 0.07.
        func pct(_ r: Double) -> String {
            let p = r * 100
            if p.rounded() / 100 == r { return "\(Int(p.rounded()))%" }
            return p / 100 == r ? "\(p)%" : "\(r)"
        }
        func sustain(_ d: Duration) -> String { d > .zero ? "/\(DurationText.format(d))" : "" }
        switch self {
        case .errorRate(let r, let d): return "error-rate>\(pct(r))\(sustain(d))"
        case .p99(let p, let d): return "p99>\(DurationText.format(p))\(sustain(d))"
        case .lostWrites(let n): return "lost-writes>\(n)"
        case .diskFree(let r): return "disk-free<\(pct(r))"
        case .replicationLag(let b): return b % (1 << 20) == 0 ? "replication-lag>\(b >> 20)MiB" : "replication-lag>\(b)B"
        }
    }

    public var description: String {
        let held = sustained > .zero ? " for \(DurationText.human(ms: sustained.milliseconds))" : ""
        switch self {
        case .errorRate(let r, _): return "error rate above \(percent(r))\(held)"
        case .p99(let p, _): return "p99 above \(DurationText.human(ms: p.milliseconds))\(held)"
        case .lostWrites(let n): return "more than \(n) acknowledged write\(n == 1 ? "" : "s") lost"
        case .diskFree(let r): return "a data volume under \(percent(r)) free"
        case .replicationLag(let b): return "a replica more than \(b >> 20) MiB behind"
        }
    }

    /// Parses `--abort` text: `<metric><op><value>[/<duration>]`, for example `error-rate>50%/60s`, `lost-writes>0`,
    /// `disk-free<5%`, `p99>2s/30s`, `replication-lag>64MiB`. A one-line `InputError` otherwise.
    public static func parse(_ raw: String) throws(InputError) -> AbortCondition {
        let text = raw.filter { !$0.isWhitespace }
        let known = metrics.joined(separator: ", ")
        guard let opIndex = text.firstIndex(where: { $0 == ">" || $0 == "<" }) else {
            throw InputError("--abort '\(raw)': expected <metric>><value>[/<duration>], for example error-rate>50%/60s (metrics: \(known))")
        }
        let metric = String(text[..<opIndex]).lowercased()
        let op = text[opIndex]
        let rest = text[text.index(after: opIndex)...].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let value = String(rest.first ?? "")
        guard metrics.contains(metric) else {
            throw InputError("--abort '\(raw)': unknown metric '\(metric)'; known: \(known)")
        }
        var sustained = Duration.zero
        if rest.count == 2 {
            guard let d = DurationText.parse(String(rest[1])) else {
                throw InputError("--abort '\(raw)': '\(rest[1])' is not a duration such as 30s or 2m")
            }
            sustained = d
        }
        let expected: Character = metric == "disk-free" ? "<" : ">"
        guard op == expected else {
            throw InputError("--abort '\(raw)': \(metric) takes '\(expected)', as in \(example(metric))")
        }
        if sustained > .zero, metric != "error-rate", metric != "p99" {
            throw InputError("--abort '\(raw)': only error-rate and p99 take a /duration")
        }
        func ratio() throws(InputError) -> Double {
            let pct = value.hasSuffix("%")
            guard let n = Double(pct ? String(value.dropLast()) : value), n.isFinite else {
                throw InputError("--abort '\(raw)': '\(value)' is not a ratio such as 0.5 or 50%")
            }
            let r = pct ? n / 100 : n
            guard (0...1).contains(r) else { throw InputError("--abort '\(raw)': \(value) must lie between 0 and 1 (0 % and 100 %)") }
            return r
        }
        switch metric {
        case "error-rate": return .errorRate(above: try ratio(), for: sustained)
        case "disk-free": return .diskFree(below: try ratio())
        case "p99":
            guard let d = DurationText.parse(value), d > .zero else { throw InputError("--abort '\(raw)': '\(value)' is not a duration such as 2s") }
            return .p99(above: d, for: sustained)
        case "lost-writes":
            guard let n = Int(value), n >= 0 else { throw InputError("--abort '\(raw)': '\(value)' is not a whole number of 0 or more") }
            return .lostWrites(above: n)
        default:
            guard let b = parseBytes(value), b >= 0 else {
                throw InputError("--abort '\(raw)': '\(value)' is not a size such as 64MiB, 512KiB or 1048576B")
            }
            return .replicationLag(aboveBytes: b)
        }
    }

    static func example(_ metric: String) -> String {
        switch metric {
        case "error-rate": "error-rate>50%/60s"
        case "p99": "p99>2s/30s"
        case "lost-writes": "lost-writes>0"
        case "disk-free": "disk-free<5%"
        default: "replication-lag>64MiB"
        }
    }

    static func parseBytes(_ s: String) -> Int64? {
        let units: [(String, Int64)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)]
        for (u, f) in units where s.hasSuffix(u) {
            // nil on overflow: a huge size is bad input, not a crash.
            guard let n = Int64(s.dropLast(u.count)) else { return nil }
            let (v, overflow) = n.multipliedReportingOverflow(by: f)
            return overflow ? nil : v
        }
        return Int64(s)
    }

    /// Parses every `--abort`; the first bad one throws.
    public static func parseAll(_ texts: [String]) throws(InputError) -> [AbortCondition] {
        var out: [AbortCondition] = []
        for t in texts { out.append(try parse(t)) }
        return out
    }
}

/// A scenario's safety limits: its steady-state hypothesis and its abort conditions.
public struct SafetyLimits: Codable, Sendable, Equatable {
    /// nil: `SteadyStateHypothesis.standard`.
    public var steadyState: SteadyStateHypothesis?
    public var abort: [AbortCondition]

    public init(steadyState: SteadyStateHypothesis? = nil, abort: [AbortCondition] = []) {
        self.steadyState = steadyState
        self.abort = abort
    }

    public var hypothesis: SteadyStateHypothesis { steadyState ?? .standard }
}

extension Scenario {
    /// The steady-state hypothesis the run checks (the scenario's own, else `SteadyStateHypothesis.standard`).
    public var steadyStateHypothesis: SteadyStateHypothesis { safety?.hypothesis ?? .standard }
    /// The abort conditions the run watches.
    public var abortConditions: [AbortCondition] { safety?.abort ?? [] }

    /// This scenario with more abort conditions (`--abort`), an identical one not repeated.
    public func addingAbortConditions(_ extra: [AbortCondition]) -> Scenario {
        guard !extra.isEmpty else { return self }
        var s = self
        var limits = s.safety ?? SafetyLimits()
        for c in extra where !limits.abort.contains(c) { limits.abort.append(c) }
        s.safety = limits
        return s
    }
}

/// What an environment lets faults touch: what it created itself. Faultline refuses to inject into a member it did
/// not create, at an address outside its subnet, or into an environment it did not bring up, unless the user
/// named that target explicitly (`--target`).
public struct BlastRadius: Sendable, Equatable {
    /// Whether this environment was brought up by Faultline (its ownership stamp is there); `ownership` says why not.
    public var owned: Bool
    public var ownership: String
    /// The members it created, by name.
    public var members: Set<String>
    /// Its private subnet, IPv4 CIDR (`10.77.0.0/24`); nil: addresses are not checked.
    public var subnet: String?

    public init(owned: Bool, ownership: String = "", members: Set<String>, subnet: String?) {
        self.owned = owned
        self.ownership = ownership
        self.members = members
        self.subnet = subnet
    }

    /// Why this action must not be injected here; empty when it may. `topology` gives the members' addresses;
    /// `allowed` holds what the user named explicitly (member names or addresses, or `*` for anything).
    public func problems(_ action: FaultAction, in topology: Topology, allowed: Set<String>) -> [String] {
        if allowed.contains("*") { return [] }
        var out: [String] = []
        if !owned && !allowed.contains("environment") {
            out.append("the environment was not brought up by Faultline (\(ownership)); name it with --target environment to inject anyway")
        }
        for name in action.members where !allowed.contains(name) {
            guard members.contains(name) else {
                out.append("member \(name) was not created by this environment (it has \(members.sorted().joined(separator: ", "))); name it with --target \(name) to inject anyway")
                continue
            }
            if let subnet, let host = topology.members.first(where: { $0.name == name })?.host, !host.isEmpty,
               !allowed.contains(host), let inside = Self.contains(subnet: subnet, address: host), !inside {
                out.append("member \(name) is at \(host), outside the environment's subnet \(subnet); name it with --target \(host) to inject anyway")
            }
        }
        return out
    }

    /// Whether an IPv4 `address` (a `host:port` is cut at the colon) lies in `subnet` (`a.b.c.d/n`); nil when either does not parse.
    public static func contains(subnet: String, address: String) -> Bool? {
        let parts = subnet.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits),
              let net = ipv4(String(parts[0])), let addr = ipv4(String(address.split(separator: ":").first ?? "")) else { return nil }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - UInt32(bits))
        return net & mask == addr & mask
    }

    static func ipv4(_ s: String) -> UInt32? {
        let octets = s.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var v: UInt32 = 0
        for o in octets {
            guard let n = UInt32(o), n <= 255 else { return nil }
            v = v << 8 | n
        }
        return v
    }
}

/// Thrown by a driver when a fault would reach beyond its blast radius (found only as it applies, an iptables rule's
/// address, say): the fault is not applied and the run ends aborted.
public struct OutsideBlastRadius: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
