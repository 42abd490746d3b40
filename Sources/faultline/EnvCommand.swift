import ArgumentParser
import FaultlineEnvironments
import FaultlineWiring
import Foundation
import Logging

/// `faultline env up | status | down | heal`: the reference environment's lifecycle.
struct EnvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Bring the reference environment up, show it, heal it, or remove it.",
        subcommands: [Up.self, Status.self, Down.self, Heal.self]
    )

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the environment and wait until it is healthy.")
        @OptionGroup var common: EnvOptions
        @Option(help: "Bridge subnet, a private IPv4 /24 (default: FAULTLINE_SUBNET, else \(LocalConfig().subnet)).") var subnet: String?
        @Option(help: "Prefix of the namespaces and links, so a second environment can run beside the first (default: FAULTLINE_NAME_PREFIX, else \(LocalConfig().namePrefix)).") var namePrefix: String?
        @Option(help: "Size of each node's PGDATA filesystem, MiB.") var dataSize: Int = LocalConfig().dataSizeMiB
        @Option(help: "Patroni to run: 'venv' (4.1.x, default), 'debian' (3.0.2, known-bad control) or a path.") var patroni: String = "venv"
        @Option(help: "Patroni DCS API: etcd3 (v3) or etcd (v2).") var dcs: String = LocalConfig().dcsAPI
        @Option(help: "etcd members Patroni talks to: all (default; discovered and shuffled) or local (only its own node's member, as through a local proxy).") var dcsEndpoints: String = LocalConfig().dcsEndpoints
        @Option(help: "Patroni leader-key ttl in seconds (Patroni 4.x raises values under 20 to 20).") var ttl: Int = LocalConfig().ttl
        @Option(help: "Patroni loop_wait in seconds.") var loopWait: Int = LocalConfig().loopWait
        @Option(help: "Patroni retry_timeout in seconds (ttl must be at least loop_wait + 2 × retry_timeout).") var retryTimeout: Int = LocalConfig().retryTimeout
        @Option(help: "Alert profile of Prometheus: ci (short for:, low thresholds), default (shipped thresholds) or off (no exporters, Prometheus, Alertmanager).") var alerts: String = LocalConfig().observability
        @Flag(help: "Print the final status as JSON.") var json = false

        func run() async throws {
            let logger = common.logger()
            var settings = UpSettings()
            settings.subnet = subnet
            settings.namePrefix = namePrefix
            settings.dataSizeMiB = dataSize
            settings.patroni = patroni
            settings.dcsAPI = dcs
            settings.dcsEndpoints = dcsEndpoints
            settings.ttl = ttl
            settings.loopWait = loopWait
            settings.retryTimeout = retryTimeout
            settings.alerts = alerts
            try await common.guarded {
                let driver = try common.driver()
                if !json { print("bringing up the \(driver.name) environment…") }
                let report = try await driver.up(settings)
                if json {
                    try printJSON(report.status)
                } else {
                    print(report.status.table())
                    for p in report.phases { print(String(format: "  %6.2f s  %@", p.at.seconds, p.name)) }
                    print(String(format: "healthy after %.1f s", report.elapsed.seconds))
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Members, roles, timelines, lag, sync state and endpoints.")
        @OptionGroup var common: EnvOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            try await common.guarded {
                let s = try await common.driver().status(withMemory: true)
                if json { try printJSON(s) } else { print(s.table()) }
                if !s.healthy { throw ExitCode(3) }
            }
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop everything and remove namespaces, links, rules, mounts and data.")
        @OptionGroup var common: EnvOptions

        func run() async throws {
            try await common.guarded {
                let driver = try common.driver()
                let left = try await driver.down()
                guard left.isEmpty else {
                    throw EnvironmentError.unhealthy("left behind: \(left.joined(separator: ", "))")
                }
                print("\(driver.name) environment removed; nothing left behind")
            }
        }
    }

    struct Heal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return a damaged environment to healthy without losing data.",
            discussion: "The same heal as `faultline heal`: the faults left in the fault ledger undone newest first, then every process started, every FAULTLINE rule, qdisc and ballast removed, Patroni's maintenance mode off, and a real commit through the read-write endpoint (under strict sync it needs a sync standby).")
        @OptionGroup var common: EnvOptions

        func run() async throws {
            try await common.guarded {
                let driver = try common.driver()
                let log = common.verbose
                _ = try await healEnvironment(driver) { if log { print($0) } }
                print(try await driver.status(withMemory: false).table())
            }
        }
    }
}

/// Options every `env` subcommand takes.
struct EnvOptions: ParsableArguments {
    @OptionGroup var env: EnvironmentOption
    @Option(help: "State directory of the environment (default: FAULTLINE_STATE_DIR, else the driver's own).") var stateDir: String?
    @Flag(name: .shortAndLong, help: "Log every command run.") var verbose = false

    func logger() -> Logger {
        var l = Logger(label: "faultline") { StreamLogHandler.standardError(label: $0) }
        l.logLevel = verbose ? .debug : .warning
        return l
    }

    func driver() throws -> any EnvironmentDriver { try env.driver(stateDir: stateDir, logger: logger()) }

    /// Runs `body`, turning environment errors into a one-line message and their exit code.
    func guarded(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let e as EnvironmentError {
            FileHandle.standardError.write(Data("faultline: \(e.description)\n".utf8))
            throw ExitCode(e.exitCode)
        }
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try e.encode(value), as: UTF8.self))
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
