import Faultline
import Foundation

/// Network faults of the compose environment: the local environment's iptables rules (`LocalEnvironment.packetRules`,
/// the same FAULTLINE chain hooked into INPUT and OUTPUT), run inside the node's container (it has NET_ADMIN), whose
/// eth0 is on the compose network as a local node's eth0 is on its bridge. The reversal deletes exactly the filter's rules.
extension ComposeEnvironment {
    static let chain = "FAULTLINE"

    @discardableResult
    private func iptables(_ node: String, _ args: [String], check: Bool = true) async throws -> CommandResult {
        try await exec(node, ["iptables", "-w", "5"] + args, check: check, timeout: .seconds(15))
    }

    /// Adds the filter's rules to the node's FAULTLINE chain (creating and hooking the chain if needed).
    func dropPackets(_ node: String, _ filter: PacketFilter) async throws {
        try await iptables(node, ["-N", Self.chain], check: false)
        for hook in ["INPUT", "OUTPUT"] where !(try await iptables(node, ["-C", hook, "-j", Self.chain], check: false)).succeeded {
            try await iptables(node, ["-I", hook, "1", "-j", Self.chain])
        }
        let rules = shared.packetRules(filter, on: node)
        for r in rules.first { try await iptables(node, ["-I", Self.chain, "1"] + r) }
        for r in rules.drops { try await iptables(node, ["-A", Self.chain] + r) }
    }

    /// Deletes exactly the filter's rules; unhooks and removes the chain once it is empty. Idempotent; a container that
    /// is not running has no rules to delete.
    func restorePackets(_ node: String, _ filter: PacketFilter) async throws {
        guard try await containerRunning(node) else { return }
        let rules = shared.packetRules(filter, on: node)
        for r in rules.first + rules.drops { try await iptables(node, ["-D", Self.chain] + r, check: false) }
        let left = try await iptables(node, ["-S", Self.chain], check: false)
        if left.succeeded && !left.stdout.split(separator: "\n").contains(where: { $0.hasPrefix("-A ") }) {
            try await removeChain(node)
        }
    }

    /// The full heal's part: every FAULTLINE rule in the node's container gone, the chain unhooked and removed.
    func flushFaultRules(_ node: String) async throws {
        guard try await containerRunning(node) else { return }
        try await iptables(node, ["-F", Self.chain], check: false)
        try await removeChain(node)
    }

    private func removeChain(_ node: String) async throws {
        for hook in ["INPUT", "OUTPUT"] {
            while (try await iptables(node, ["-D", hook, "-j", Self.chain], check: false)).succeeded {}
        }
        try await iptables(node, ["-X", Self.chain], check: false)
    }

    /// The FAULTLINE rules now in the node's container (`iptables -S FAULTLINE` lines after `-N`).
    public func faultRules(_ node: String) async throws -> [String] {
        let r = try await iptables(node, ["-S", Self.chain], check: false)
        guard r.succeeded else { return [] }
        return r.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A ") }
    }

    func containerRunning(_ service: String) async throws -> Bool {
        let r = try await runner.run([engine.docker, "inspect", "-f", "{{.State.Running}}", config.container(service)], check: false, timeout: .seconds(20))
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "true"
    }
}
