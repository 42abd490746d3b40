import FaultlineEnvironments
import Logging
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `Daemons.isAlive`, which decides whether a recorded pid may be signalled.
@Suite struct DaemonsTests {
    @Test func aChildProcessIsAliveUntilItIsReaped() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sleep")
        p.arguments = ["10"]
        try p.run()
        #expect(Daemons.isAlive(p.processIdentifier))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(!Daemons.isAlive(p.processIdentifier))
    }

    /// A thread's id (a recorded pid reused as one) is not a daemon: signalling it would kill its whole process.
    @Test func aThreadOfThisProcessAndThisProcessAreNeverAlive() throws {
        #expect(!Daemons.isAlive(getpid()))
        // The test process runs several threads; each has an id of its own under /proc/self/task.
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { Int32($0) }
        let thread = try #require(tasks.first { $0 != getpid() }, "a thread besides the main one: \(tasks)")
        #expect(FileManager.default.fileExists(atPath: "/proc/\(thread)/stat"), "a thread id has a /proc entry")
        #expect(!Daemons.isAlive(thread))
    }

    /// A pid file whose start time is not the process's names another process that took the pid: not running, and
    /// `stop` leaves that process alone. The launch shell's bare pid (no start time yet) still counts.
    @Test func aPidTakenByAnotherProcessIsNotTheDaemon() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("daemons-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let daemons = Daemons(runner: CommandRunner(logger: .init(label: "test")), pidDir: dir, logDir: dir)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sleep")
        p.arguments = ["30"]
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        let pid = p.processIdentifier
        let start = try #require(Daemons.startTime(pid))

        try "\(pid)\n".write(to: daemons.pidFile("d"), atomically: true, encoding: .utf8)
        #expect(daemons.isRunning("d") && daemons.livePid("d") == pid)
        try "\(pid) \(start)\n".write(to: daemons.pidFile("d"), atomically: true, encoding: .utf8)
        #expect(daemons.livePid("d") == pid)
        try "\(pid) \(start + 1)\n".write(to: daemons.pidFile("d"), atomically: true, encoding: .utf8)
        #expect(daemons.pid("d") == pid && !daemons.isRunning("d") && daemons.livePid("d") == nil)
        await daemons.stop("d", grace: .milliseconds(100))
        #expect(Daemons.isAlive(pid), "the other process was not signalled")
        #expect(daemons.pid("d") == nil, "the stale pid file is gone")
    }

    /// `start` records the daemon's start time beside its pid; `stop` ends it.
    @Test func startRecordsTheStartTimeAndStopEndsTheDaemon() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("daemons-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let daemons = Daemons(runner: CommandRunner(logger: .init(label: "test")), pidDir: dir, logDir: dir)
        let pid = try await daemons.start(DaemonSpec(name: "sleeper", argv: ["/bin/sleep", "30"]))
        let text = try String(contentsOf: daemons.pidFile("sleeper"), encoding: .utf8)
        #expect(text == "\(pid) \(Daemons.startTime(pid) ?? 0)\n", "\(text)")
        #expect(daemons.livePid("sleeper") == pid)
        await daemons.stop("sleeper", grace: .seconds(2))
        #expect(!Daemons.isAlive(pid) && !daemons.isRunning("sleeper"))
    }
}
