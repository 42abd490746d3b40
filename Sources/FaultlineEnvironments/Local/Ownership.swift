import Faultline
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Written at the end of a successful `env up` as `<stateDir>/owner.json` (removed by `env down` with the rest of
/// the state dir): proof that Faultline brought this environment up, so faults may touch it (`BlastRadius.owned`).
public struct OwnershipStamp: Codable, Sendable, Equatable {
    /// Always "faultline": a stamp some other tool left is no stamp.
    public var tool: String
    /// Who brought it up: the user name (or uid) and the host.
    public var createdBy: String
    public var host: String
    /// ISO 8601, UTC.
    public var createdAt: String
    /// The environment it stamps: a stamp copied from another state dir or subnet does not count.
    public var stateDir: String
    public var subnet: String

    public init(createdBy: String, host: String, createdAt: String, stateDir: String, subnet: String) {
        self.tool = "faultline"
        (self.createdBy, self.host, self.createdAt, self.stateDir, self.subnet) = (createdBy, host, createdAt, stateDir, subnet)
    }

    public static func path(_ config: LocalConfig) -> String { "\(config.stateDir)/owner.json" }

    /// The stamp for `config`, now, by the current user on this host.
    public static func now(_ config: LocalConfig) -> OwnershipStamp {
        let user = ProcessInfo.processInfo.environment["SUDO_USER"].map { "\($0) (via sudo)" }
            ?? getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(geteuid())"
        let at = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime])
        return OwnershipStamp(createdBy: user, host: ProcessInfo.processInfo.hostName, createdAt: at,
                              stateDir: config.stateDir, subnet: config.subnet)
    }

    /// Why `data` (the stamp file's bytes, nil when absent) does not show that Faultline brought up `config`'s
    /// environment; nil when it does.
    public static func problem(_ data: Data?, for config: LocalConfig) -> String? {
        let path = Self.path(config)
        guard let data else { return "no ownership stamp \(path): `faultline env up` did not bring it up, or did not finish" }
        guard let s = try? JSONDecoder().decode(OwnershipStamp.self, from: data) else { return "\(path) is not a Faultline ownership stamp" }
        if s.tool != "faultline" { return "\(path) was written by \(s.tool), not Faultline" }
        if s.stateDir != config.stateDir { return "\(path) stamps another state dir (\(s.stateDir))" }
        if s.subnet != config.subnet { return "\(path) stamps another subnet (\(s.subnet), this config has \(config.subnet))" }
        return nil
    }
}

extension LocalConfig {
    /// What a fault may name here: the nodes it creates, and "pooler" (PgBouncer's pool, `holdSessions`' pseudo-member).
    /// Every other fault (`stopDCS` included) names nodes.
    public var faultMembers: Set<String> { Set(nodeNames + ["pooler"]) }

    /// The blast radius, given what the ownership stamp showed (`OwnershipStamp.problem`).
    public func blastRadius(ownershipProblem: String?) -> BlastRadius {
        BlastRadius(owned: ownershipProblem == nil, ownership: ownershipProblem ?? "stamped by faultline env up",
                    members: faultMembers, subnet: subnet)
    }
}

extension LocalEnvironment {
    /// Writes the ownership stamp (the last step of a successful bring-up).
    func writeOwnershipStamp() throws {
        try JSONEncoder.pretty.encode(OwnershipStamp.now(config)).write(to: URL(fileURLWithPath: OwnershipStamp.path(config)))
    }

    /// Each mounted data volume's free share (free blocks over all blocks); a node whose volume is not mounted is left out.
    func dataVolumesFree() -> [String: Double] {
        var out: [String: Double] = [:]
        for n in config.nodeNames where Self.isMountPoint(config.dataMount(n)) {
            if let u = volumeUsage(n), let f = u.freeShare { out[n] = f }
        }
        return out
    }
}

extension LocalEnvironment.VolumeUsage {
    /// 0.05 = 5 % free; nil for a volume of no size.
    public var freeShare: Double? { totalBytes > 0 ? Double(max(0, totalBytes - usedBytes)) / Double(totalBytes) : nil }
}

extension LocalRunnerEnvironment {
    /// The nodes this environment creates plus the pooler, its subnet, and whether `owner.json` says Faultline
    /// brought it up.
    public func blastRadius() async -> BlastRadius? {
        let data = FileManager.default.contents(atPath: OwnershipStamp.path(local.config))
        return local.config.blastRadius(ownershipProblem: OwnershipStamp.problem(data, for: local.config))
    }

    /// Each node's free share of its data volume (statvfs on the mounted tmpfs fill-disk fills).
    public func diskFree() async throws -> [String: Double] {
        let free = local.dataVolumesFree()
        guard !free.isEmpty else { throw ReadingUnsupported("the data volumes' free space (none is mounted)") }
        return free
    }
}
