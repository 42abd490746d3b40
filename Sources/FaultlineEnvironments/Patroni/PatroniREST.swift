import FaultlineConcurrency
import Foundation

/// The cluster's members as their Patroni REST APIs report them: the one reading both drivers' `status` use (local
/// and compose share the address plan, so `LocalConfig` names the nodes and their REST URLs for both).
enum PatroniREST {
    /// Every member is asked at once (a member back from a partition may answer from a stale view); the view most
    /// of them share wins (`ClusterStatus.consensus`). Members nobody lists are `down`/`unreachable`. The problems
    /// are the dissent and what `ClusterStatus.problems` finds (one sync standby expected when there are replicas).
    static func members(_ config: LocalConfig) async -> (members: [MemberStatus], problems: [String]) {
        var members: [MemberStatus] = config.nodeNames.map {
            MemberStatus(name: $0, role: "down", state: "unreachable", host: config.nodeIP($0), timeline: nil, lagBytes: nil)
        }
        var problems: [String] = []
        let urls = config.nodeNames.map { config.restURL($0) + "/cluster" }
        let answers = await Blocking.run { HTTP.getAll(urls, timeout: .milliseconds(800)) }
        let views = zip(config.nodeNames, answers).compactMap { n, a -> ClusterStatus.View? in
            guard case .success(let r) = a, r.status == 200,
                  let m = try? ClusterStatus.members(fromPatroniCluster: r.body, expected: config.nodeNames) else { return nil }
            return ClusterStatus.View(node: n, members: m)
        }
        if let c = ClusterStatus.consensus(views) {
            members = c.members
            problems += c.dissent
        } else {
            problems.append("no Patroni REST API answered")
        }
        problems += ClusterStatus.problems(members: members, expected: config.nodeCount, sync: config.nodeCount > 1 ? 1 : 0)
        return (members, problems)
    }
}
