import Faultline

/// The checks a restore request passes before anything is touched (`faultline backup restore`). Pure.
public enum RestoreRequest {
    /// Why restoring `repo` to `targetEpochMs` (nil: the end of the archive) cannot work, as one line saying how to
    /// mend it; nil when it can. `catalog` is `pgbackrest info`'s, `nowEpochMs` the present.
    public static func refusal(targetEpochMs: Double?, nowEpochMs: Double, catalog: BackupCatalog, repo: Int) -> String? {
        let good = catalog.backups(repo: repo).filter { !$0.error }
        guard let oldest = good.min(by: { $0.stop < $1.stop }) else {
            return "repository \(repo) holds no backup to restore from; take one first: faultline backup run --repo \(repo)"
        }
        guard let t = targetEpochMs else { return nil }
        if t > nowEpochMs {
            return "restore target \(EpochTime.iso(milliseconds: t)) is in the future (now \(EpochTime.iso(milliseconds: nowEpochMs))); give a time before now"
        }
        let oldestEnd = Double(oldest.stop) * 1000
        if t < oldestEnd {
            return "restore target \(EpochTime.iso(milliseconds: t)) is before the oldest backup of repository \(repo) "
                + "(\(oldest.label), ended \(EpochTime.iso(milliseconds: oldestEnd))); give a later time"
        }
        return nil
    }
}
