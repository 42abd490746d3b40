import Faultline
import FaultlineEnvironments
import FaultlineReports
import FaultlineWiring
import Foundation
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every integration test nests under this suite, so they run one at a time against the one real
/// local environment (they share namespaces, ports and the state directory).
@Suite(.serialized) enum Integration {}

extension Trait where Self == ConditionTrait {
    /// A second variant of a capability that another CI test already covers (CI keeps `.ci/run` under 45 minutes):
    /// it runs only with `FAULTLINE_NIGHTLY=1 scripts/test`, the nightly job's test run (docs/suite.md).
    static var nightlyOnly: Self {
        .enabled(if: ProcessInfo.processInfo.environment["FAULTLINE_NIGHTLY"] == "1",
                 "a nightly-only variant: set FAULTLINE_NIGHTLY=1 to run it")
    }
}

/// The real local environment for integration tests, brought up once and healed between tests.
///
/// Configured by environment variables with defaults: `FAULTLINE_STATE_DIR` (state directory),
/// `FAULTLINE_SUBNET` (bridge subnet), `FAULTLINE_NAME_PREFIX` (namespace prefix).
struct ClusterFixture: Sendable {
    let env: LocalEnvironment

    var rw: String { env.config.readWrite }
    var ro: String { env.config.readOnly }
    var pooler: String { env.config.pooler }
    func direct(_ node: String, user: String = "faultline", dbname: String = "faultline") -> String {
        env.config.direct(node, user: user, dbname: dbname)
    }

    static var logger: Logger {
        var l = Logger(label: "faultline.tests") { StreamLogHandler.standardError(label: $0) }
        l.logLevel = ProcessInfo.processInfo.environment["FAULTLINE_TEST_VERBOSE"] != nil ? .debug : .warning
        return l
    }

    /// The repository root, from this file's path.
    static let home: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The configuration tests use.
    static var config: LocalConfig {
        var c = LocalConfig()
        let e = ProcessInfo.processInfo.environment
        c.home = home
        c.patroni = "\(home)/.venv/bin/patroni"
        if let d = e["FAULTLINE_STATE_DIR"] { c.stateDir = d }
        if let s = e["FAULTLINE_SUBNET"] { c.subnet = s }
        if let p = e["FAULTLINE_NAME_PREFIX"] { c.namePrefix = p }
        return c
    }

    /// What a `faultline` process the tests start needs to reach the tests' environment: the checkout, the state
    /// directory, the subnet and the name prefix.
    static var cliVariables: [String: String] {
        let c = config
        return ["FAULTLINE_HOME": home, "FAULTLINE_STATE_DIR": c.stateDir, "FAULTLINE_SUBNET": c.subnet,
                "FAULTLINE_NAME_PREFIX": c.namePrefix]
    }

    /// The local driver over the tests' state directory, as `faultline --environment local` makes it.
    static var driver: LocalDriver {
        LocalDriver(DriverContext(home: home, stateDir: config.stateDir, logger: logger))
    }

    /// The environment's persisted fault ledger (the real file ledger: a crashed test's faults stay in it for
    /// the next `ensureUp` to undo).
    var ledger: JSONFileFaultLedger { JSONFileFaultLedger(url: Self.driver.faultLedgerURL) }

    /// A healthy environment: the existing one healed (the one heal: ledger faults undone newest first, then the
    /// full heal, as `faultline heal` does), or a new one brought up.
    static func ensureUp() async throws -> ClusterFixture {
        let driver = Self.driver
        if let env = driver.existing() {
            do {
                _ = try await healEnvironment(driver) { logger.info("fixture heal: \($0)") }
                return ClusterFixture(env: env)
            } catch {
                // A test that failed may leave a cluster heal cannot mend; the next tests get a new one
                // instead of failing on the same wreck (the failed test has already said what broke).
                logger.warning("environment did not heal (\(error)); rebuilding it for the next tests")
                _ = try await driver.down()
                // A fault ledger the wreck left behind is moot once every process and rule is gone.
                try? FileManager.default.removeItem(at: driver.faultLedgerURL)
            }
        }
        // `up` retries a failed attempt itself, after tearing it down.
        _ = try await driver.up(UpSettings())
        guard let env = driver.existing() else { throw EnvironmentError.notUp("local") }
        return ClusterFixture(env: env)
    }

    /// One run of catalogue scenario `name` through the one run path (`RunSession`, as `faultline run`), on this
    /// environment, with the real fault ledger. Reports go under `reports` when given, else under
    /// `FAULTLINE_TEST_REPORTS` when that is set.
    func run(_ name: String, overrides: [String], abort: [String] = [], targets: [String] = [], tag: String,
             reports: URL? = nil) async throws -> RunSession.Outcome {
        #expect(try await ledger.entries().isEmpty, "a clean fault ledger before the run")
        let root = reports ?? ProcessInfo.processInfo.environment["FAULTLINE_TEST_REPORTS"].map { URL(fileURLWithPath: $0) }
        let session = try RunSession.prepare(scenario: name, overrides: overrides, abort: abort, targets: targets, environment: "local",
                                             stateDir: env.config.stateDir, reports: root,
                                             runId: "\(name)-\(tag)-\(UInt32.random(in: 0...UInt32.max))", logger: Self.logger)
        let started = ContinuousClock.now
        let outcome = try await session.run()
        let r = outcome.report
        print("\(name) (\(overrides.joined(separator: " "))): \(r.status) in \(started.duration(to: .now)); "
              + r.verdicts.map { "\($0.id)=\($0.result.status.rawValue)\($0.result.measured.map { " \($0)" } ?? "")" }.joined(separator: ", ")
              + (outcome.reportDir.map { "; reports \($0.path)" } ?? ""))
        #expect(outcome.reportError == nil, "\(outcome.reportError ?? "")")
        return outcome
    }

    /// The current primary's node name.
    func primaryName() async throws -> String {
        guard let l = await env.leaderName() else { throw EnvironmentError.unhealthy("no leader") }
        return l
    }

    /// Immediate stop of `node`'s PostgreSQL (SIGQUIT to the postmaster, as `pg_ctl stop -m immediate`).
    /// Patroni restarts it or fails over.
    func stopPostgres(node: String) async throws {
        try env.signalPostgres(node, SIGQUIT)
    }
}
