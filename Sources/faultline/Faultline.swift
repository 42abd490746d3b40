import ArgumentParser
import Foundation

struct FaultlineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faultline",
        abstract: "Chaos and reliability experiments against a real PostgreSQL HA cluster.",
        discussion: "Exit codes: 0 passed; 1 a target failed; 2 bad input; 3 harness or environment error; "
            + "4 a requirement is missing (run scripts/setup); 5 not root; 6 the environment is already up / not up; "
            + "7 aborted by a safety limit.",
        subcommands: [EnvCommand.self, RunCommand.self, SuiteCommand.self, GameDayCommand.self, ListCommand.self, HealCommand.self,
                      LoadCommand.self, ReportCommand.self, BackupCommand.self, BenchCommand.self, QueriesCommand.self]
    )
}

/// Entry point: ArgumentParser's usage errors (its exit 64) become the project's "bad input", exit 2.
@main
enum Main {
    static func main() async {
        do {
            var command = try FaultlineCommand.parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            if FaultlineCommand.exitCode(for: error).rawValue == 64 {
                let message = FaultlineCommand.message(for: error)
                FileHandle.standardError.write(Data("faultline: \(message.split(separator: "\n").first ?? "bad input")\n".utf8))
                exit(2)
            }
            FaultlineCommand.exit(withError: error)
        }
    }
}
