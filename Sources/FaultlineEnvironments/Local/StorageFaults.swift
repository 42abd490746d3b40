import Faultline
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Disk faults of the local environment: ballast files on a node's data volume (a size-limited tmpfs,
/// so "full" is real ENOSPC for PostgreSQL). `heal()` removes `faultline-ballast*` too.
extension LocalEnvironment {
    public struct VolumeUsage: Sendable, Equatable {
        public var totalBytes: Int
        public var usedBytes: Int
        public var percent: Double { totalBytes == 0 ? 0 : Double(usedBytes) * 100 / Double(totalBytes) }
    }

    public func volumeUsage(_ node: String) -> VolumeUsage? { Self.volumeUsage(at: config.dataMount(node)) }

    /// The usage of the filesystem at `dir` (statvfs); nil when it cannot be read.
    public static func volumeUsage(at dir: String) -> VolumeUsage? {
        var st = statvfs()
        guard statvfs(dir, &st) == 0 else { return nil }
        let f = Int(st.f_frsize)
        return VolumeUsage(totalBytes: Int(st.f_blocks) * f, usedBytes: Int(st.f_blocks - st.f_bfree) * f)
    }

    /// Writes ballast until the volume is `percent` % used (100: until ENOSPC). Returns the bytes written.
    @discardableResult
    public func fillDisk(_ node: String, percent: Int) throws -> Int {
        try Self.fillDisk(at: config.dataMount(node), percent: percent, label: node, log: runner.commandLog)
    }

    /// Writes ballast (`faultline-ballast-<percent>`) into the filesystem at `dir` until it is `percent` % used (100:
    /// until ENOSPC). Returns the bytes written. Shared by every environment whose data volume the host can reach.
    @discardableResult
    public static func fillDisk(at dir: String, percent: Int, label node: String, log: CommandLog?) throws -> Int {
        guard let u = volumeUsage(at: dir) else { throw EnvironmentError.unhealthy("no data volume for \(node)") }
        let want = percent >= 100 ? Int.max : max(0, u.totalBytes * percent / 100 - u.usedBytes)
        guard want > 0 else { return 0 }
        let path = "\(dir)/faultline-ballast-\(percent)"
        log?.append("fill \(path) with \(percent >= 100 ? "zeros until ENOSPC" : "\(want) bytes")  # \(node) data volume to \(percent) %")
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw EnvironmentError.unhealthy("cannot create \(path): errno \(errno)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        var written = 0
        var size = chunk.count
        while written < want {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, min(size, want - written)) }
            if n > 0 { written += n; continue }
            if errno == EINTR { continue }
            if errno == ENOSPC, size > 4096 { size = 4096; continue }  // top the last megabyte up page by page
            break
        }
        return written
    }

    /// Deletes every ballast file on the node's data volume. Idempotent.
    public func removeBallast(_ node: String) { Self.removeBallast(at: config.dataMount(node), log: runner.commandLog) }

    /// Deletes every `faultline-ballast*` file in `dir`. Idempotent.
    public static func removeBallast(at dir: String, log: CommandLog?) {
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where f.hasPrefix("faultline-ballast") {
            log?.append("rm \(dir)/\(f)")
            try? FileManager.default.removeItem(atPath: "\(dir)/\(f)")
        }
    }
}
