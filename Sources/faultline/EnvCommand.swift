import ArgumentParser

// Placeholder until the owning change lands.
struct EnvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "env", abstract: "(not built yet)")
    func run() async throws { throw ExitCode(3) }
}
