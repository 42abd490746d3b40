import Faultline
import Foundation
import Logging

/// What clients of an environment connect to, as libpq connection strings (passwords live in the
/// environment's passfile, never in these strings).
public struct Endpoints: Sendable, Equatable {
    /// Writes: the read-write entry point (HAProxy's primary port in `local`).
    public var readWrite: String
    /// Reads: the read-only entry point (the replicas).
    public var readOnly: String
    /// The connection pooler in transaction mode (a server connection per transaction), when the environment has one.
    public var pooler: String?
    /// The same pooler and database in session mode (a server connection per client session: session `SET`,
    /// advisory locks and `LISTEN` work); nil when the environment has none.
    public var poolerSession: String?
    /// Where the load generator serves `/metrics` for the environment's Prometheus; nil when nothing scrapes it.
    public var loadMetricsListen: String?
    /// The demo application's database through the read-write entry point (the `orders` workload); nil: `readWrite`.
    public var application: String?

    public init(readWrite: String, readOnly: String, pooler: String? = nil, loadMetricsListen: String? = nil, application: String? = nil,
                poolerSession: String? = nil) {
        (self.readWrite, self.readOnly, self.pooler, self.loadMetricsListen) = (readWrite, readOnly, pooler, loadMetricsListen)
        self.application = application
        self.poolerSession = poolerSession
    }
}

/// Settings of a bring-up that every Patroni-based driver understands; nil takes the driver's default.
public struct UpSettings: Sendable, Equatable {
    public var subnet: String?
    public var namePrefix: String?
    public var dataSizeMiB: Int?
    /// "venv" (the reference Patroni 4.1.x), "debian" (3.0.2, the known-bad control) or a path.
    public var patroni: String?
    public var dcsAPI: String?
    public var dcsEndpoints: String?
    public var ttl: Int?
    public var loopWait: Int?
    public var retryTimeout: Int?
    /// Alert profile: ci, default or off.
    public var alerts: String?

    public init() {}
}

/// What a bring-up reports.
public struct BringUpReport: Sendable {
    public var elapsed: Duration
    /// When each phase finished, measured from the start of the bring-up.
    public var phases: [(name: String, at: Duration)]
    public var status: ClusterStatus

    public init(elapsed: Duration, phases: [(name: String, at: Duration)], status: ClusterStatus) {
        (self.elapsed, self.phases, self.status) = (elapsed, phases, status)
    }
}

/// One kind of environment (`local`, later `compose`, `kubernetes`): it owns its state directory (where
/// the fault ledger lives too), its endpoints, its bring-up and its teardown, and hands the runner its
/// `Faultline.Environment`. Drivers are found by name in `Drivers.registered`.
public protocol EnvironmentDriver: Sendable {
    /// The name users type after `--environment`.
    var name: String { get }
    /// Where this environment keeps its state, its command log and its fault ledger.
    var stateDir: String { get }
    /// Whether the environment is up (its recorded state exists).
    func isUp() async throws -> Bool
    /// Creates the whole environment and waits until it is healthy; refuses (`EnvironmentError.alreadyUp`)
    /// when it is up. On failure it says which phase failed and leaves nothing behind.
    func up(_ settings: UpSettings) async throws -> BringUpReport
    /// Stops and removes everything; returns what it could not remove (empty: nothing left behind).
    func down() async throws -> [String]
    /// Members, roles, lag and endpoints; throws `EnvironmentError.notUp` when it is not up.
    func status(withMemory: Bool) async throws -> ClusterStatus
    /// The running environment as the runner sees it; throws `EnvironmentError.notUp` when it is not up.
    func runnerEnvironment() throws -> any Faultline.Environment
    /// Where clients connect; throws `EnvironmentError.notUp` when it is not up.
    func endpoints() throws -> Endpoints
}

extension EnvironmentDriver {
    /// The persisted fault ledger's file: with the environment's state, so `faultline heal` finds it from
    /// any working directory, and `env down` removes it with the rest.
    public var faultLedgerURL: URL { URL(fileURLWithPath: stateDir).appendingPathComponent("fault-ledger.json") }
}

/// What a driver is made from: the checkout, the state directory and the logger.
public struct DriverContext: Sendable {
    /// The Faultline checkout (templates under `environments/`); empty when unknown.
    public var home: String
    /// The state directory asked for (`--state-dir`, `FAULTLINE_STATE_DIR`); nil: the driver's default.
    public var stateDir: String?
    /// Environment variables a driver may read (`FAULTLINE_SUBNET`, `FAULTLINE_NAME_PREFIX`, ...).
    public var variables: [String: String]
    public var logger: Logger

    public init(home: String, stateDir: String? = nil, variables: [String: String] = ProcessInfo.processInfo.environment,
                logger: Logger) {
        self.home = home
        self.stateDir = stateDir ?? variables["FAULTLINE_STATE_DIR"]
        self.variables = variables
        self.logger = logger
    }
}

/// A driver as registered: its name, a one-line summary, and how to make it.
public struct DriverEntry: Sendable {
    public var name: String
    public var summary: String
    public var make: @Sendable (DriverContext) -> any EnvironmentDriver

    public init(name: String, summary: String, make: @escaping @Sendable (DriverContext) -> any EnvironmentDriver) {
        self.name = name
        self.summary = summary
        self.make = make
    }
}

/// The registry of environment drivers, by name. A new driver is one folder and one line here.
public enum Drivers {
    public static let registered: [DriverEntry] = [
        LocalDriver.entry,
        ComposeDriver.entry,
    ]

    public static var names: [String] { registered.map(\.name) }

    /// The driver called `name`, or a one-line `InputError` naming the known ones.
    public static func make(_ name: String, _ context: DriverContext) throws(InputError) -> any EnvironmentDriver {
        guard let entry = registered.first(where: { $0.name == name }) else { throw unknown(name) }
        return entry.make(context)
    }

    /// Checks a name without making anything (for argument validation).
    public static func validate(_ name: String) throws(InputError) {
        guard registered.contains(where: { $0.name == name }) else { throw unknown(name) }
    }

    static func unknown(_ name: String) -> InputError {
        InputError("unknown environment '\(name)'; known: \(names.joined(separator: ", ")) (--environment \(names.first ?? "local"))")
    }
}
