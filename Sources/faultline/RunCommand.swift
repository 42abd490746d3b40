import ArgumentParser

// Placeholder until the owning change lands.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "(not built yet)")
    func run() async throws { throw ExitCode(3) }
}
