import ArgumentParser
import Faultline
import FaultlineEnvironments
import FaultlineReports
import FaultlineWiring
import Foundation
import Logging

/// `faultline heal`: after a crash of the harness, undoes every fault in the persisted fault ledger,
/// then heals the environment and clears the ledger.
struct HealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heal",
        abstract: "Undo every fault left in the fault ledger (after a crash of faultline) and heal the environment.",
        discussion: "Undoes the ledger's faults newest first, then the full heal (as `faultline env heal`): every process running, every FAULTLINE rule, qdisc and ballast gone, maintenance mode off, and a real commit through the read-write endpoint. Exit codes: 0 healed; 2 unknown environment; 3 the environment could not be healed; 6 the environment is not up."
    )

    @OptionGroup var env: EnvironmentOption

    @Flag(name: .shortAndLong, help: "Log every command run.") var verbose = false

    func run() async throws {
        var logger = Logger(label: "faultline.heal") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .warning
        do {
            let driver = try env.driver(logger: logger)
            let (report, topology) = try await healEnvironment(driver) { print($0) }
            let n = report.undone.count
            print("healed (\(n) fault\(n == 1 ? "" : "s") undone): \(topology.summary)")
        } catch let e as EnvironmentError {
            FileHandle.standardError.write(Data("faultline: \(e.description)\n".utf8))
            throw ExitCode(e.exitCode)
        } catch let e as ValidationError {
            throw e
        } catch {
            FileHandle.standardError.write(Data("faultline: heal failed: \(describe(error))\n".utf8))
            throw ExitCode(ExitStatus.harnessError.rawValue)
        }
    }
}
