import Foundation

/// What `up` refuses before it builds anything (the compose analogue of "a port already taken": nothing is published,
/// so what can clash is the subnet and the container names): the compose subnet already routed on the host (another
/// bridge, the local environment's host link) or held by another Docker network, and this project's container names
/// held by containers that are not this project's. Exit 8 (`EnvironmentError.inUse`), one line.
extension ComposeEnvironment {
    /// Pure: whether two IPv4 CIDR blocks overlap (nil when either does not parse).
    static func overlaps(_ a: String, _ b: String) -> Bool? {
        func parse(_ s: String) -> (UInt32, UInt32)? {
            let parts = s.split(separator: "/")
            let octets = parts.first?.split(separator: ".").compactMap { UInt32($0) } ?? []
            guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
            let bits = parts.count > 1 ? Int(parts[1]) ?? -1 : 32
            guard (0...32).contains(bits) else { return nil }
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
            return (octets.reduce(0) { $0 << 8 | $1 } & mask, mask)
        }
        guard let (na, ma) = parse(a), let (nb, mb) = parse(b) else { return nil }
        let common = ma & mb  // the shorter prefix's mask
        return na & common == nb & common
    }

    /// Pure: the conflicts in `routes` (`ip -o -4 route show` lines), `networks` (name, compose project, subnets) and
    /// `containers` (name, compose project) for this environment's subnet and container names.
    static func conflicts(subnet: String, project: String, containerNames: [String], routes: String,
                          networks: [(name: String, project: String, subnets: [String])],
                          containers: [(name: String, project: String)]) -> [String] {
        var out: [String] = []
        for n in networks where n.project != project {
            for s in n.subnets where overlaps(s, subnet) == true {
                out.append("subnet \(subnet) overlaps Docker network '\(n.name)' (\(s))")
            }
        }
        for line in routes.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            guard let dst = f.first, overlaps(dst, subnet) == true,
                  let i = f.firstIndex(of: "dev"), i + 1 < f.count else { continue }
            let dev = f[i + 1]
            // A Docker network's own bridge (br-<first 12 hex of its id>, passed in `networks`): ours is fine, another's
            // is reported by its subnet above.
            if networks.contains(where: { $0.name == dev }) { continue }
            out.append("subnet \(subnet) is routed on the host through '\(dev)' (\(dst))")
        }
        for c in containers where containerNames.contains(c.name) && c.project != project {
            out.append("container name '\(c.name)' is taken by a container that is not project \(project)'s")
        }
        return out
    }

    /// Asks the host and the engine; throws `inUse` naming every conflict and how to mend it.
    func refuseConflicts() async throws {
        let docker = engine.docker
        let routes = try await runner.run(["/usr/sbin/ip", "-o", "-4", "route", "show", "table", "all"], check: false, timeout: .seconds(10)).stdout
        var networks: [(name: String, project: String, subnets: [String])] = []
        let ids = try await runner.run([docker, "network", "ls", "-q"], timeout: .seconds(20)).stdout.split(whereSeparator: \.isNewline).map(String.init)
        if !ids.isEmpty {
            let fmt = #"{{.Name}}|{{index .Labels "com.docker.compose.project"}}|{{.Id}}|{{range .IPAM.Config}}{{.Subnet}} {{end}}"#
            let r = try await runner.run([docker, "network", "inspect", "-f", fmt] + ids, timeout: .seconds(20))
            for line in r.stdout.split(whereSeparator: \.isNewline) {
                let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                guard f.count == 4 else { continue }
                let subnets = f[3].split(separator: " ").map(String.init)
                networks.append((f[0], f[1], subnets))
                networks.append(("br-" + f[2].prefix(12), f[1], []))  // its bridge device on the host
            }
        }
        let ps = try await runner.run([docker, "ps", "-a", "--format", #"{{.Names}}|{{.Label "com.docker.compose.project"}}"#], timeout: .seconds(20))
        let containers = ps.stdout.split(whereSeparator: \.isNewline).compactMap { line -> (name: String, project: String)? in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return f.count == 2 ? (f[0], f[1]) : nil
        }
        let found = Self.conflicts(subnet: config.local.subnet, project: config.project, containerNames: config.services.map(config.container),
                                   routes: routes, networks: networks, containers: containers)
        guard found.isEmpty else {
            throw EnvironmentError.inUse(found.joined(separator: "; ")
                + "; give compose a free subnet (--subnet or FAULTLINE_COMPOSE_SUBNET) and project (FAULTLINE_COMPOSE_PROJECT), or remove what holds them")
        }
    }
}
