import ArgumentParser
import Faultline
import FaultlineEnvironments
import FaultlineLoad
import FaultlineReports
import FaultlineWiring
import Foundation

/// `faultline queries report`: find, fix and measure the slowest queries of the demo application (docs/query-optimization.md).
struct QueriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queries",
        abstract: "Rank the application's slowest queries (pg_stat_statements), fix them and measure the gain.",
        subcommands: [Report.self]
    )

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a slow-query workload, rank it, EXPLAIN and fix the top queries (indexes by migration, rewrites), run it again.",
            discussion: """
                Brings the orders application to revision \(LocalEnvironment.queryBaseRevision) (seeding --orders orders when it holds fewer), runs the
                workload, ranks pg_stat_statements, runs EXPLAIN (ANALYZE, BUFFERS) with the workload's representative parameters,
                costs each proposed index with HypoPG, applies the migrations that build the worthwhile ones (scripts/migrate),
                adopts rewrites (keyset pagination), runs the same workload again and writes report.md and report.json.
                Exit codes: 0 done; 2 bad input (an unknown workload, pg_stat_statements not loaded); 3 the environment or a
                migration failed; 6 the environment is not up.
                Example: faultline queries report --workload orders-slow --seconds 30
                """)
        @OptionGroup var common: EnvOptions
        @Option(help: ArgumentHelp("The workload: \(SlowQueryWorkload.names.joined(separator: ", ")).")) var workload = "orders-slow"
        @Option(help: "Orders the table must hold (seeded once when it holds fewer).") var orders = 1_000_000
        @Option(help: "Reading clients.") var readers = 4
        @Option(help: "Writing clients (inserts and status updates).") var writers = 1
        @Option(help: "Seconds of each workload run (before and after), 1-600.") var seconds: Double = 30
        @Option(help: ArgumentHelp("Directory for the report (default: reports/queries-<time>).", valueName: "dir")) var output: String?

        func validate() throws {
            guard (1...600).contains(seconds) else { throw ValidationError("--seconds \(seconds): expected 1 to 600") }
            guard (1...64).contains(readers) else { throw ValidationError("--readers \(readers): expected 1 to 64") }
            guard (0...64).contains(writers) else { throw ValidationError("--writers \(writers): expected 0 to 64") }
            guard orders >= 1000 else { throw ValidationError("--orders \(orders): expected at least 1000") }
        }

        func run() async throws {
            let session: QueriesReportSession
            do {
                session = try QueriesReportSession(workload: workload, orders: orders, readers: readers, writers: writers, seconds: seconds,
                                                   command: (["faultline"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
                                                   commit: gitCommit())
            } catch {
                printError("faultline: queries report: \(error)")
                throw ExitCode(ExitStatus.badInput.rawValue)
            }
            try await queriesGuarded(common) {
                let env = try queryEnvironment(common)
                do { try await session.preflight(env) } catch let e as QueriesInputError {
                    printError("faultline: queries report: \(e)")
                    throw ExitCode(ExitStatus.badInput.rawValue)
                }
                let report = try await session.run(env) { line in printError("queries: \(line)") }
                let stamp = Date().formatted(.iso8601).filter { $0.isNumber || $0 == "T" }
                let dir = URL(fileURLWithPath: output ?? "\(defaultReportsFolder)/queries-\(stamp)Z", isDirectory: true)
                for path in try QueryReportMarkdown.write(report, to: dir) { print(path) }
            }
        }
    }
}

/// The environment the report works on, as the local code sees it: local's own, or, on compose, the local code on the
/// compose address plan (`ComposeEnvironment.shared`): the report's SQL, migrations and workloads all run from the host
/// through the network to HAProxy and the leader, so nothing of it needs a namespace or a container.
func queryEnvironment(_ common: EnvOptions) throws -> LocalEnvironment {
    let driver = try common.driver()
    if let compose = driver as? ComposeDriver {
        guard let env = compose.existing() else { throw EnvironmentError.notUp(driver.name) }
        return env.shared
    }
    return try localEnvironment(common)
}

/// `EnvOptions.guarded`, plus any other failure (a migration, the database) as one line and exit 3.
func queriesGuarded(_ common: EnvOptions, _ body: () async throws -> Void) async throws {
    try await common.guarded {
        do { try await body() } catch let e as EnvironmentError { throw e } catch let e as ExitCode { throw e } catch {
            printError("faultline: queries report: \(describe(error))")
            throw ExitCode(ExitStatus.harnessError.rawValue)
        }
    }
}

/// The checkout's short commit, for the report (nil outside a git checkout).
func gitCommit() -> String? {
    guard let home = try? FaultlineHome.locate() else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    p.arguments = ["-C", home, "rev-parse", "--short", "HEAD"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return p.terminationStatus == 0 && !s.isEmpty ? s : nil
}
