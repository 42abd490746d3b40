import Foundation
import Faultline

/// The one place that writes a suite's own files into `<reports>/<suite-id>/`: summary.json, summary.md, summary.html and
/// junit.xml (each run writes its own folder below it, through `ReportWriter`).
public enum SuiteReportWriter {
    public static let files = ["summary.json", "summary.md", "summary.html", "junit.xml"]

    /// Writes every file (atomically, so a summary rewritten after each run is always whole) and returns the directory.
    @discardableResult
    public static func write(_ suite: SuiteResult, reports: [Int: RunReport], to dir: URL) throws -> URL {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let texts = [try Render.suiteJSON(suite), Render.suiteMarkdown(suite), Render.suiteHTML(suite), Render.suiteJUnit(suite, reports: reports)]
        for (name, text) in zip(files, texts) {
            try Data(text.utf8).write(to: dir.appendingPathComponent(name), options: .atomic)
        }
        return dir
    }
}
