import Faultline
import Foundation

/// Network faults of the local environment: iptables rules in a chain of their own (`FAULTLINE`) inside
/// the node's namespace, and tc qdiscs on the node's link. Every rule a fault adds is derived from the
/// fault's `PacketFilter` alone, so its reversal deletes exactly those rules (and nothing else), also
/// after a crash. Hooks: `INPUT -j FAULTLINE` and `OUTPUT -j FAULTLINE`, removed when the chain is empty.
extension LocalEnvironment {
    static let chain = "FAULTLINE"
    static let ruleComment = "faultline"

    /// The ports of a service in this environment.
    static func ports(_ s: NetService) -> [Int] {
        switch s {
        case .postgres: [5432]
        case .patroni: [8008]
        case .etcd: [2379, 2380]
        case .objectStore: [ArchivingConfig.s3Port]
        }
    }

    /// The rules (arguments after `-A FAULTLINE` or `-I FAULTLINE 1`) for `filter` on `node`: `first` go
    /// to the top of the chain (RETURN exemptions for the harness's PostgreSQL probe), `drops` are appended.
    /// Pure: the same filter always gives the same rules.
    public func packetRules(_ filter: PacketFilter, on node: String) -> (first: [[String]], drops: [[String]]) {
        let comment = ["-m", "comment", "--comment", Self.ruleComment]
        var matches: [[String]] = []
        var first: [[String]] = []
        for p in filter.peers {
            switch p {
            case .member(let m): matches += [["-s", config.nodeIP(m)], ["-d", config.nodeIP(m)]]
            case .clients: matches += [["-s", config.clientIP], ["-d", config.clientIP]]
            case .loopback: matches += [["-i", "lo"], ["-o", "lo"]]
            case .anyHost:
                matches += [["-i", "eth0"], ["-o", "eth0"]]
                if filter.services.isEmpty || filter.services.contains(.postgres) {
                    first.append(["-i", "eth0", "-s", config.hostIP, "-p", "tcp", "--dport", "5432"] + comment + ["-j", "RETURN"])
                    first.append(["-o", "eth0", "-d", config.hostIP, "-p", "tcp", "--sport", "5432"] + comment + ["-j", "RETURN"])
                }
            }
        }
        let ports = filter.services.flatMap(Self.ports)
        let portMatches: [[String]] = ports.isEmpty ? [[]] : ports.flatMap { [["-p", "tcp", "--dport", "\($0)"], ["-p", "tcp", "--sport", "\($0)"]] }
        let chance: [String] = filter.percent.map { p in
            ["-m", "statistic", "--mode", "random", "--probability", String(format: "%.4f", Double(p) / 100)]
        } ?? []
        var drops: [[String]] = []
        for m in matches { for pm in portMatches { drops.append(m + pm + chance + comment + ["-j", "DROP"]) } }
        return (first, drops)
    }

    private func iptables(_ node: String, _ args: [String], check: Bool = true) async throws -> CommandResult {
        try await runner.run(["/usr/sbin/ip", "netns", "exec", config.nodeNetns(node), "/usr/sbin/iptables", "-w", "5"] + args,
                             check: check, timeout: .seconds(15))
    }

    /// Adds the filter's rules to the node's FAULTLINE chain (creating and hooking the chain if needed).
    public func dropPackets(_ node: String, _ filter: PacketFilter) async throws {
        _ = try await iptables(node, ["-N", Self.chain], check: false)
        for hook in ["INPUT", "OUTPUT"] where !(try await iptables(node, ["-C", hook, "-j", Self.chain], check: false)).succeeded {
            try await iptables(node, ["-I", hook, "1", "-j", Self.chain])
        }
        let rules = packetRules(filter, on: node)
        for r in rules.first { try await iptables(node, ["-I", Self.chain, "1"] + r) }
        for r in rules.drops { try await iptables(node, ["-A", Self.chain] + r) }
    }

    /// Deletes exactly the filter's rules (one copy each); unhooks and removes the chain once it is empty.
    /// Idempotent: rules or chain already gone are not an error.
    public func restorePackets(_ node: String, _ filter: PacketFilter) async throws {
        let rules = packetRules(filter, on: node)
        for r in rules.first + rules.drops { _ = try await iptables(node, ["-D", Self.chain] + r, check: false) }
        let left = try await iptables(node, ["-S", Self.chain], check: false)
        let remaining = left.stdout.split(separator: "\n").filter { $0.hasPrefix("-A ") }
        if left.succeeded && remaining.isEmpty {
            for hook in ["INPUT", "OUTPUT"] {
                while (try await iptables(node, ["-D", hook, "-j", Self.chain], check: false)).succeeded {}
            }
            _ = try await iptables(node, ["-X", Self.chain], check: false)
        }
    }

    /// The FAULTLINE rules now in the node's namespace (`iptables -S FAULTLINE` lines after `-N`).
    public func faultRules(_ node: String) async throws -> [String] {
        let r = try await iptables(node, ["-S", Self.chain], check: false)
        guard r.succeeded else { return [] }
        return r.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A ") }
    }

