import ArgumentParser

// Placeholder until the owning change lands.
struct HealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "heal", abstract: "(not built yet)")
    func run() async throws { throw ExitCode(3) }
}
