import Faultline
import Foundation
import Testing
@testable import FaultlineEnvironments

/// The backup schedule's systemd units and crontab, and the retention settings.
@Suite struct BackupScheduleTests {
    let schedule = BackupSchedule(faultline: "/opt/faultline/bin/faultline", environment: "local", stateDir: "/var/lib/faultline/local")

    static let systemdAnalyze = "/usr/bin/systemd-analyze"

    @Test func twoJobsDailyToRepo1WeeklyToRepo2() {
        #expect(BackupSchedule.jobs.map(\.repo) == [1, 2])
        #expect(BackupSchedule.jobs.map(\.type) == [.full, .full])
        #expect(BackupSchedule.jobs.map(\.onCalendar) == ["*-*-* 01:00:00", "Sun *-*-* 02:00:00"])
        #expect(schedule.units.keys.sorted() == ["faultline-local-backup-repo1-full.service", "faultline-local-backup-repo1-full.timer",
                                                 "faultline-local-backup-repo2-full.service", "faultline-local-backup-repo2-full.timer"])
    }

    @Test func serviceRunsFaultlineBackupRunOnce() throws {
        let s = try #require(schedule.units["faultline-local-backup-repo2-full.service"])
        let lines = s.split(separator: "\n").map(String.init)
        #expect(lines.contains("ExecStart=/opt/faultline/bin/faultline backup run --type full --repo 2 --environment local --state-dir /var/lib/faultline/local"))
        #expect(lines.contains("Type=oneshot") && lines.contains("[Service]") && lines.contains("TimeoutStartSec=15min"))
        let spaced = BackupSchedule(faultline: "/opt/my tools/faultline", environment: "local", stateDir: "/srv/a%b")
        #expect(spaced.service(BackupSchedule.jobs[0]).contains(#"ExecStart="/opt/my tools/faultline" backup run"#))
        #expect(spaced.service(BackupSchedule.jobs[0]).contains("--state-dir /srv/a%%b"), "% is a specifier to systemd")
    }

    @Test func timersArePersistentWithASmallRandomDelay() throws {
        for (name, when) in [("repo1", "*-*-* 01:00:00"), ("repo2", "Sun *-*-* 02:00:00")] {
            let t = try #require(schedule.units["faultline-local-backup-\(name)-full.timer"])
            let lines = Set(t.split(separator: "\n").map(String.init))
            for want in ["[Timer]", "OnCalendar=\(when)", "Persistent=true", "RandomizedDelaySec=5min",
                         "Unit=faultline-local-backup-\(name)-full.service", "WantedBy=timers.target"] {
                #expect(lines.contains(want), "\(name): \(want)")
            }
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: systemdAnalyze), "needs /usr/bin/systemd-analyze"))
    func everyOnCalendarIsValidForSystemd() throws {
        for j in BackupSchedule.jobs {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.systemdAnalyze)
            p.arguments = ["calendar", j.onCalendar]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(j.onCalendar): \(text)")
            #expect(text.contains("Normalized form: \(j.onCalendar)"), "\(text)")
        }
        // The check itself can fail.
        let bad = Process()
        bad.executableURL = URL(fileURLWithPath: Self.systemdAnalyze)
        bad.arguments = ["calendar", "Sun *-*-* 25:00:00"]
        bad.standardOutput = FileHandle.nullDevice
        bad.standardError = FileHandle.nullDevice
        try bad.run()
        bad.waitUntilExit()
        #expect(bad.terminationStatus != 0)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: systemdAnalyze), "needs /usr/bin/systemd-analyze"))
    func unitFilesPassSystemdAnalyzeVerify() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fb-units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = BackupSchedule(faultline: "/usr/bin/true", environment: "local", stateDir: "/var/lib/faultline/local")
        for (name, text) in s.units { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.systemdAnalyze)
        p.arguments = ["verify"] + s.units.keys.sorted().map { dir.appendingPathComponent($0).path }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && text.isEmpty, "\(text)")
    }

    @Test func crontabHasFiveFieldsAtTheSameTimes() throws {
        let lines = schedule.crontab.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        #expect(lines.count == 2)
        let fields = lines.map { $0.split(separator: " ", maxSplits: 5).map(String.init) }
        // minute hour day-of-month month day-of-week, then the command
        #expect(fields[0].prefix(5) == ["0", "1", "*", "*", "*"], "daily at 01:00")
        #expect(fields[1].prefix(5) == ["0", "2", "*", "*", "0"], "Sundays at 02:00")
        #expect(fields[0][5] == "/opt/faultline/bin/faultline backup run --type full --repo 1 --environment local --state-dir /var/lib/faultline/local")
        #expect(fields[1][5].contains("--repo 2"))
        #expect(BackupSchedule.jobs.map(\.cron) == ["0 1 * * *", "0 2 * * 0"])
        let odd = BackupSchedule(faultline: "/opt/my tools/faultline", environment: "local", stateDir: "/srv/a%b").crontab
        #expect(odd.contains("'/opt/my tools/faultline' backup") && odd.contains("'/srv/a\\%b'"), "quoted for sh, % escaped for cron")
    }

    @Test func retentionKeepsAWeekInRepo1AndAMonthInRepo2() {
        #expect(BackupSchedule.retentionFull == [1: 7, 2: 4])
        #expect(BackupSchedule.retentionSettings == "repo1-retention-full=7\nrepo2-retention-full=4\n")
    }
}
