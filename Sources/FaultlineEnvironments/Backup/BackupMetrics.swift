import Faultline
import Foundation

/// The backup catalog in Prometheus' text exposition format, for the `FaultlineBackupStale` alert. Pure.
public enum BackupMetrics {
    /// `catalog` nil: `pgbackrest info` did not answer (only `faultline_backup_info_success 0` is written, so the
    /// age metrics go absent and the alert's absent rule fires). Ages are measured at `now`; a repository without a
    /// good backup has no age or timestamp (absent), but its counts (0) are written.
    public static func exposition(_ catalog: BackupCatalog?, now: Date) -> String {
        var s = """
            # HELP faultline_backup_info_success 1 when pgbackrest info answered.
            # TYPE faultline_backup_info_success gauge
            faultline_backup_info_success \(catalog == nil ? 0 : 1)

            """
        guard let catalog else { return s }
        let repos = catalog.repositories
        let newest = repos.compactMap { r in catalog.newestGood(repo: r).map { (r, $0) } }
        s += """
            # HELP faultline_backup_newest_good_age_seconds Seconds since the newest backup without errors stopped, per repository.
            # TYPE faultline_backup_newest_good_age_seconds gauge

            """
        for (r, b) in newest { s += "faultline_backup_newest_good_age_seconds{repo=\"\(r)\"} \(format(now.timeIntervalSince1970 - Double(b.stop)))\n" }
        s += """
            # HELP faultline_backup_newest_good_timestamp_seconds When the newest backup without errors stopped (epoch seconds), per repository.
            # TYPE faultline_backup_newest_good_timestamp_seconds gauge

            """
        for (r, b) in newest { s += "faultline_backup_newest_good_timestamp_seconds{repo=\"\(r)\"} \(b.stop)\n" }
        s += """
            # HELP faultline_backup_count Backups pgBackRest lists, per repository and type.
            # TYPE faultline_backup_count gauge

            """
        for r in repos {
            for t in BackupType.all {
                s += "faultline_backup_count{repo=\"\(r)\",type=\"\(t.rawValue)\"} \(catalog.backups.filter { $0.repo == r && $0.type == t }.count)\n"
            }
        }
        return s
    }

    /// Whole numbers without a fraction, others with up to 3 decimals.
    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.3f", v)
    }
}
