import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Teardown: `down()`, and what of the environment is left on the machine.
extension LocalEnvironment {
    // MARK: down

    /// Stops everything and removes namespaces, links, rules, mounts and data. Safe to run twice.
    public func down() async throws {
        guard geteuid() == 0 else { throw EnvironmentError.notRoot }
        let existing = try await netnsList()
        // Patroni first (it would restart PostgreSQL), then everything left in our namespaces.
        for n in config.nodeNames { await daemons.stop("\(n)-patroni", signal: SIGKILL, grace: .seconds(2)) }
        for ns in config.allNetns where existing.contains(ns) {
            for pid in try await pidsIn(ns) { kill(pid, SIGKILL) }
        }
        for ns in config.allNetns where existing.contains(ns) {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, !(try await pidsIn(ns)).allSatisfy({ !Daemons.isAlive($0) }) {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        // Until nothing is mounted there (a mount someone stacked on the node's).
        for n in config.nodeNames {
            for _ in 0..<5 where Self.isMountPoint(config.dataMount(n)) {
                let r = try await runner.run(["/usr/bin/umount", config.dataMount(n)], check: false)
                if !r.succeeded { try await runner.run(["/usr/bin/umount", "-l", config.dataMount(n)]) }
            }
        }
        for ns in config.allNetns where existing.contains(ns) {
            try await runner.run(["/usr/sbin/ip", "netns", "del", ns])
        }
        try await runner.run(["/usr/sbin/ip", "link", "del", config.hostLink], check: false)
        if FileManager.default.fileExists(atPath: config.stateDir) {
            try FileManager.default.removeItem(atPath: config.stateDir)
        }
    }

    /// What of the environment is still on the machine (namespaces, mounts, processes, state); empty when clean.
    public func leftovers() async throws -> [String] {
        var left: [String] = []
        let ns = try await netnsList()
        left += config.allNetns.filter(ns.contains).map { "netns \($0)" }
        left += config.nodeNames.map(config.dataMount).filter(Self.isMountPoint).map { "mount \($0)" }
        if FileManager.default.fileExists(atPath: config.stateDir) { left.append("state dir \(config.stateDir)") }
        let link = try await runner.run(["/usr/sbin/ip", "link", "show", config.hostLink], check: false)
        if link.succeeded { left.append("link \(config.hostLink)") }
        for spec in allSpecs where daemons.isRunning(spec.name) { left.append("process \(spec.name)") }
        return left
    }

    public static func isMountPoint(_ path: String) -> Bool {
        // Read to the end: `String(contentsOfFile:)` stops after one read, about 4 KiB of a /proc file, so with a
        // docker engine's mounts in the table a mount further down was missed and `down` left it mounted.
        guard let h = FileHandle(forReadingAtPath: "/proc/self/mounts") else { return false }
        defer { try? h.close() }
        let m = String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
        return m.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
    }
}
