import Faultline
import FaultlineEnvironments
import FaultlineReports
import FaultlineWiring
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

extension Integration {
    /// `faultline suite` end to end: the built binary runs two short scenarios on the real local environment, healed
    /// between them; then its one JUnit file, its summary and the environment after it. And its bad input, which needs
    /// no environment: each one line, exit 2, nothing written.
    @Suite(.serialized) struct SuiteIntegrationTests {
        /// `faultline args...` with the tests' state directory, its output captured, bounded in time.
        static func faultline(_ args: [String], within limit: Duration) async throws -> (status: Int32, out: String, err: String) {
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-suite-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            let outURL = tmp.appendingPathComponent("out.log"), errURL = tmp.appendingPathComponent("err.log")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try ScenarioIntegrationTests.faultlineBinary())
            p.arguments = args
            p.environment = ProcessInfo.processInfo.environment.merging(ClusterFixture.cliVariables) { $1 }
            FileManager.default.createFile(atPath: outURL.path, contents: nil)
            FileManager.default.createFile(atPath: errURL.path, contents: nil)
            p.standardOutput = try FileHandle(forWritingTo: outURL)
            p.standardError = try FileHandle(forWritingTo: errURL)
            try p.run()
            try await ScenarioIntegrationTests.wait(p, within: limit)
            return (p.terminationStatus, (try? String(contentsOf: outURL, encoding: .utf8)) ?? "", (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
        }

        @Test func twoShortScenariosGiveOneJUnitFileAndASummaryAndLeaveTheClusterHealed() async throws {
            let fx = try await ClusterFixture.ensureUp()
            #expect(try await fx.ledger.entries().isEmpty, "a clean fault ledger before the suite")
            let reports = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-it-suite-\(UInt32.random(in: 0...UInt32.max))")
            let r = try await Self.faultline(["suite", "switchover", "kill-postgres", "--keep-going", "--set", "steady=5s",
                                              "--reports", reports.path], within: .minutes(8))
            print("faultline suite: exit \(r.status)\n\(r.out)\n\(r.err)")

            let dirs = try FileManager.default.contentsOfDirectory(atPath: reports.path)
            let suiteDir = reports.appendingPathComponent(try #require(dirs.first, "the suite's folder"))
            #expect(dirs.count == 1)
            for name in SuiteReportWriter.files {
                #expect(FileManager.default.fileExists(atPath: suiteDir.appendingPathComponent(name).path), "\(name) written")
            }

            let summary = try Render.decodeSuite(String(contentsOf: suiteDir.appendingPathComponent("summary.json"), encoding: .utf8))
            #expect(summary.runs.map(\.scenario) == ["switchover", "kill-postgres"])
            #expect(summary.runs.allSatisfy { $0.ran && $0.reportDir != nil }, "\(summary.runs.map { "\($0.status) \($0.error ?? "")" })")
            #expect(summary.runs.allSatisfy { ["passed", "skipped", "target-failed", "aborted", "harness-error", "timed-out"].contains($0.status) })
            #expect(r.status == summary.exitCode, "the exit code is the worst run's")
            #expect(summary.exitCode == Faultline.ExitStatus.worst(summary.runs.compactMap(\.exitStatus)).rawValue)
            #expect(summary.exitCode == 0, "both short scenarios pass: \(summary.runs.map(\.status))")
            #expect(summary.scenarios.count == 2 && summary.scenarios.allSatisfy { $0.runs == 1 && !$0.flaky })
            for run in summary.runs {
                let dir = URL(fileURLWithPath: try #require(run.reportDir))
                #expect(dir.deletingLastPathComponent().standardizedFileURL == suiteDir.standardizedFileURL, "each run's folder under the suite's")
                #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report.json").path))
            }

            let junit = try XMLDocument(contentsOf: suiteDir.appendingPathComponent("junit.xml"))
            let suites = try junit.nodes(forXPath: "/testsuites/testsuite") as! [XMLElement]
            #expect(suites.count == 2)
            for (s, run) in zip(suites, summary.runs) {
                #expect(s.attribute(forName: "name")?.stringValue == run.scenario)
                #expect(s.elements(forName: "testcase").count == run.verdicts.values.reduce(0, +) && !s.elements(forName: "testcase").isEmpty)
            }
            #expect(r.err.contains("[1/2] switchover") && r.err.contains("[2/2] kill-postgres"), "progress lines: \(r.err)")

            // The environment after it: healthy, nothing left in the fault ledger.
            #expect(try await fx.ledger.entries().isEmpty, "an empty fault ledger after the suite")
            let topology = try await LocalRunnerEnvironment(fx.env).topology()
            #expect(topology.health(against: ClusterShape(members: 3, sync: 1)).isEmpty, "\(topology.summary)")
        }

        /// Bad input: one line on stderr, exit 2, nothing run or written (no environment needed).
        @Test func badInputIsRefusedWithOneLineAndWritesNothing() async throws {
            let reports = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-suite-bad-\(UInt32.random(in: 0...UInt32.max))")
            let badFile = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-suite-\(UInt32.random(in: 0...UInt32.max)).json")
            try Data(#"{"scenarios": ["switchover", {"name": "kill-postgres", "repeat": "2"}]}"#.utf8).write(to: badFile)
            defer { try? FileManager.default.removeItem(at: badFile) }
            let cases: [([String], String)] = [
                (["--tag", "nope"], "unknown tag 'nope' (known:"),
                ([], "nothing selected"),
                (["switchover", "--repeat", "0"], "--repeat 0"),
                (["switchover", "--budget", "10s"], "below the minimum of one run of switchover"),
                (["switchover", "--scenario-timeout", "10s"], "scenario timeout 10s is below the minimum"),
                (["nope"], "unknown scenario 'nope'"),
                (["switchover", "--set", "steady=abc"], "--set steady='abc'"),
                (["switchover", "--abort", "foo>1"], "--abort 'foo>1'"),
                (["--file", badFile.path], "field 'scenarios[1].repeat'"),
            ]
            for (args, why) in cases {
                let r = try await Self.faultline(["suite"] + args + ["--reports", reports.path], within: .seconds(30))
                #expect(r.status == 2, "\(args): exit \(r.status): \(r.err)")
                #expect(r.err.split(separator: "\n").count == 1 && r.err.contains(why), "\(args): \(r.err)")
            }
            #expect(!FileManager.default.fileExists(atPath: reports.path), "nothing written")
            let dry = try await Self.faultline(["suite", "switchover", "kill-postgres", "--repeat", "2", "--dry-run", "--reports", reports.path],
                                               within: .seconds(30))
            #expect(dry.status == 0 && dry.out.contains("[4/4] kill-postgres (run 2 of 2)") && dry.out.contains("estimated minimum wall time"))
            #expect(!FileManager.default.fileExists(atPath: reports.path), "a dry run writes nothing")
        }
    }
}
