import Faultline
import FaultlineConcurrency
import Foundation

/// Disk and link faults of the compose environment, with the local environment's code.
///
/// - fill-disk: each node's PGDATA is a volume of its own (`<project>_<node>-pgdata`, a tmpfs of the local data size,
///   `docker-compose.yml`), mounted where the local environment mounts its tmpfs. The host writes the ballast into the
///   volume's mount point (`LocalEnvironment.fillDisk(at:)`): "full" is real ENOSPC for PostgreSQL in the container.
/// - shape-link: the local qdiscs (`LocalEnvironment.shape`, an htb root throttling PostgreSQL's port) on the node's
///   eth0 inside its container (what it sends) and on the container's veth peer on the host (what it receives).
extension ComposeEnvironment {
    /// The compose volume holding `node`'s PGDATA.
    func dataVolume(_ node: String) -> String { "\(config.project)_\(node)-pgdata" }

    /// Where the host sees `node`'s data volume (`docker volume inspect`).
    func dataVolumeMount(_ node: String) async throws -> String {
        let r = try await runner.run([engine.docker, "volume", "inspect", "-f", "{{.Mountpoint}}", dataVolume(node)], timeout: .seconds(20))
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func volumeUsage(_ node: String) async throws -> LocalEnvironment.VolumeUsage? {
        LocalEnvironment.volumeUsage(at: try await dataVolumeMount(node))
    }

    /// Writes ballast until `node`'s data volume is `percent` % used (100: until ENOSPC). Returns the bytes written.
    func fillDisk(_ node: String, percent: Int) async throws -> Int {
        let dir = try await dataVolumeMount(node)
        let log = runner.commandLog
        return try await Blocking.run { () throws -> Int in
            try LocalEnvironment.fillDisk(at: dir, percent: percent, label: node, log: log)
        }
    }

    /// Deletes every ballast file on `node`'s data volume. Idempotent.
    func removeBallast(_ node: String) async throws {
        guard let dir = try? await dataVolumeMount(node), !dir.isEmpty else { return }
        LocalEnvironment.removeBallast(at: dir, log: runner.commandLog)
    }

    /// The node's two links: eth0 in its container, and that veth's peer on the host (found by eth0's iflink).
    func shapedLinks(_ node: String) async throws -> [LocalEnvironment.ShapedLink] {
        let iflink = try await exec(node, ["cat", "/sys/class/net/eth0/iflink"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let links = try await runner.run(["/usr/sbin/ip", "-o", "link", "show"], timeout: .seconds(10)).stdout
        guard let line = links.split(separator: "\n").first(where: { $0.hasPrefix("\(iflink): ") }),
              let name = line.split(separator: " ").dropFirst().first?.split(separator: "@").first.map(String.init)?
                  .trimmingCharacters(in: CharacterSet(charactersIn: ":")) else {
            throw EnvironmentError.unhealthy("the host end of \(node)'s eth0 (ifindex \(iflink)) was not found")
        }
        return [LocalEnvironment.ShapedLink(tc: [engine.docker, "exec", config.container(node), "tc"], dev: "eth0"),
                LocalEnvironment.ShapedLink(tc: ["/usr/sbin/tc"], dev: name)]
    }

    func shapeLink(_ node: String, _ shape: LinkShape) async throws {
        try await LocalEnvironment.shape(try await shapedLinks(node), shape, runner: runner)
    }

    /// Removes the shape's root qdiscs (`kind` nil: any root qdiscs, as the heal does). Idempotent.
    func unshapeLink(_ node: String, kind: String?) async throws {
        guard try await containerRunning(node) else { return }
        for l in try await shapedLinks(node) { try await LocalEnvironment.unshape(l, kind, runner: runner) }
    }
}

extension ComposeEnvironment {
    /// The root qdisc kinds now on `node`'s two links (eth0 in its container, its veth peer on the host), e.g.
    /// ["noqueue", "noqueue"], or ["htb", "htb"] while a rate limit holds.
    public func rootQdiscs(_ node: String) async throws -> [String] {
        var kinds: [String] = []
        for l in try await shapedLinks(node) {
            let r = try await runner.run(l.tc + ["qdisc", "show", "dev", l.dev, "root"], check: false, timeout: .seconds(15))
            kinds.append(r.stdout.split(separator: " ").dropFirst().first.map(String.init) ?? "")
        }
        return kinds
    }
}
