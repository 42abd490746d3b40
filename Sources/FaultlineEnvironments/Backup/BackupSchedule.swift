import Faultline
import Foundation

/// The backup schedule of an environment, as systemd units or a crontab: a daily full backup to repo1 and a
/// weekly full backup to repo2, each `faultline backup run`. Pure: it renders text, installs nothing.
public struct BackupSchedule: Sendable, Equatable {
    /// One scheduled backup.
    public struct Job: Sendable, Equatable {
        public var repo: Int
        public var type: BackupType
        /// When, as systemd's `OnCalendar=`.
        public var onCalendar: String
        /// The same time as crontab's five fields (minute hour day-of-month month day-of-week).
        public var cron: String
        /// "daily", "weekly".
        public var cadence: String
    }

    public static let jobs = [
        Job(repo: 1, type: .full, onCalendar: "*-*-* 01:00:00", cron: "0 1 * * *", cadence: "daily"),
        Job(repo: 2, type: .full, onCalendar: "Sun *-*-* 02:00:00", cron: "0 2 * * 0", cadence: "weekly"),
    ]

    /// Full backups each repository keeps (pgBackRest expires older ones, with the WAL only they needed), for
    /// pgbackrest.conf's `[global]`: a week of daily fulls in repo1, four weekly fulls (a month) in repo2. With a
    /// schedule of fulls only, these bound every restore point the repositories can reach.
    public static let retentionFull = [1: 7, 2: 4]

    /// `repo1-retention-full=7` and `repo2-retention-full=4`, one a line.
    public static var retentionSettings: String {
        retentionFull.sorted { $0.key < $1.key }.map { "repo\($0.key)-retention-full=\($0.value)\n" }.joined()
    }

    /// Spread of each timer's start, so environments on one machine do not all start at once.
    public static let randomizedDelay = "5min"
    /// How long one backup may run before systemd stops it (above `faultline backup run`'s own bound).
    public static let serviceTimeout = "15min"

    public var faultline: String
    public var environment: String
    public var stateDir: String

    public init(faultline: String, environment: String, stateDir: String) {
        (self.faultline, self.environment, self.stateDir) = (faultline, environment, stateDir)
    }

    /// `faultline-<environment>-backup-repo1-full`.
    public func unitName(_ job: Job) -> String { "faultline-\(environment)-backup-repo\(job.repo)-\(job.type.rawValue)" }

    /// The command a job runs.
    public func argv(_ job: Job) -> [String] {
        [faultline, "backup", "run", "--type", job.type.rawValue, "--repo", "\(job.repo)", "--environment", environment,
         "--state-dir", stateDir]
    }

    public func service(_ job: Job) -> String {
        """
        [Unit]
        Description=Faultline \(environment): \(job.cadence) \(job.type.rawValue) backup to repository \(job.repo)
        Wants=network-online.target
        After=network-online.target

        [Service]
        Type=oneshot
        ExecStart=\(argv(job).map(Self.systemdQuote).joined(separator: " "))
        TimeoutStartSec=\(Self.serviceTimeout)

        """
    }

    public func timer(_ job: Job) -> String {
        """
        [Unit]
        Description=Faultline \(environment): \(job.cadence) \(job.type.rawValue) backup to repository \(job.repo)

        [Timer]
        OnCalendar=\(job.onCalendar)
        Persistent=true
        RandomizedDelaySec=\(Self.randomizedDelay)
        Unit=\(unitName(job)).service

        [Install]
        WantedBy=timers.target

        """
    }

    /// Every unit file: name → content.
    public var units: [String: String] {
        var out: [String: String] = [:]
        for j in Self.jobs {
            out["\(unitName(j)).service"] = service(j)
            out["\(unitName(j)).timer"] = timer(j)
        }
        return out
    }

    /// The same schedule for a user's crontab (`crontab FILE`; no catch-up of a missed run, no random delay).
    public var crontab: String {
        var s = "# Faultline \(environment): backups (systemd timers do the same, and catch up on missed runs)\n"
        for j in Self.jobs {
            s += "# \(j.cadence) \(j.type.rawValue) backup to repository \(j.repo)\n"
            s += "\(j.cron) \(argv(j).map(Self.shellQuote).joined(separator: " "))\n"
        }
        return s
    }

    /// A word for systemd's ExecStart: quoted when it holds a space, quote, backslash or `%` (escaped as `%%`).
    static func systemdQuote(_ w: String) -> String {
        let e = w.replacingOccurrences(of: "%", with: "%%")
        guard e.isEmpty || e.contains(where: { " \t\"'\\;$".contains($0) }) else { return e }
        return "\"" + e.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A word for cron's /bin/sh (`%` is a newline to cron, so it is escaped too).
    static func shellQuote(_ w: String) -> String {
        let safe = w.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@+,".contains($0) }
        let q = safe && !w.isEmpty ? w : "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'"
        return q.replacingOccurrences(of: "%", with: "\\%")
    }
}
