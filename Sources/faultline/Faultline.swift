import ArgumentParser

@main
struct FaultlineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faultline",
        abstract: "Chaos and reliability experiments against a real PostgreSQL HA cluster.",
        subcommands: [EnvCommand.self, LoadCommand.self, ListCommand.self, RunCommand.self, HealCommand.self]
    )
}
