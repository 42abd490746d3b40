import ArgumentParser
import Faultline
import FaultlineReports
import Foundation

/// `faultline report html|rto`: renders reports from the files a run left; touches no environment.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render reports from report directories (no environment needed).",
        discussion: "Bad input (no report found, an unknown schema version, a truncated timeline.jsonl) is one line and exit 2.",
        subcommands: [HTML.self, RTO.self]
    )

    /// Prints the input error as one line and exits 2.
    static func fail(_ error: any Error) -> ExitCode {
        printError("faultline: \(error)")
        return ExitCode(ExitStatus.badInput.rawValue)
    }

    struct HTML: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "html",
            abstract: "Re-render <dir>/report.html from its report.json, timeline.jsonl and commands.log.",
            discussion: "Example: faultline report html reports/kill-primary-20261201-153822Z"
        )

        @Argument(help: ArgumentHelp("A run's report directory.", valueName: "dir"))
        var dir: String

        func run() throws {
            do {
                let out = try ReportReader.rerenderHTML(dir: URL(fileURLWithPath: dir, isDirectory: true))
                print(out.path)
            } catch let e as ReportInputError {
                throw ReportCommand.fail(e)
            }
        }
    }

    struct RTO: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rto",
            abstract: "The failover RTO report across runs, from their report.json files.",
            discussion: """
            Per scenario: runs, passed, RTO min/median/p95/max, the median of each recovery step, lost and
            indeterminate writes summed; the HTML adds an RTO histogram and a trend by run date.
            Arguments: report directories, report.json files, or folders searched recursively.

            Examples:
              faultline report rto reports/
              faultline report rto /tmp/bench --format html > rto.html
              faultline report rto /tmp/bench --output /tmp/bench   # writes rto.md, rto.html, rto.json
            """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case markdown, html, json

            /// The file `--output` writes this format to.
            var fileName: String { self == .markdown ? "rto.md" : "rto.\(rawValue)" }

            func render(_ report: RTOReport) throws -> String {
                switch self {
                case .markdown: Render.rtoMarkdown(report)
                case .html: Render.rtoHTML(report)
                case .json: try Render.rtoJSON(report)
                }
            }
        }

        @Argument(help: ArgumentHelp("Report directories or folders holding them.", valueName: "path"))
        var paths: [String]

        @Option(help: "Output on stdout: markdown, html or json.")
        var format: Format = .markdown

        @Option(help: ArgumentHelp("Write rto.md, rto.html and rto.json into this directory instead.", valueName: "dir"))
        var output: String?

        func validate() throws {
            if paths.isEmpty { throw ValidationError("give at least one report directory or folder") }
        }

        func run() throws {
            let report: RTOReport
            do {
                report = RTOReport(try ReportReader.reportFiles(paths).map(ReportReader.report(at:)))
            } catch let e as ReportInputError {
                throw ReportCommand.fail(e)
            }
            if let output {
                let dir = URL(fileURLWithPath: output, isDirectory: true)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for f in Format.allCases {
                    try Data(try f.render(report).utf8).write(to: dir.appendingPathComponent(f.fileName), options: .atomic)
                }
                print(dir.appendingPathComponent(Format.html.fileName).path)
                return
            }
            print(try format.render(report), terminator: "")
        }
    }
}
