import Foundation
import Testing
@testable import FaultlineEnvironments

/// The backup exposition, and the FaultlineBackupStale rules run through promtool's unit tests.
@Suite struct BackupMetricsTests {
    static let promtool = "/usr/bin/promtool"

    func lines(_ s: String) -> [String] { s.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") } }

    @Test func agesTimestampsAndCountsPerRepository() throws {
        let c = try BackupCatalog.parse(Data(BackupFixtures.info.utf8))
        let text = BackupMetrics.exposition(c, now: Date(timeIntervalSince1970: 1796150393 + 3600))
        #expect(lines(text) == [
            "faultline_backup_info_success 1",
            #"faultline_backup_newest_good_age_seconds{repo="1"} 3600"#,
            #"faultline_backup_newest_good_age_seconds{repo="2"} 3606"#,
            #"faultline_backup_newest_good_timestamp_seconds{repo="1"} 1796150393"#,
            #"faultline_backup_newest_good_timestamp_seconds{repo="2"} 1796150387"#,
            #"faultline_backup_count{repo="1",type="full"} 1"#,
            #"faultline_backup_count{repo="1",type="diff"} 1"#,
            #"faultline_backup_count{repo="1",type="incr"} 1"#,
            #"faultline_backup_count{repo="2",type="full"} 1"#,
            #"faultline_backup_count{repo="2",type="diff"} 0"#,
            #"faultline_backup_count{repo="2",type="incr"} 0"#,
        ])
        for m in ["faultline_backup_info_success", "faultline_backup_newest_good_age_seconds", "faultline_backup_newest_good_timestamp_seconds",
                  "faultline_backup_count"] {
            #expect(text.contains("# TYPE \(m) gauge\n") && text.contains("# HELP \(m) "), "\(m)")
        }
        #expect(BackupMetrics.exposition(c, now: Date(timeIntervalSince1970: 1796150393.25)).contains(#"{repo="1"} 0.250"#))
    }

    @Test func aRepositoryWithoutAGoodBackupHasNoAgeAndAFailedInfoOnlySaysSo() throws {
        let c = try BackupCatalog.parse(Data(BackupFixtures.infoRepo2Unreadable.utf8))
        let l = lines(BackupMetrics.exposition(c, now: Date(timeIntervalSince1970: 1796150400)))
        #expect(l.contains(#"faultline_backup_newest_good_age_seconds{repo="1"} 7"#))
        #expect(!l.contains { $0.hasPrefix("faultline_backup_newest_good") && $0.contains(#"repo="2""#) })
        #expect(l.contains(#"faultline_backup_count{repo="2",type="full"} 0"#))
        let failed = lines(BackupMetrics.exposition(nil, now: Date()))
        #expect(failed == ["faultline_backup_info_success 0"])
    }

    /// The shipped rule tests (alerts.rules.test.yml.tmpl, the backup ones among them: repo1 past 26 h, repo2 past
    /// 8 d, the age absent while the target is scraped, no alert without the target), rendered by render.sh per profile.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: promtool), "needs promtool (Debian's prometheus)"),
          arguments: [AlertProfile.ci, .default])
    func backupStaleRulesPassPromtoolUnitTests(_ profile: AlertProfile) throws {
        let source = ObservabilityConfigTests.source
        let rules = try String(contentsOfFile: "\(source)/alerts.rules.test.yml.tmpl", encoding: .utf8)
        for name in ["repo1's newest good backup ages past", "repo2's newest good backup ages past",
                     "repo1's backup age goes absent", "an environment without the backup target"] {
            #expect(rules.contains("- name: \(name)"), "\(name)")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fb-rules-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(try run("\(source)/render.sh", [profile.rawValue, out]).status == 0)
        let rendered = try String(contentsOfFile: "\(out)/alerts.rules.yml", encoding: .utf8)
        #expect(rendered.contains(#"faultline_backup_newest_good_age_seconds{job="backup",repo="1"} > 93600"#))
        #expect(rendered.contains(#"faultline_backup_newest_good_age_seconds{job="backup",repo="2"} > 691200"#))
        let check = try run(Self.promtool, ["check", "rules", "\(out)/alerts.rules.yml"])
        #expect(check.status == 0, "\(check.output)")
        let test = try run(Self.promtool, ["test", "rules", "alerts.rules.test.yml"], in: out)
        #expect(test.status == 0 && test.output.contains("SUCCESS"), "\(test.output)")
    }

    func run(_ exe: String, _ args: [String], in dir: String? = nil) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let dir { p.currentDirectoryURL = URL(fileURLWithPath: dir) }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
