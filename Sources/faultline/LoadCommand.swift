import ArgumentParser

// Placeholder until the owning change lands.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "(not built yet)")
    func run() async throws { throw ExitCode(3) }
}
