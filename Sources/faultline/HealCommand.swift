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
        discussion: "Exit codes: 0 healed; 3 the environment could not be healed; 6 the environment is not up."
    )

    @Option(help: ArgumentHelp("Environment driver.", valueName: "name"))
    var environment = "local"

    @Flag(name: .shortAndLong, help: "Log every command run.") var verbose = false

    func run() async throws {
        var logger = Logger(label: "faultline.heal") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .warning
        do {
            let env = try await makeEnvironment(name: environment, logger: logger)
            let ledger = JSONFileFaultLedger(url: faultLedgerURL(for: environment))
            let entries = try await ledger.entries()
            for e in entries {
                print("undoing: \(e.action) -> \(e.reversal)")
                try await env.revert(e.reversal)
            }
            try await env.heal()
            for e in entries { try await ledger.remove(id: e.id) }
            let topo = try await env.topology()
            print("healed (\(entries.count) fault\(entries.count == 1 ? "" : "s") undone): \(topo.summary)")
        } catch let e as EnvironmentError {
            FileHandle.standardError.write(Data("faultline: \(e.description)\n".utf8))
            throw ExitCode(e.exitCode)
        } catch {
            FileHandle.standardError.write(Data("faultline: heal failed: \(describe(error))\n".utf8))
            throw ExitCode(ExitStatus.harnessError.rawValue)
        }
    }
}
