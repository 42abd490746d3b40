import Faultline

/// Tags of the fault catalogue's scenarios.
extension Tag {
    public static let network: Tag = "network"
    public static let process: Tag = "process"
    public static let resources: Tag = "resources"
    public static let locks: Tag = "locks"
    public static let replication: Tag = "replication"
    public static let dcs: Tag = "dcs"
    /// Disaster-recovery drills: backup, destroy, restore.
    public static let dr: Tag = "dr"
    /// Schema migrations under load (docs/migrations.md).
    public static let migration: Tag = "migration"
    /// Controls that must FAIL (a naive migration, a broken archive): not in the nightly set, where a failure is a
    /// regression; their failing is asserted by the integration tests (`faultline suite --tag control` exits 1).
    public static let control: Tag = "control"
    /// Scenarios whose writes go through the connection pooler (PgBouncer).
    public static let pooler: Tag = "pooler"
}
