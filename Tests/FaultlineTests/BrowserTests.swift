import Testing
import Foundation
@testable import Faultline
@testable import FaultlineReports

/// Headless Chromium (Debian's `chromium`, installed by scripts/setup), with every host name unresolvable so that
/// nothing can be fetched.
enum Browser {
    static let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var available: Bool { path != nil }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ args: [String]) throws -> Result {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("fl-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                       "--disable-extensions", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
                       "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0"] + args
        // Output to files, read after it exits (a pipe left unread could fill and block it).
        let outURL = profile.appendingPathExtension("out"), errURL = profile.appendingPathExtension("err")
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let outData = (try? Data(contentsOf: outURL)) ?? Data(), errData = (try? Data(contentsOf: errURL)) ?? Data()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// The page's DOM after load, and the console messages it logged (any is a failure: the page has no script).
    static func load(_ file: URL) throws -> (dom: String, console: [String]) {
        let r = try run(["--dump-dom", file.absoluteString])
        let console = r.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }.map(String.init)
        return (r.stdout, console)
    }

    static func screenshot(_ file: URL, to png: URL, size: String = "1400,2300") throws -> Int {
        _ = try run(["--screenshot=\(png.path)", "--window-size=\(size)", file.absoluteString])
        return (try? FileManager.default.attributesOfItem(atPath: png.path)[.size] as? Int) ?? 0
    }
}

@Suite("report.html in headless Chromium", .enabled(if: Browser.available, "chromium is not installed (scripts/setup installs it): browser tests skipped"),
       .serialized)
struct BrowserTests {
    func temp() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("fl-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// The `<svg …>…</svg>` elements of class `chart` in a DOM dump.
    static func charts(_ dom: String) -> [String] {
        dom.components(separatedBy: "<svg ").dropFirst().filter { $0.hasPrefix("class=\"chart") }.map { $0.components(separatedBy: "</svg>")[0] }
    }

    @Test func theReportLoadsCleanOfflineWithEveryChartDrawn() throws {
        let d = try temp()
        defer { try? FileManager.default.removeItem(at: d) }
        let dir = try ReportWriter.write(htmlFixtureReport(lost: ["w1-7"]), commands: ["kill -9 4242  # n1"], under: d)
        let page = dir.appendingPathComponent("report.html")
        let (dom, console) = try Browser.load(page)
        #expect(console.isEmpty, "console: \(console)")
        #expect(dom.contains("id=\"verdicts\"") && dom.contains("w1-7"), "the browser built the page")
        let charts = Self.charts(dom)
        #expect(charts.count == 4, "throughput, errors, latency, lag: \(charts.count)")
        for c in charts {
            let id = c.components(separatedBy: "id=\"").dropFirst().first?.prefix { $0 != "\"" } ?? "?"
            #expect(c.contains("class=\"series"), "\(id) has a series")
            #expect(c.contains("class=\"band fault-band\""), "\(id) shades the fault")
        }
        #expect(dom.contains("id=\"chart-lane\"") && dom.contains("class=\"step detection\""))
        let png = d.appendingPathComponent("shot.png")
        let size = try Browser.screenshot(page, to: png)
        #expect(size > 60_000, "a drawn page compresses far worse than a blank one: \(size) bytes")
    }

    @Test func theChecksCanFail() throws {
        let d = try temp()
        defer { try? FileManager.default.removeItem(at: d) }
        let bad = d.appendingPathComponent("bad.html")
        try Data("<!DOCTYPE html><html><body><p>x</p><img src=\"https://example.com/x.png\"><script>throw new Error(\"deliberate failure\")</script></body></html>".utf8)
            .write(to: bad)
        let (_, console) = try Browser.load(bad)
        #expect(console.contains { $0.contains("Uncaught Error: deliberate failure") }, "console error seen: \(console)")
        #expect(!HTMLReportTests.externalReferences(try String(contentsOf: bad, encoding: .utf8)).isEmpty)
        let blank = d.appendingPathComponent("blank.html")
        try Data("<!DOCTYPE html><html><body></body></html>".utf8).write(to: blank)
        let size = try Browser.screenshot(blank, to: d.appendingPathComponent("blank.png"))
        #expect(size > 0 && size < 60_000, "a blank page is caught by the size check: \(size) bytes")
        #expect(Self.charts("<svg class=\"lane\"></svg>").isEmpty)
    }

    /// With every host unresolvable, a page that needs the network is missing what it fetched.
    @Test func theNetworkIsReallyCut() throws {
        let d = try temp()
        defer { try? FileManager.default.removeItem(at: d) }
        let page = d.appendingPathComponent("net.html")
        try Data("<!DOCTYPE html><html><body><img id=\"i\" src=\"http://example.com/x.png\" onerror=\"document.body.dataset.net='failed'\" onload=\"document.body.dataset.net='loaded'\"></body></html>".utf8)
            .write(to: page)
        let (dom, _) = try Browser.load(page)
        #expect(dom.contains("data-net=\"failed\""), "the fetch failed: \(dom.prefix(300))")
    }
}
