import Faultline

extension MigrationTargets {
    /// The bounds every migration scenario and its naive twin share (docs/migrations.md has the measured values):
    /// no application error; p99 while migrating at most 5× the steady state's, or 250 ms (on 2 cores a batched
    /// backfill of 1 M rows alone lifts a ~20 ms p99 to ~120 ms); no application session waits 500 ms or more on a lock
    /// (the safe steps measured ≤ 21 ms, a plain CREATE INDEX on 1 M rows ~1.1 s); replica lag under 5 s.
    public static let underLoad = MigrationTargets(appErrors: 0, p99Factor: 5, p99Floor: .milliseconds(250),
                                                   lockWait: .milliseconds(500), replicaLag: .seconds(5))
}
