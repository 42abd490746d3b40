import ArgumentParser
import Faultline
import FaultlineConcurrency
import FaultlineEnvironments
import FaultlineLoad
import FaultlinePG
import FaultlineWiring
import Foundation
import Logging
import Synchronization

/// `faultline load`: runs the load generator on its own and writes the ledger and timeline files.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Generate PostgreSQL load: ledger writes, replica reads, pgbench TPC-B or custom SQL.",
        discussion: """
        Every client has its own connection; --jobs threads (default: one per CPU core) serve them, each waiting for its clients in one poll, like pgbench -j. A lost connection is reopened with bounded backoff; every statement has a client-side deadline, so nothing hangs. With --connect per-transaction every client (or a share of them: per-transaction:25%) opens a new connection for each transaction and closes it afterwards, like pgbench -C: latency then includes the connect, and a refused connect fails that transaction only.

        Closed loop (--mode closed) runs each client flat out. Open loop (--mode open --rate R) starts requests at fixed intended times and measures latency from the intended start: no coordinated omission, like wrk2 or pgbench -R.

        Outcome of each request: ok, connection_refused, too_many_connections (53300: no free slot), client_backoff (not sent: still in reconnect backoff), connection_lost, read_only (25006), admin_shutdown (57P0x), timeout, other_sqlstate, or indeterminate (COMMIT sent, no answer). A ledger write is acknowledged only when its COMMIT returned OK.

        Defaults target the running local cluster (faultline env up): writes go to HAProxy read-write (port 5000 on the client namespace's address, 10.77.0.1 by default), reads to read-only (port 5001). Passwords are masked in all output. File formats: docs/load.md.

        Exit codes: 0 done; 1 could not start, or --verify found missing writes; 2 bad input.

        --protocol simple|extended|prepared sends the statements as pgbench -M does (default simple).

        Examples:
          faultline load --conninfo 'host=10.77.0.1 port=6432 dbname=faultline user=faultline' --duration 30s --out /tmp/run1 --verify
          faultline load --workload ledger --workload reads --mode open --rate 500 --clients 8 --duration 2m
          faultline load --workload tpcb --conninfo 'host=127.0.0.1 port=5432 dbname=bench' --clients 4 --duration 30 --protocol prepared
          faultline load --mode open --rate 100 --connect per-transaction:50% --duration 1m
        """
    )

    @OptionGroup var env: EnvironmentOption

    /// The chosen environment's endpoints when it is up, else the local environment's defaults.
    var defaultEndpoints: Endpoints {
        if let e = try? env.driver(logger: Logger(label: "faultline.load")).endpoints() { return e }
        let c = LocalConfig()
        return Endpoints(readWrite: c.readWrite, readOnly: c.readOnly, pooler: c.pooler)
    }

    @Option(name: .customLong("workload"), help: ArgumentHelp(
        "Workload to run; repeat for several: ledger, reads, tpcb, custom, orders, session. (default: ledger)", valueName: "kind"))
    var workloads: [String] = []

    @Option(help: ArgumentHelp("libpq connection string for every workload (keywords or URI); per-workload options override it.", valueName: "conninfo"))
    var conninfo: String?

    @Option(help: ArgumentHelp("Connection string for ledger writes. (default: HAProxy read-write, port 5000)", valueName: "conninfo"))
    var ledgerConninfo: String?

    @Option(help: ArgumentHelp("Connection string for replica reads. (default: HAProxy read-only, port 5001)", valueName: "conninfo"))
    var readsConninfo: String?

    @Option(help: ArgumentHelp("Connection string for TPC-B (needs tables from pgbench -i). (default: HAProxy read-write)", valueName: "conninfo"))
    var tpcbConninfo: String?

    @Option(help: ArgumentHelp("Connection string for custom SQL. (default: HAProxy read-write)", valueName: "conninfo"))
    var customConninfo: String?

    @Option(name: .customLong("app-version"), help: ArgumentHelp("The orders workload's application version: v1 (orders.note), v2 (the view orders_v2), v3 (orders.comment).", valueName: "version"))
    var appVersion: String?

    @Option(name: .customLong("protocol"), help: ArgumentHelp("How statements are sent, as pgbench -M: simple (the SQL text with its values written in), extended (parameters, parsed every time) or prepared (prepared once per connection). Prepared statements do not survive PgBouncer in transaction mode (docs/load.md).", valueName: "protocol"))
    var queryProtocol: String = "simple"

    @Option(help: ArgumentHelp("closed (max throughput) or open (fixed --rate, latency from the intended start).", valueName: "mode"))
    var mode: String = "closed"

    @Option(help: ArgumentHelp("Open loop only: requests per second per workload, 0.1...100000, spread over its clients.", valueName: "per-second"))
    var rate: String?

    @Option(help: ArgumentHelp("Open loop only: uniform (evenly spaced) or poisson (exponential gaps, like pgbench -R).", valueName: "kind"))
    var arrival: String = "uniform"

    @Option(help: ArgumentHelp("Clients (connections) per workload, 1...256.", valueName: "n"))
    var clients: String = "4"

    @Option(help: ArgumentHelp("Threads serving all clients, each waiting for its clients in one poll, like pgbench -j; 1...256, at most one per client. (default: one per CPU core)", valueName: "n"))
    var jobs: String?

    @Option(help: ArgumentHelp("persistent (keep one connection a client), per-transaction (a new connection for every transaction, like pgbench -C), or per-transaction:SHARE for that share of the clients (25% or 0.25).", valueName: "policy"))
    var connect: String = "persistent"

    @Option(help: ArgumentHelp("How long to run: 30, 30s, 500ms, 2m, 1h; 0.1 s...4 h.", valueName: "duration"))
    var duration: String = "10s"

    @Option(help: ArgumentHelp("Directory for ledger.jsonl, indeterminate.jsonl, timeline.jsonl and summary.json.", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("SQL file for the custom workload, sent as one request (simple protocol).", valueName: "file"))
    var sqlFile: String?

    @Option(help: ArgumentHelp("Bound on each connection attempt, 0.1...120 s.", valueName: "duration"))
    var connectTimeout: String = "3s"

    @Option(help: ArgumentHelp("Client-side deadline per statement, 0.1...120 s.", valueName: "duration"))
    var statementTimeout: String = "5s"

    @Option(name: .customLong("run-id"), help: ArgumentHelp("Tag for this run's ledger rows (letters, digits, - and _). (default: random)", valueName: "id"))
    var runID: String?

    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp("Serve Prometheus metrics on http://HOST:PORT/metrics while running (the environment's Prometheus scrapes <subnet>.254:9464).", valueName: "host:port"))
    var metricsListen: String?

    @Flag(help: "After the run, read every acknowledged ledger id back through the ledger connection; exit 1 if any is missing.")
    var verify = false

    @Flag(name: .customLong("no-progress"), help: "No live progress line (it is shown only when stderr is a terminal anyway).")
    var noProgress = false

    @Option(help: ArgumentHelp("Log level on stderr: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "warning"

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var unrecognized: [String] = []

    /// Bad input: one line on stderr, exit 2.
    struct InputError: Error { var message: String }

    func run() async throws {
        let config: LoadConfig
        let limit: Duration
        do {
            (config, limit) = try makeConfig()
        } catch {
            Self.fail(error.message, code: 2)
        }
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            Self.fail("unknown --log-level '\(logLevel)'; use trace, debug, info, notice, warning or error", code: 2)
        }
        var logger = Logger(label: "faultline.load") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level

        let generator: LoadGenerator
        do { generator = try LoadGenerator(config: config, logger: logger) } catch { Self.fail(error.message, code: 2) }

        // First SIGINT/SIGTERM: stop the load and write the results. Second: exit at once (130).
        let interrupts = Signals.interrupts()
        let showProgress = !noProgress && isatty(STDERR_FILENO) == 1

        let observations: LoadObservations
        do {
            observations = try await withThrowingTaskGroup(of: LoadObservations?.self) { group in
                group.addTask { try await generator.run(until: .after(limit)) }
                group.addTask {
                    for await signal in interrupts {
                        if signal.count > 1 { Foundation.exit(130) }
                        FileHandle.standardError.write(Data("\nstopping (Ctrl-C again to quit now)\n".utf8))
                        generator.stop()
                    }
                    return nil
                }
                if showProgress {
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .milliseconds(250))
                            let line = generator.snapshot().progressLine
                            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
                        }
                        FileHandle.standardError.write(Data("\n".utf8))
                        return nil
                    }
                }
                var result: LoadObservations?
                for try await r in group where r != nil {
                    result = r
                    group.cancelAll()
                }
                return result!
            }
        } catch let e as LoadError {
            if case .invalidConfig(let c) = e { Self.fail(c.message, code: 2) }
            Self.fail(e.description, code: 1)
        }

        var paths: [URL] = []
        if let out {
            do {
                paths = try LoadExport.write(observations, to: URL(fileURLWithPath: out), config: describe(config, limit: limit))
            } catch {
                Self.fail("cannot write results to \(out): \(error)", code: 1)
            }
        }
        print(Self.report(observations, config: config))
        if !paths.isEmpty { print("files: " + paths.map(\.path).joined(separator: " ")) }

        if verify, let ledger = config.workloads.first(where: { $0.kind == .ledger }) {
            do {
                let missing = try await LoadGenerator.verifyLedger(observations, conninfo: ledger.conninfo)
                if missing.isEmpty {
                    print("verify: all \(observations.acked.count) acknowledged writes are present (\(ConnInfo.masked(ledger.conninfo)))")
                } else {
                    print("verify: \(missing.count) acknowledged writes are MISSING, first: \(missing.prefix(10).joined(separator: " "))")
                    throw ExitCode(1)
                }
            } catch let e as PGError {
                Self.fail("verify: cannot read the ledger back: \(e)", code: 1)
            }
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("faultline load: error: \(message)\n".utf8))
        Foundation.exit(code)
    }

    // MARK: - Input

    func makeConfig() throws(InputError) -> (LoadConfig, Duration) {
        if let first = unrecognized.first {
            throw InputError(message: "unexpected argument '\(first)'; see faultline load --help for the options")
        }
        var kinds: [WorkloadKind] = []
        for name in workloads.isEmpty ? ["ledger"] : workloads {
            guard let k = WorkloadKind(rawValue: name.lowercased()) else {
                throw InputError(message: "unknown workload '\(name)'; use ledger, reads, tpcb, custom, orders or session")
            }
            guard !kinds.contains(k) else { throw InputError(message: "workload '\(name)' given twice; give each workload once") }
            kinds.append(k)
        }
        guard let n = Int(clients), LoadLimits.clients.contains(n) else {
            throw InputError(message: "--clients '\(clients)' is not a whole number in 1...256; for example --clients 8")
        }
        let proto: QueryProtocol
        do { proto = try QueryProtocol.parse(queryProtocol) } catch { throw InputError(message: "--protocol: \(error.message)") }
        let connectPolicy: ConnectionPolicy
        do { connectPolicy = try ConnectionPolicy.parse(connect) } catch {
            throw InputError(message: "--connect: \(error.message)")
        }
        guard let limit = parseDuration(duration), LoadLimits.duration.contains(limit) else {
            throw InputError(message: "--duration '\(duration)' is not a duration in 0.1s...4h; for example --duration 30s or --duration 2m")
        }
        let loadMode: LoadMode
        switch mode.lowercased() {
        case "closed":
            guard rate == nil else { throw InputError(message: "--rate applies to --mode open only; drop --rate or add --mode open") }
            loadMode = .closed
        case "open":
            guard let text = rate else { throw InputError(message: "--mode open needs --rate (requests per second per workload), for example --rate 500") }
            guard let r = Double(text), r.isFinite, LoadLimits.rate.contains(r) else {
                throw InputError(message: "--rate '\(text)' is not a number in 0.1...100000 requests per second")
            }
            guard let a = Arrival(rawValue: arrival.lowercased()) else {
                throw InputError(message: "--arrival '\(arrival)' is unknown; use uniform or poisson")
            }
            loadMode = .open(rate: r, arrival: a)
        default:
            throw InputError(message: "--mode '\(mode)' is unknown; use closed or open")
        }
        var sql: String?
        if let sqlFile {
            guard kinds.contains(.custom) else { throw InputError(message: "--sql-file is for the custom workload; add --workload custom") }
            do { sql = try String(contentsOfFile: sqlFile, encoding: .utf8) } catch {
                throw InputError(message: "cannot read --sql-file '\(sqlFile)'; check the path and permissions")
            }
        } else if kinds.contains(.custom) {
            throw InputError(message: "the custom workload needs --sql-file FILE")
        }
        if let out {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), !isDir.boolValue {
                throw InputError(message: "--out '\(out)' is a file; give a directory (it is created if missing)")
            }
        }
        let perKind: [WorkloadKind: String?] = [.ledger: ledgerConninfo, .reads: readsConninfo, .tpcb: tpcbConninfo, .custom: customConninfo]
        for (k, c) in perKind where c != nil && !kinds.contains(k) {
            throw InputError(message: "--\(k.rawValue)-conninfo given but the \(k.rawValue) workload is not selected; add --workload \(k.rawValue)")
        }
        var version = AppVersion.v1
        if let appVersion {
            guard kinds.contains(.orders) else { throw InputError(message: "--app-version is for the orders workload; add --workload orders") }
            do { version = try AppVersion.parse(appVersion) } catch { throw InputError(message: "--app-version: \(error.message)") }
        }
        let defaults = defaultEndpoints
        let wcs = kinds.map { k in
            let c = (perKind[k] ?? nil) ?? conninfo ?? (k == .reads ? defaults.readOnly : defaults.readWrite)
            return WorkloadConfig(kind: k, conninfo: c, clients: n, mode: loadMode, sql: k == .custom ? sql : nil, connect: connectPolicy,
                                  appVersion: version, queryProtocol: proto)
        }
        var config = LoadConfig(workloads: wcs, runID: runID)
        for (flag, text) in [("--connect-timeout", connectTimeout), ("--statement-timeout", statementTimeout)] {
            guard let d = parseDuration(text), LoadLimits.timeout.contains(d) else {
                throw InputError(message: "\(flag) '\(text)' is not a duration in 0.1s...120s; for example \(flag) 3s")
            }
            if flag == "--connect-timeout" { config.connectTimeout = d } else { config.statementTimeout = d }
        }
        if let jobs {
            guard let j = Int(jobs), LoadLimits.jobs.contains(j) else {
                throw InputError(message: "--jobs '\(jobs)' is not a number in \(LoadLimits.jobs.lowerBound)...\(LoadLimits.jobs.upperBound); for example --jobs 2")
            }
            config.jobs = j
        }
        config.maxDuration = limit
        config.metricsListen = metricsListen
        do { try config.validate() } catch { throw InputError(message: error.message) }
        return (config, limit)
    }

    func describe(_ c: LoadConfig, limit: Duration) -> [String: String] {
        var d: [String: String] = [
            "mode": mode, "clients": clients, "duration": "\(limit)", "connectTimeout": "\(c.connectTimeout)",
            "statementTimeout": "\(c.statementTimeout)", "runID": c.runID, "connect": connect,
            "protocol": c.workloads.first?.queryProtocol.rawValue ?? QueryProtocol.simple.rawValue,
            "jobs": "\(c.effectiveJobs)",
        ]
        if let rate { d["rate"] = rate; d["arrival"] = arrival }
        for w in c.workloads { d["conninfo.\(w.name)"] = ConnInfo.masked(w.conninfo) }
        if let sqlFile { d["sqlFile"] = sqlFile }
        return d
    }

    // MARK: - Output

    static func report(_ obs: LoadObservations, config: LoadConfig) -> String {
        let seconds = max(obs.loadSeconds ?? 0, 1e-9)
        func ms(_ us: Int?) -> String { us.map { String(format: "%.2f", Double($0) / 1000) } ?? "-" }
        var lines = [String(format: "run %@  duration %.1f s", obs.runID ?? config.runID, seconds)]
        let header = ["workload", "ok", "ok/s", "errors", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms"]
        var rows: [[String]] = []
        for w in config.workloads {
            let t = obs.totals[w.name] ?? WorkloadTotals()
            let l = obs.latency[w.name]
            rows.append([w.name, "\(t.ok)", String(format: "%.1f", Double(t.ok) / seconds), "\(t.errorCount)",
                         ms(l?.p50Us), ms(l?.p95Us), ms(l?.p99Us), ms(l?.p999Us), ms(l?.maxUs)])
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func fmt(_ r: [String]) -> String {
            r.enumerated().map { i, s in i == 0 ? s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[i] - s.count) + s }.joined(separator: "  ")
        }
        lines.append(fmt(header))
        lines += rows.map(fmt)
        for w in config.workloads {
            let t = obs.totals[w.name] ?? WorkloadTotals()
            if t.errorCount > 0 {
                var e = "\(w.name) errors: " + t.errors.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
                if !t.otherSQLStates.isEmpty {
                    e += " (sqlstates: " + t.otherSQLStates.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
                }
                lines.append(e)
            }
        }
        for (v, t) in (obs.versions ?? [:]).sorted(by: { $0.key < $1.key }) {
            var e = "orders \(v): \(t.ok) ok, \(t.errorCount) errors"
            if !t.otherSQLStates.isEmpty {
                e += " (sqlstates: " + t.otherSQLStates.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
            }
            lines.append(e)
        }
        if config.workloads.contains(where: { $0.kind == .ledger }) {
            lines.append("ledger: \(obs.acked.count) acknowledged, \(obs.indeterminate.count) indeterminate (run id \(config.runID))")
        }
        lines += obs.notes.map { "note: \($0)" }
        return lines.joined(separator: "\n")
    }
}
