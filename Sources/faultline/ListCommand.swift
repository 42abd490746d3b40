import ArgumentParser

// Placeholder until the owning change lands.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "(not built yet)")
    func run() async throws { throw ExitCode(3) }
}
