import Faultline
import FaultlineEnvironments
import FaultlineReports
import FaultlineWiring
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Integration {
    /// `faultline gameday` through a real pseudo-terminal: tmux runs the built binary, the test types at it
    /// (`send-keys`) and reads the screen (`capture-pane`). A note typed mid-run lands in gameday.md at its time,
    /// and `a` aborts: the run heals at once and exits 7, leaving a healthy cluster and an empty fault ledger.
    @Suite(.serialized) struct GameDayIntegrationTests {
        struct Failure: Error, CustomStringConvertible { var description: String }

        /// Runs `tmux args...` through `system(3)` and returns its standard output (through a file). Not Foundation's
        /// `Process`: the tmux server that `new-session` forks keeps inherited descriptors open (a pipe never ends) and
        /// a `Process` whose child exited was once never reaped here; `system` waits for its shell and nothing else.
        @discardableResult
        static func tmux(_ args: [String]) throws -> String {
            let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-tmux-\(UInt32.random(in: 0...UInt32.max))").path
            defer { try? FileManager.default.removeItem(atPath: outPath) }
            let command = (["tmux"] + args).map(quoted).joined(separator: " ") + " </dev/null >\(quoted(outPath)) 2>/dev/null"
            let status = system(command)
            guard status == 0 else { throw Failure(description: "tmux \(args) exited \(status)") }
            return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        }

        /// Polls the pane until `predicate` holds on its text, for at most `limit`.
        static func waitForScreen(_ session: String, _ what: String, within limit: Duration,
                                  _ predicate: (String) -> Bool) async throws -> String {
            let deadline = ContinuousClock.now + limit
            var last = ""
            while ContinuousClock.now < deadline {
                last = (try? tmux(["capture-pane", "-p", "-t", session])) ?? last
                if predicate(last) { return last }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw Failure(description: "the screen never showed \(what) within \(limit); last screen:\n\(last)")
        }

        static func waitForScreen(_ session: String, containing text: String, within limit: Duration = .seconds(60)) async throws -> String {
            try await waitForScreen(session, "'\(text)'", within: limit) { $0.contains(text) }
        }

        static func occurrences(_ text: String, in screen: String) -> Int { screen.components(separatedBy: text).count - 1 }

        static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

        @Test func aNoteTypedMidRunLandsAtItsTimeAndAbortHeals() async throws {
            let fx = try await ClusterFixture.ensureUp()
            #expect(try await fx.ledger.entries().isEmpty, "a clean fault ledger before the game day")
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-gameday-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            let exitFile = tmp.appendingPathComponent("exit")
            let session = "faultline-gameday-\(UInt32.random(in: 0...UInt32.max))"
            let env = ClusterFixture.cliVariables.sorted { $0.key < $1.key }.map { Self.quoted("\($0.key)=\($0.value)") }.joined(separator: " ")
            let binary = try ScenarioIntegrationTests.faultlineBinary()
            let command = "env \(env) \(Self.quoted(binary)) gameday kill-primary --set steady=5s --reports \(Self.quoted(tmp.path)) "
                + "--participants 'Ana,Ben'; echo EXIT=$? > \(Self.quoted(exitFile.path)); sleep 600"
            try Self.tmux(["new-session", "-d", "-s", session, "-x", "200", "-y", "50", command])
            defer { _ = try? Self.tmux(["kill-session", "-t", session]) }
            func keys(_ k: String...) throws { try Self.tmux(["send-keys", "-t", session] + k) }
            func type(_ text: String) throws { try Self.tmux(["send-keys", "-t", session, "-l", text]) }

            // Before: the defaults accepted with Enter.
            _ = try await Self.waitForScreen(session, containing: "Add a hypothesis")
            try keys("Enter")
            // During: the gate before the Inject (after the 5 s steady state), then the fault goes in.
            _ = try await Self.waitForScreen(session, containing: "NEXT 1. inject", within: .seconds(90))
            try keys("Enter")
            // The next gate (the Expect after the Inject): the fault is in.
            _ = try await Self.waitForScreen(session, containing: "NEXT 2.", within: .seconds(60))
            let note = "primary gone, clients see errors"
            try keys("n")
            _ = try await Self.waitForScreen(session, containing: "note> ")
            try type(note)
            try keys("Enter")
            _ = try await Self.waitForScreen(session, containing: "note: \(note)")
            try keys("a")
            // After: a finding, an action item, then empty answers.
            _ = try await Self.waitForScreen(session, containing: "Finding (Enter: done):", within: .seconds(240))
            try type("the alert fired late")
            try keys("Enter")
            // Findings go on until an empty answer.
            _ = try await Self.waitForScreen(session, "a second finding prompt", within: .seconds(30)) {
                Self.occurrences("Finding (Enter: done):", in: $0) >= 2
            }
            try keys("Enter")
            _ = try await Self.waitForScreen(session, containing: "Action item")
            try type("Ana: fix alert")
            try keys("Enter")
            _ = try await Self.waitForScreen(session, "a second action-item prompt", within: .seconds(30)) {
                Self.occurrences("Action item", in: $0) >= 2
            }
            try keys("Enter")
            let deadline = ContinuousClock.now + .seconds(60)
            while !FileManager.default.fileExists(atPath: exitFile.path) {
                guard ContinuousClock.now < deadline else {
                    throw Failure(description: "faultline gameday did not exit: \((try? Self.tmux(["capture-pane", "-p", "-t", session])) ?? "")")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            let exit = try String(contentsOf: exitFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(exit == "EXIT=7", "\(exit)")

            // The reports: the run's and the game day's, side by side.
            let runDirs = try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix("kill-primary-") }
            let dir = tmp.appendingPathComponent(try #require(runDirs.first, "no run directory in \(tmp.path)"))
            let report = try Render.decode(try String(contentsOf: dir.appendingPathComponent("report.json"), encoding: .utf8))
            #expect(report.status == "aborted")
            #expect(report.exitCode == 7)
            let events = report.observations.events
            let injected = try #require(events.first { $0.kind == .faultInjected }?.atMs)
            let aborted = try #require(events.first { $0.kind == .aborted })
            #expect(aborted.detail == "aborted by the facilitator")
            let noted = try #require(events.first { $0.kind == .note && $0.detail == note }, "\(events)")
            #expect(injected < noted.atMs && noted.atMs < aborted.atMs, "note at \(noted.atMs), injected \(injected), aborted \(aborted.atMs)")
            let md = try String(contentsOf: dir.appendingPathComponent("gameday.md"), encoding: .utf8)
            #expect(md.contains("| \(DurationText.human(ms: noted.atMs)) | +\(DurationText.human(ms: noted.atMs - injected)) | **note** |  | \(note) |"), "\(md)")
            #expect(md.contains("- participants: Ana, Ben"))
            #expect(md.contains("- the alert fired late"))
            #expect(md.contains("| Ana | fix alert |"))
            #expect(md.hasPrefix("# Game day: kill-primary: ABORTED (exit 7)"))
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("gameday.html").path))
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report.md").path))

            // Abort healed: nothing left in the ledger, the cluster healthy.
            #expect(try await fx.ledger.entries().isEmpty, "the fault ledger after the abort")
            let status = await fx.env.status(withReplication: true)
            #expect(status.healthy, "\(status.problems)")
        }
    }
}
