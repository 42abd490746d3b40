import Foundation
import Testing
@testable import FaultlineEnvironments

/// The observability configuration the local environment renders: values, files, processes.
@Suite struct ObservabilityConfigTests {
    static let home = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let source = "\(home)/environments/shared/observability"

    func config(_ mutate: (inout LocalConfig) -> Void = { _ in }) -> LocalConfig {
        var c = LocalConfig()
        c.home = Self.home
        c.subnet = "10.82.0.0/24"
        c.namePrefix = "fb"
        c.stateDir = "/var/lib/faultline/fb"
        mutate(&c)
        return c
    }

    func file(_ name: String) throws -> String { try String(contentsOfFile: "\(Self.source)/\(name)", encoding: .utf8) }

    func values(_ profile: AlertProfile, _ overrides: [String: String] = [:]) throws -> [String: String] {
        try ObservabilityConfig.values(profile: profile, defaultsEnv: file("defaults.env"), ciEnv: file("ci.env"), overrides: overrides)
    }

    @Test func ciProfileOverridesDefaultsAndOverridesComeLast() throws {
        let d = try values(.default)
        #expect(d["POOL_UTIL_PCT"] == "80" && d["PRIMARY_DOWN_FOR"] == "10s" && d["LONG_QUERY_SECONDS"] == "300")
        let ci = try values(.ci)
        #expect(ci["POOL_UTIL_PCT"] == "50" && ci["PRIMARY_DOWN_FOR"] == "3s" && ci["LONG_QUERY_SECONDS"] == "15")
        #expect(ci["SCRAPE_INTERVAL"] == "1s", "keys ci.env does not list keep the default")
        #expect(try values(.ci, ["PRIMARY_DOWN_FOR": "1s"])["PRIMARY_DOWN_FOR"] == "1s")
    }

    @Test func invalidValuesAreRefusedAsRenderShDoes() throws {
        #expect(throws: EnvironmentError.self) { try values(.ci, ["PRIMARY_DOWN_FOR": "3"]) }
        #expect(throws: EnvironmentError.self) { try values(.ci, ["DISK_USAGE_PCT": "50.5"]) }
        #expect(throws: EnvironmentError.self) { try values(.ci, ["REPL_LAG_CRIT_SECONDS": "4"]) }  // warn 3 + 1
        #expect(throws: Never.self) { try values(.ci, ["REPL_LAG_CRIT_SECONDS": "5"]) }
    }

    @Test func overridesNameThisEnvironmentsAddresses() {
        let o = ObservabilityConfig.overrides(for: config())
        #expect(o["NODE1_ADDR"] == "10.82.0.11" && o["NODE3_ADDR"] == "10.82.0.13")
        #expect(o["PROMETHEUS_ADDR"] == "10.82.0.1:9090" && o["ALERTMANAGER_ADDR"] == "10.82.0.1:9093")
        #expect(o["PGBOUNCER_EXPORTER_ADDR"] == "10.82.0.1:9127" && o["NODE_EXPORTER_ADDR"] == "10.82.0.1:9100")
        #expect(o["LOAD_METRICS_ADDR"] == "10.82.0.254:9464", "the host side of the bridge, where the harness runs")
    }

    @Test func pgdataFilterKeepsOnlyThisEnvironmentsMounts() throws {
        let re = try NSRegularExpression(pattern: "^(?:" + ObservabilityConfig.overrides(for: config())["PGDATA_MOUNTPOINTS_RE"]! + ")$")
        func keeps(_ s: String) -> Bool { re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil }
        #expect(keeps("/var/lib/faultline/fb/n1/pgdata"))
        #expect(keeps("/var/lib/faultline/fb/n3/pgdata"))
        #expect(!keeps("/var/lib/faultline/local/n1/pgdata"), "another environment's mount")
        #expect(!keeps("/var/lib/faultline/fbx/n1/pgdata"))
        #expect(ObservabilityConfig.regexEscape("/a.b+c") == "/a\\.b\\+c")
    }

