import Faultline
import Foundation

/// One member as Patroni reports it.
public struct MemberStatus: Codable, Sendable, Equatable {
    public var name: String
    /// `leader`, `sync_standby`, `replica`, `standby_leader`, or `down` when Patroni does not list it.
    public var role: String
    /// `running`, `streaming`, `stopped`, `starting`, …
    public var state: String
    public var host: String
    public var timeline: Int?
    /// Replication lag in bytes as Patroni reports it; nil for the leader or when unknown.
    public var lagBytes: Int?

    public var isLeader: Bool { role == "leader" || role == "primary" }
    public var isSync: Bool { role == "sync_standby" }
    public var isStreamingReplica: Bool { !isLeader && (state == "streaming" || state == "running") && role != "down" }
}

/// A replica as the primary sees it in `pg_stat_replication`.
public struct ReplicationRow: Codable, Sendable, Equatable {
    public var applicationName: String
    public var clientAddr: String
    public var state: String
    public var syncState: String
    public var replayLagBytes: Int?
    public var replayLagSeconds: Double?
}

/// The environment's state, as `faultline env status` shows it.
public struct ClusterStatus: Codable, Sendable, Equatable {
    public var environment: String
    public var members: [MemberStatus]
    /// From the leader's pg_stat_replication; empty when the leader could not be queried.
    public var replication: [ReplicationRow]
    public var endpoints: [String: String]
    /// Memory of the environment, KiB: PSS of its processes plus tmpfs pages in use.
    public var memoryKiB: Int?
    public var problems: [String]
    /// The primary's WAL archiving (pg_stat_archiver); nil when not queried or the primary did not answer.
    public var archiving: ArchiverStatus? = nil

    public var leader: MemberStatus? { members.first { $0.isLeader } }
    /// The leader's name once it runs PostgreSQL ("running"), else nil: what a bring-up waits for.
    public var runningLeader: String? { leader.flatMap { $0.state == "running" ? $0.name : nil } }
    public var syncStandbys: [MemberStatus] { members.filter(\.isSync) }
    public var healthy: Bool { problems.isEmpty }

    /// Parses Patroni's `GET /cluster` answer. Members in `expected` that Patroni does not list come back as `down`.
    public static func members(fromPatroniCluster json: String, expected: [String]) throws -> [MemberStatus] {
        guard let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let list = obj["members"] as? [[String: Any]] else {
            throw EnvironmentError.unhealthy("Patroni /cluster answer has no members list")
        }
        var out: [MemberStatus] = list.map { m in
            let lag: Int? = (m["lag"] as? NSNumber)?.intValue ?? (m["replay_lag"] as? NSNumber)?.intValue
            return MemberStatus(
                name: m["name"] as? String ?? "?",
                role: m["role"] as? String ?? "unknown",
                state: m["state"] as? String ?? "unknown",
                host: m["host"] as? String ?? "",
                timeline: (m["timeline"] as? NSNumber)?.intValue,
                lagBytes: lag)
        }
        for name in expected where !out.contains(where: { $0.name == name }) {
            out.append(MemberStatus(name: name, role: "down", state: "absent", host: "", timeline: nil, lagBytes: nil))
        }
        return out.sorted { $0.name < $1.name }
    }

    /// One member's answer to `GET /cluster`: who it says leads, on which timeline.
    public struct View: Sendable, Equatable {
        public var node: String
        public var members: [MemberStatus]
        public init(node: String, members: [MemberStatus]) { self.node = node; self.members = members }
        var leaderKey: String {
            guard let l = members.first(where: \.isLeader) else { return "no leader" }
            return "\(l.name)/tl\(l.timeline.map(String.init) ?? "?")"
        }
    }

