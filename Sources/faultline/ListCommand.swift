import ArgumentParser
import Faultline
import FaultlineEnvironments
import Scenarios

/// `faultline list`: the scenario catalogue with descriptions and tags.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the scenarios compiled into faultline, with their tags.",
        discussion: "Run one with `faultline run <name>`; see its plan first with `faultline run <name> --dry-run`."
    )

    @Option(help: ArgumentHelp("Only scenarios with this tag (repeat to require several).", valueName: "tag"))
    var tag: [String] = []

    @Flag(help: "List the fault primitives instead: how each is injected and healed, and the scenarios using it.")
    var faults = false

    func run() async throws {
        if faults {
            print(ListCommand.renderFaults(Catalogue.all), terminator: "")
            return
        }
        let wanted = Set(tag.map(Tag.init(rawValue:)))
        let scenarios = Catalogue.all.filter { wanted.isSubset(of: Set($0.tags)) }
        if scenarios.isEmpty {
            printError("faultline: no scenario has tag(s) \(tag.joined(separator: ", "))")
            throw ExitCode(2)
        }
        print(ListCommand.render(scenarios), terminator: "")
    }

    /// The fault kinds: kind, what it does, example, how the local environment injects and heals it,
    /// which scenarios use it.
    static func renderFaults(_ scenarios: [Scenario]) -> String {
        var out = ""
        for k in FaultKindInfo.all {
            let users = scenarios.filter { $0.injectedFaults.contains { $0.kind == k.kind } }.map(\.name)
            let local = LocalFaultCatalogue.entry(k.kind)
            out += "\(k.kind.rawValue)\n    what:     \(k.summary)\n    e.g.      \(k.example)\n"
            out += "    injects:  \(local.injects)\n    heals:    \(local.heals)\n"
            out += "    scenarios: " + (users.isEmpty ? "(none)" : users.joined(separator: ", ")) + "\n"
        }
        return out
    }

    /// The catalogue as aligned text: name, tags, then the summary indented below.
    static func render(_ scenarios: [Scenario]) -> String {
        let width = max(4, scenarios.map(\.name.count).max() ?? 0)
        var out = ""
        for s in scenarios {
            let tags = s.tags.map(\.rawValue).joined(separator: ", ")
            out += s.name.padding(width) + "  [\(tags)]\n"
            out += String(repeating: " ", count: width + 2) + s.summary + "\n"
        }
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

/// One line on standard error.
func printError(_ line: String) {
    var e = StandardError()
    print(line, to: &e)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileDescriptorWriter.write(string, fd: 2)
    }
}