    /// The Swift rendering must equal the reference implementation, render.sh, for the same values.
    @Test(arguments: [AlertProfile.ci, .default])
    func renderingMatchesRenderSh(_ profile: AlertProfile) throws {
        let c = config()
        let mine = try ObservabilityConfig.render(sourceDir: Self.source, values: try values(profile, ObservabilityConfig.overrides(for: c)))
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fb-render-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(Self.source)/render.sh")
        p.arguments = [profile.rawValue, out] + ObservabilityConfig.overrides(for: c).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        // Template leaves the comment lines that document placeholders alone; render.sh fills them in.
        func content(_ s: String) -> [Substring] { s.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.drop { $0 == " " }.hasPrefix("#") } }
        for name in ObservabilityConfig.templates {
            let theirs = try String(contentsOfFile: "\(out)/\(name)", encoding: .utf8)
            #expect(content(mine[name] ?? "") == content(theirs), "\(name) differs from render.sh's")
            #expect(content(theirs).count > 10)
        }
        let prom = try #require(mine["prometheus.yml"]).split(separator: "\n").filter { !$0.drop { $0 == " " }.hasPrefix("#") }.joined(separator: "\n")
        #expect(prom.contains("'10.82.0.254:9464'") && prom.contains("'10.82.0.11:9187'") && prom.contains("'10.82.0.1:9093'"))
        #expect(!prom.contains("10.77.0."), "no reference-cluster address left")
        let rules = try #require(mine["alerts.rules.yml"])
        #expect(!rules.contains("{{PRIMARY_DOWN_FOR}}\n"), "placeholders outside comments are filled")
        #expect(rules.contains(profile == .ci ? "> 15\n        for: 1s" : "> 300\n        for: 5s"), "long-query threshold of the profile")
    }

    @Test func processesCarryNoPasswordAndListenOnThisEnvironment() throws {
        let env = LocalEnvironment(config: config(), logger: .init(label: "test"))
        let specs = env.observabilitySpecs
        #expect(specs.map(\.name) == ["alertmanager", "prometheus", "node-exporter", "pgbouncer-exporter",
                                      "n1-pg-exporter", "n2-pg-exporter", "n3-pg-exporter"])
        for s in specs {
            let line = s.launchArgv(pidFile: "/p", logFile: "/l").joined(separator: " ")
            #expect(!line.contains("DATA_SOURCE_NAME"), "the DSN never goes on a command line")
            #expect(!line.lowercased().contains("password"), "\(s.name)")
            #expect(Secrets.mask(line) == line, "nothing to mask: \(s.name)")
            #expect(s.user == "prometheus")
        }
        let n2 = try #require(specs.first { $0.name == "n2-pg-exporter" })
        #expect(n2.netns == "fb-n2")
        #expect(n2.argv.contains("--web.listen-address=10.82.0.12:9187"))
        #expect(n2.environment["DATA_SOURCE_PASS_FILE"] == "/var/lib/faultline/fb/observability/monitor.pass")
        #expect(n2.environment["DATA_SOURCE_URI"]?.hasPrefix("127.0.0.1:5432/faultline?") == true)
        let prom = try #require(specs.first { $0.name == "prometheus" })
        #expect(prom.netns == "fb-client" && prom.argv.contains("--web.listen-address=10.82.0.1:9090"))
        #expect(env.endpoints["prometheus"] == "http://10.82.0.1:9090")
        #expect(env.endpoints["alertmanager"] == "http://10.82.0.1:9093")
        #expect(env.allSpecs.suffix(specs.count).map(\.name) == specs.map(\.name), "heal restarts them too")
    }

    @Test func profileOffStartsNothingAndBadProfilesAreRefused() throws {
        let off = LocalEnvironment(config: config { $0.observability = "off" }, logger: .init(label: "test"))
        #expect(off.observabilitySpecs.isEmpty)
        #expect(off.endpoints["prometheus"] == nil)
        #expect(throws: EnvironmentError.self) { try config { $0.observability = "loud" }.validate() }
        #expect(throws: Never.self) { try config { $0.observability = "default" }.validate() }
    }

    @Test func anEnvironmentSavedBeforeObservabilityHasNone() throws {
        let old = #"{"subnet": "10.82.0.0/24", "namePrefix": "fb", "stateDir": "/var/lib/faultline/fb"}"#
        #expect(LocalConfig.decode(Data(old.utf8))?.alertProfile == .off)
        let new = try JSONEncoder().encode(config { $0.observability = "default" })
        #expect(LocalConfig.decode(new)?.alertProfile == .default)
        #expect(LocalConfig.decode(try JSONEncoder().encode(config()))?.alertProfile == .ci)
    }

    @Test func alertsOfAnEnvironmentWithoutAlertingAreAnError() {
        let off = LocalEnvironment(config: config { $0.observability = "off" }, logger: .init(label: "test"))
        #expect(throws: EnvironmentError.self) { try off.activeAlerts() }
    }
}