    /// Merges the members' own views of the cluster. A member that has just come back from a partition
    /// answers from its stale DCS view (Patroni caches it), often naming itself leader: trusting the first
    /// answer would call a cluster healthy that is still changing hands. The view most members share wins
    /// (ties: the higher leader timeline); each member whose own view differs is marked `state`
    /// "disagrees" (so it counts neither as leader nor as streaming) and named in `dissent`.
    ///
    /// A view that names the same leader without a timeline yet agrees with one that has it: right after the
    /// bootstrap, the leader's member key gets its timeline a moment after the leader key is taken, and the members'
    /// views pick it up up to about 250 ms apart (watched at 50 ms on 2026-12-08). Counted apart, the leader's own
    /// view, first with the timeline, was outvoted by two without it and marked "disagrees": no leader, and the
    /// bring-up failed (docs/environment.md, "No leader right after the leader was seen").
    public static func consensus(_ views: [View]) -> (members: [MemberStatus], dissent: [String])? {
        guard !views.isEmpty else { return nil }
        // The timeline a view without one takes: the highest that another view gives the same leader.
        var known: [String: Int] = [:]
        for v in views {
            if let l = v.members.first(where: \.isLeader), let tl = l.timeline { known[l.name] = max(known[l.name] ?? tl, tl) }
        }
        func key(_ v: View) -> String {
            guard let l = v.members.first(where: \.isLeader), l.timeline == nil, let tl = known[l.name] else { return v.leaderKey }
            return "\(l.name)/tl\(tl)"
        }
        let groups = Dictionary(grouping: views, by: key)
        func timeline(_ vs: [View]) -> Int { vs.compactMap { $0.members.first(where: \.isLeader)?.timeline }.max() ?? -1 }
        let best = groups.values.max { a, b in
            (a.count, timeline(a), key(b[0])) < (b.count, timeline(b), key(a[0]))
        }!
        let bestKey = key(best[0])
        // The members as a view of the winning group that knows the leader's timeline gives them.
        var members = (best.first { $0.members.first(where: \.isLeader)?.timeline != nil } ?? best[0]).members
        var dissent: [String] = []
        for v in views where key(v) != bestKey {
            dissent.append("\(v.node) says leader \(v.leaderKey), \(best.count) member(s) say \(bestKey)")
            if let i = members.firstIndex(where: { $0.name == v.node }) {
                members[i].state = "disagrees"
                if members[i].isLeader { members[i].role = "replica" }
            }
        }
        return (members, dissent.sorted())
    }

    /// What keeps `members` from being healthy, in Patroni's terms. The rule is the core's
    /// (`Topology.health(against:)` on `topology(from:)`): one running leader, every other expected member
    /// a streaming replica on the leader's timeline, and at least `sync` synchronous standbys.
    public static func problems(members: [MemberStatus], expected: Int, sync: Int) -> [String] {
        let topology = topology(from: members)
        let byName = Dictionary(members.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [String] = []
        for problem in topology.health(against: ClusterShape(members: expected, sync: sync)) {
            switch problem {
            case .memberCount:
                out.append(problem.description)
            case .notRunning(let names):
                let leaders = names.compactMap { byName[$0] }.filter(\.isLeader)
                out += leaders.map { "leader \($0.name) is \($0.state)" }
                let bad = names.filter { byName[$0]?.isLeader != true }
                if !bad.isEmpty {
                    let streaming = topology.members.filter(\.role.isReplica).count
                    let what = bad.map { "\($0) \(byName[$0]?.state ?? "absent")" }
                    out.append("\(streaming) of \(expected - 1) replicas streaming (\(what.joined(separator: ", ")))")
                }
            case .primaries(let names):
                if names.count > 1 {
                    out.append("\(names.count) leaders: \(names.joined(separator: ","))")
                } else if !members.contains(where: \.isLeader) {
                    out.append("no leader")  // a leader that is not running is named above
                }
            case .tooFewSync(let n, let want):
                out.append("\(n) of \(want) synchronous standbys")
            case .timeline(let m, let t, let p):
                out.append("\(m) on timeline \(t) but leader on \(p)")
            }
        }
        return out
    }

    /// Whether replica `m` streams. Patroni before 3.1 (Debian's 3.0.2, the known-bad control) never
    /// says "streaming": it reports a streaming replica as "running" with a lag. So when no member
    /// says "streaming", "running" counts.
    public static func isStreaming(_ m: MemberStatus, among members: [MemberStatus]) -> Bool {
        if m.state == "streaming" { return true }
        let legacy = !members.contains { $0.state == "streaming" }
        return legacy && m.state == "running" && !m.isLeader && m.role != "down"
    }

    /// A fixed-width table for terminals.
    public func table() -> String {
        var rows = [["MEMBER", "HOST", "ROLE", "STATE", "TL", "LAG(B)", "SYNC"]]
        for m in members {
            let sync = replication.first { $0.applicationName == m.name }?.syncState ?? (m.isLeader ? "-" : "?")
            rows.append([m.name, m.host, m.role, m.state, m.timeline.map(String.init) ?? "-",
                         m.lagBytes.map(String.init) ?? (m.isLeader ? "-" : "?"), sync])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var out = rows.map { r in r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
        out.append("")
        let keyWidth = max(10, endpoints.keys.map(\.count).max() ?? 0)
        for (k, v) in endpoints.sorted(by: { $0.key < $1.key }) { out.append("\(k.padding(toLength: keyWidth, withPad: " ", startingAt: 0)) \(v)") }
        if let a = archiving { out.append("archiving  \(a.summary)") }
        if let mem = memoryKiB { out.append("memory     \(mem / 1024) MiB (PSS of its processes + tmpfs in use)") }
        out.append(healthy ? "health     healthy" : "health     UNHEALTHY: \(problems.joined(separator: "; "))")
        return out.joined(separator: "\n")
    }
}