    // MARK: link shaping

    /// One link a shape goes on: the `tc` command line that reaches its namespace (`tc -n <netns>`, or `docker exec
    /// <container> tc`) and the device.
    public struct ShapedLink: Sendable {
        public var tc: [String]
        public var dev: String
        public init(tc: [String], dev: String) { self.tc = tc; self.dev = dev }
    }

    /// The links a shape goes on: the node's eth0 (what it sends) and its bridge port in the client
    /// namespace (what it receives), so both directions are shaped.
    private func links(_ node: String) -> [ShapedLink] {
        [ShapedLink(tc: ["/usr/sbin/tc", "-n", config.nodeNetns(node)], dev: "eth0"),
         ShapedLink(tc: ["/usr/sbin/tc", "-n", config.clientNetns], dev: "v-\(node)")]
    }

    /// The root qdisc of a shape. A rate limit is an `htb` root whose one throttled class gets only
    /// PostgreSQL's traffic (`rateCommands`; this kernel has no `prio`), so only that is slowed: the node's etcd member and Patroni's
    /// REST API keep their speed (throttling them too cost the primary its leader key when it talked
    /// to the throttled node's etcd).
    static func qdiscArgs(_ shape: LinkShape) -> [String] {
        switch shape {
        case .rate: ["handle", "1:", "htb", "default", "10"]
        case .delay(let ms): ["netem", "delay", "\(ms)ms"]
        }
    }

    /// After the root: an unthrottled default class, the throttled class, and the filters that send
    /// port-5432 traffic (either direction) to it.
    static func rateCommands(ns: String, dev: String, kbit: Int) -> [[String]] {
        rateCommands(tc: ["/usr/sbin/tc", "-n", ns], dev: dev, kbit: kbit)
    }

    static func rateCommands(tc: [String], dev: String, kbit: Int) -> [[String]] {
        let filter = tc + ["filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match", "ip"]
        return [
            tc + ["class", "add", "dev", dev, "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit", "quantum", "60000"],
            tc + ["class", "add", "dev", dev, "parent", "1:", "classid", "1:30", "htb", "rate", "\(kbit)kbit", "ceil", "\(kbit)kbit",
                  "burst", "32kbit", "quantum", "1514"],
            filter + ["sport", "5432", "0xffff", "flowid", "1:30"],
            filter + ["dport", "5432", "0xffff", "flowid", "1:30"],
        ]
    }

    static func qdiscKind(_ shape: LinkShape) -> String {
        switch shape {
        case .rate: "htb"
        case .delay: "netem"
        }
    }

    /// Adds the shape on both links (a rate limit: to PostgreSQL's port only). netem missing from the
    /// kernel: `FaultUnsupported`.
    public func shapeLink(_ node: String, _ shape: LinkShape) async throws {
        try await Self.shape(links(node), shape, runner: runner)
    }

    /// Adds the shape on every link of `links`, or on none (what it added is removed when one fails). Shared by the
    /// environments: a node's two directions are two links.
    public static func shape(_ links: [ShapedLink], _ shape: LinkShape, runner: CommandRunner) async throws {
        for (i, l) in links.enumerated() {
            let r = try await runner.run(l.tc + ["qdisc", "add", "dev", l.dev, "root"] + qdiscArgs(shape), check: false)
            guard r.succeeded else {
                for done in links.prefix(i) { _ = try? await unshape(done, qdiscKind(shape), runner: runner) }
                let err = CommandRunner.lastLine(r.stderr)
                if case .delay = shape, err.contains("unknown") || err.contains("not supported") || err.contains("No such file") {
                    throw FaultUnsupported("unsupported by this kernel: tc netem failed (\(err)); sch_netem is not available")
                }
                throw EnvironmentError.commandFailed("tc qdisc add dev \(l.dev) root \(qdiscArgs(shape).joined(separator: " "))", r.status, err)
            }
            if case .rate(let kbit) = shape {
                do {
                    for cmd in rateCommands(tc: l.tc, dev: l.dev, kbit: kbit) { try await runner.run(cmd) }
                } catch {
                    for done in links.prefix(i + 1) { _ = try? await unshape(done, qdiscKind(shape), runner: runner) }
                    throw error
                }
            }
        }
    }

    /// Removes the root qdisc of both links if it is still the kind the fault added. Idempotent.
    public func unshapeLink(_ node: String, _ shape: LinkShape) async throws {
        for l in links(node) { try await Self.unshape(l, Self.qdiscKind(shape), runner: runner) }
    }

    /// Removes the root qdisc of `link` if it is of `kind` (nil: whatever it is). Idempotent.
    public static func unshape(_ link: ShapedLink, _ kind: String?, runner: CommandRunner) async throws {
        let show = try await runner.run(link.tc + ["qdisc", "show", "dev", link.dev, "root"], check: false)
        if let kind { guard show.stdout.contains("qdisc \(kind) ") else { return } }
        try await runner.run(link.tc + ["qdisc", "del", "dev", link.dev, "root"], check: false)
    }
}
