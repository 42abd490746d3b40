import ArgumentParser
import Faultline
import FaultlineConcurrency
import FaultlineLoad
import FaultlineReports
import FaultlineWiring
import Foundation
import Logging

/// `faultline bench pooler`: direct against PgBouncer in transaction and session mode, side by side.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Side-by-side benchmarks against the running environment.",
        subcommands: [Pooler.self]
    )

    struct Pooler: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pooler",
            abstract: "The same workloads direct (HAProxy read-write) and through PgBouncer in transaction and session mode.",
            discussion: """
            Every cell (workload × clients × persistent or per-transaction connections × route) runs for --duration in \
            closed loop, after an unmeasured --warmup of the same load, once a round; each round runs the cells in the opposite order of the one before, and every figure \
            is the median over the rounds. Per cell: TPS, latency p50/p95/p99, connect latency, errors with \
            too-many-connections apart, and the server connections used (client backends on the primary that came through HAProxy, \
            sampled every 100 ms). Between cells PgBouncer's server connections are closed (RECONNECT), so the \
            direct cells find max_connections' slots free. The headline is each cell's ratio to the direct cell beside it.

            Writes pooler.md, pooler.json and pooler.svg to --out (default: reports/pooler-<time>).
            Exit codes: 0 done; 1 a workload could not start; 2 bad input (nothing run); 3 harness error.

            Examples:
              faultline bench pooler                                   # ledger, 8 and 150 clients, 3 rounds of 3 s cells
              faultline bench pooler --workload ledger --workload session --clients 8,150 --rounds 5 --duration 5s
            """
        )

        @OptionGroup var env: EnvironmentOption

        @Option(name: .customLong("workload"), help: ArgumentHelp(
            "Workload; repeat for several: \(PoolerBenchSession.workloadNames.joined(separator: ", ")). (default: ledger)", valueName: "kind"))
        var workloads: [String] = []

        @Option(help: ArgumentHelp("Client counts, comma-separated, 1...256 each: a low one and one above max_connections (100 in local).", valueName: "n,n"))
        var clients = "8,150"

        @Option(help: ArgumentHelp("Rounds, 1...20; the order alternates between rounds.", valueName: "n"))
        var rounds = "3"

        @Option(help: ArgumentHelp("Each cell's load: 3s, 500ms, 1m; 0.5 s...5 m.", valueName: "duration"))
        var duration = "3s"

        @Option(help: ArgumentHelp("Before each cell, the same load unmeasured for this long (PgBouncer's pool filled again after the drain); 0s...1m, 0 (the default): none.", valueName: "duration"))
        var warmup = "0s"

        @Option(name: .customLong("statement-timeout"), help: ArgumentHelp("Client-side deadline per statement, 0.1...120 s: a client waiting longer for a server connection counts a timeout.", valueName: "duration"))
        var statementTimeout = "2s"

        @Option(help: ArgumentHelp("Directory for pooler.md, pooler.json and pooler.svg.", valueName: "dir"))
        var out: String?

        @Option(help: ArgumentHelp("Log level on stderr: trace, debug, info, notice, warning, error.", valueName: "level"))
        var logLevel = "warning"

        /// The plan and the statement timeout, or one line of bad input.
        func settings() throws -> (PoolerBenchPlan, Duration) {
            let counts = clients.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--clients '\(clients)' is not a comma-separated list of whole numbers; for example --clients 8,150")
            }
            guard let n = Int(rounds) else { throw ValidationError("--rounds '\(rounds)' is not a whole number; for example --rounds 3") }
            guard let d = parseDuration(duration) else { throw ValidationError("--duration '\(duration)' is not a duration; for example --duration 3s") }
            guard let w = parseDuration(warmup) else { throw ValidationError("--warmup '\(warmup)' is not a duration; for example --warmup 1s") }
            guard let st = parseDuration(statementTimeout), LoadLimits.timeout.contains(st) else {
                throw ValidationError("--statement-timeout '\(statementTimeout)' is not a duration in 0.1s...120s; for example --statement-timeout 2s")
            }
            let s = PoolerBenchSettings(workloads: workloads.isEmpty ? ["ledger"] : workloads.map { $0.lowercased() }, clients: counts.map { $0! },
                                        rounds: n, cellMs: Self.ms(d), warmupMs: Self.ms(w))
            let plan: PoolerBenchPlan
            do throws(InputError) { plan = try PoolerBenchPlan(s, knownWorkloads: PoolerBenchSession.workloadNames) } catch {
                throw ValidationError(error.message)
            }
            return (plan, st)
        }

        func run() async throws {
            let level = try parseLogLevel(logLevel)
            let (plan, timeout) = try settings()
            var logger = Logger(label: "faultline.bench") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = level
            let driver = try env.driver(logger: logger)
            let targets: PoolerBenchSession.Targets
            do { targets = try await PoolerBenchSession.targets(driver) } catch {
                printError("faultline: \(error.message)")
                throw ExitCode(ExitStatus.badInput.rawValue)
            }
            let started = Date()
            let dir = URL(fileURLWithPath: out ?? "\(defaultReportsFolder)/pooler-\(Self.stamp(started))", isDirectory: true)
            var session = PoolerBenchSession(plan: plan, targets: targets, logger: logger)
            session.statementTimeout = timeout
            let facts = await session.serverFacts()
            print("pooler bench: \(plan.cells.count) cells × \(plan.settings.rounds) rounds × \(duration) (about \(plan.totalLoadMs / 1000 + plan.schedule.count * 5) s with warm-ups and set-up)")
            let stop = StopRequest()
            let outcome = await untilDone({ [session] in
                try await session.run(stop: stop) { i, total, cell, r in
                    let m = PoolerCellMedians([r])
                    print(String(format: "[%d/%d] round %d  %@: %.0f TPS, p99 %@ ms, too many conns %d, other errors %d, server conns %@",
                                 i, total, r.round + 1, cell.description, r.tps, m.p99Ms.map { String(format: "%.1f", $0) } ?? "-",
                                 r.tooManyConnections, r.otherErrors, r.serverConnectionsPeak.map(String.init) ?? "-"))
                    fflush(nil)  // a line per cell, also into a file or a pipe
                }
            }, onInterrupt: { stop.request() })
            let runs: [PoolerCell: [PoolerCellRun]]
            switch outcome {
            case .success(let r): runs = r
            case .failure(let e as LoadError):
                printError("faultline: \(e.description)")
                throw ExitCode(1)
            case .failure(let e):
                printError("faultline: \(e)")
                throw ExitCode(ExitStatus.harnessError.rawValue)
            }
            if !runs.isEmpty, runs.values.allSatisfy({ $0.allSatisfy { $0.failure != nil } }) {
                printError("faultline: no cell could start: \(runs.values.first?.first?.failure ?? "")")
                throw ExitCode(1)
            }
            let command = (["faultline", "bench", "pooler"] + CommandLine.arguments.dropFirst(3)).joined(separator: " ")
            let result = PoolerBenchResult(settings: plan.settings, command: command, startedAt: EpochTime.iso(milliseconds: started.timeIntervalSince1970 * 1000),
                                           commit: Self.commit(), maxConnections: facts.maxConnections,
                                           notes: facts.notes + (stop.isRequested ? ["stopped early by Ctrl-C: some cells have fewer rounds"] : []),
                                           cells: PoolerBenchResult.summarize(plan, runs: runs))
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for (name, content) in try PoolerBenchReport.files(result) {
                    try content.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
                }
            } catch {
                printError("faultline: cannot write the bench to \(dir.path): \(error)")
                throw ExitCode(ExitStatus.harnessError.rawValue)
            }
            print("")
            print(PoolerBenchReport.markdown(result))
            print("files: \(dir.path)/pooler.md pooler.json pooler.svg")
        }

        static func ms(_ d: Duration) -> Int { Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000) }

        static func stamp(_ d: Date) -> String {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyyMMdd-HHmmss"
            return f.string(from: d) + "Z"
        }

        /// The checkout's commit (short), when it is a git checkout.
        static func commit() -> String? {
            guard let home = try? FaultlineHome.locate() else { return nil }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            p.arguments = ["-C", home, "rev-parse", "--short", "HEAD"]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { return nil }
            p.waitUntilExit()
            let s = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return p.terminationStatus == 0 && !s.isEmpty ? s : nil
        }
    }
}
