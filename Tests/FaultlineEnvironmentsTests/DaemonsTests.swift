import FaultlineEnvironments
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
}
