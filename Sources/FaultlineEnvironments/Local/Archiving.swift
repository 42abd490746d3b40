import FaultlinePG
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// WAL archiving of the local environment: SeaweedFS serves S3 over TLS in the client namespace
// (`<bridge .1>:8333`, certificate signed by a CA that `up` generates with openssl); every node has a
// pgBackRest config; PostgreSQL's archive_command is `pgbackrest archive-push`, its restore_command
// `pgbackrest archive-get`. See docs/environment.md.

/// Fixed names, ports and commands of the archiving setup. Pure.
public enum ArchivingConfig {
    /// SeaweedFS' S3 gateway (HTTPS).
    public static let s3Port = 8333
    /// SeaweedFS' master (where `weed shell` connects).
    public static let masterPort = 9333
    public static let bucket = "faultline"
    public static let stanza = "faultline"
    /// pgBackRest's io-timeout (s). pgBackRest retries a request about 16 times, so with an unreachable (DROPped)
    /// store archive-push fails after ~17 s at 1 s (measured 33.6 s at 2 s, 81.7 s at 5 s; the default 60 s: ~16 min).
    public static let ioTimeoutSeconds = 1
    /// io-timeout (s) of the bring-up's own pgBackRest calls (repo-ls, stanza-create): a new SeaweedFS collection
    /// grows its volumes on its first writes, which can take longer than `ioTimeoutSeconds`.
    public static let setupIOTimeoutSeconds = 30
    /// `repo1-path` in environments/local/pgbackrest.conf.tmpl.
    public static let repoPath = "/pgbackrest"
    public static let pgbackrest = "/usr/bin/pgbackrest"

    public static func archiveCommand(config: String) -> String {
        "\(pgbackrest) --config=\(config) --stanza=\(stanza) archive-push %p"
    }

    public static func restoreCommand(config: String) -> String {
        "\(pgbackrest) --config=\(config) --stanza=\(stanza) archive-get %f \"%p\""
    }

    /// SeaweedFS' S3 identities file (`-s3.config`): one identity holding the environment's key pair.
    public static func identities(accessKey: String, secretKey: String) -> String {
        let obj: [String: Any] = ["identities": [[
            "name": "faultline",
            "credentials": [["accessKey": accessKey, "secretKey": secretKey]],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        ]]]
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// openssl x509 extensions of the S3 server certificate. pgBackRest 2.45 ignores IP SANs, so the
    /// address is a DNS SAN too (and the CN).
    public static func serverCertExtensions(ip: String) -> String {
        """
        subjectAltName=DNS:\(ip),IP:\(ip)
        basicConstraints=CA:FALSE
        keyUsage=digitalSignature,keyEncipherment
        extendedKeyUsage=serverAuth

        """
    }

    /// `weed server` with master, volume, filer and the S3 gateway on `ip`, HTTPS only, telemetry off,
    /// the Iceberg and Lance side servers off. Up to 64 volumes of 256 MB (16 GB, on the state directory's disk): with 8
    /// (2 GB) the WAL of a few 1-million-row migrations filled the store; every archive-push then failed with HTTP 500
    /// ("No writable volumes"), un-archived WAL piled up in pg_wal, and a killed primary's Patroni hung in its crash
    /// recovery, archiving segments before its pg_rewind.
    public static func weedArgv(weed: String, dataDir: String, ip: String, cert: String, key: String, identities: String) -> [String] {
        [weed, "server", "-dir=\(dataDir)", "-ip=\(ip)", "-ip.bind=\(ip)", "-master.port=\(masterPort)",
         "-master.telemetry=false", "-master.volumeSizeLimitMB=256", "-volume.max=64",
         "-filer", "-s3", "-s3.port=\(s3Port)", "-s3.cert.file=\(cert)", "-s3.key.file=\(key)",
         "-s3.config=\(identities)", "-s3.port.iceberg=0", "-s3.port.lance=0"]
    }
}

/// A primary's `pg_stat_archiver`, plus the segments still waiting in pg_wal (`.ready`).
public struct ArchiverStatus: Codable, Sendable, Equatable {
    public var node: String
    public var archivedCount: Int
    public var lastArchivedWal: String?
    public var lastArchivedTime: String?
    public var failedCount: Int
    public var lastFailedWal: String?
    public var lastFailedTime: String?
    /// Segments PostgreSQL has marked ready to archive and not yet archived.
    public var waiting: Int
    /// The last attempt failed (last_failed_time after last_archived_time): what the alert watches.
    public var failing: Bool

    /// One line for `env status`.
    public var summary: String {
        var s = "\(node): \(failing ? "FAILING" : "ok"), \(archivedCount) archived"
        if let w = lastArchivedWal { s += " (last \(w)" + (lastArchivedTime.map { " at \($0)" } ?? "") + ")" }
        s += ", \(failedCount) failed"
        if failing, let w = lastFailedWal { s += " (last \(w)" + (lastFailedTime.map { " at \($0)" } ?? "") + ")" }
        return s + ", \(waiting) waiting in pg_wal"
    }
}

/// One S3 object store (a SeaweedFS of its own, with its own CA, certificate and key pair) holding one pgBackRest
/// repository: region A (repo1) in the client namespace at the bridge address, region B (repo2) in a namespace of
/// its own. Pure.
public struct ObjectStore: Sendable, Equatable {
    /// pgBackRest's repository number.
    public var repo: Int
    /// "a" or "b".
    public var region: String
    public var netns: String
    public var ip: String
    /// SeaweedFS' data, TLS files, identities and private /tmp live below it.
    public var dir: String
    public var tlsDir: String { "\(dir)/tls" }
    /// The CA every pgBackRest verifies this store's certificate with.
    public var caFile: String { "\(tlsDir)/ca.crt" }
    public var identities: String { "\(dir)/s3-identities.json" }
    /// This store's own /tmp (see `LocalEnvironment.withPrivateTmp`).
    public var tmp: String { "\(dir)/tmp" }
    public var daemonName: String { region == "a" ? "seaweedfs" : "seaweedfs-\(region)" }
    public var url: String { "https://\(ip):\(ArchivingConfig.s3Port)/\(ArchivingConfig.bucket)" }
}

extension LocalConfig {
    /// Region B's namespace and address (.3 on the bridge).
    public var regionBNetns: String { "\(namePrefix)-s3b" }
    public var regionBIP: String { "\(prefix).3" }
    /// The two object stores, repo1 first.
    public var objectStores: [ObjectStore] {
        [ObjectStore(repo: 1, region: "a", netns: clientNetns, ip: clientIP, dir: "\(stateDir)/archive"),
         ObjectStore(repo: 2, region: "b", netns: regionBNetns, ip: regionBIP, dir: "\(stateDir)/archive-b")]
    }
    public func objectStore(repo: Int) -> ObjectStore? { objectStores.first { $0.repo == repo } }
    /// Region A's (repo1) data dir, CA and URL.
    public var archiveDir: String { objectStores[0].dir }
    public var archiveTLSDir: String { objectStores[0].tlsDir }
    public var archiveCAFile: String { objectStores[0].caFile }
    public var s3URL: String { objectStores[0].url }
    public var weed: String { "\(home)/.venv/bin/weed" }
    /// Where `faultline_backup.prom` goes (node_exporter's textfile directory).
    public var backupMetricsDir: String { "\(stateDir)/observability/textfile" }
    public func pgbackrestDir(_ node: String) -> String { "\(nodeDir(node))/pgbackrest" }
    public func pgbackrestConfig(_ node: String) -> String { "\(pgbackrestDir(node))/pgbackrest.conf" }
}

extension LocalEnvironment {
    /// The template values of the archiving setup for node `n`: repo1 (region A) and repo2 (region B), each with
    /// its own address, CA and key pair.
    func archivingValues(node n: String, secrets: SecretSet) -> [String: String] {
        let a = config.objectStores[0], b = config.objectStores[1]
        return [
            "S3_HOST": a.ip, "S3_PORT": "\(ArchivingConfig.s3Port)", "S3_BUCKET": ArchivingConfig.bucket,
            "S3_KEY": secrets.s3AccessKey, "S3_KEY_SECRET": secrets.s3SecretKey, "CA_FILE": a.caFile,
            "S3B_HOST": b.ip, "S3B_KEY": secrets.s3AccessKeyB ?? "", "S3B_KEY_SECRET": secrets.s3SecretKeyB ?? "", "CA_FILE_B": b.caFile,
            "STANZA": ArchivingConfig.stanza, "PGBACKREST_DIR": config.pgbackrestDir(n),
            "IO_TIMEOUT": "\(ArchivingConfig.ioTimeoutSeconds)",
            "ARCHIVE_COMMAND": ArchivingConfig.archiveCommand(config: config.pgbackrestConfig(n)),
            "RESTORE_COMMAND": ArchivingConfig.restoreCommand(config: config.pgbackrestConfig(n)),
        ]
    }

    /// Both stores' files (`prepareStore`), and every node's pgBackRest directories.
    func prepareArchiving(secrets: SecretSet) async throws {
        let fm = FileManager.default
        for n in config.nodeNames {
            for d in ["", "/log", "/lock", "/spool"] {
                let p = config.pgbackrestDir(n) + d
                try fm.createDirectory(atPath: p, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try chown(p, "postgres")
            }
        }
        try await prepareStore(config.objectStores[0], accessKey: secrets.s3AccessKey, secretKey: secrets.s3SecretKey)
        try await prepareStore(config.objectStores[1], accessKey: secrets.s3AccessKeyB ?? "", secretKey: secrets.s3SecretKeyB ?? "")
    }

    /// One store's directories, its CA and S3 server certificate (the CA's key is deleted once it has signed),
    /// and its SeaweedFS identities file. Everything lives under the state dir, so `down` removes it.
    func prepareStore(_ store: ObjectStore, accessKey: String, secretKey: String) async throws {
        let fm = FileManager.default
        let tls = store.tlsDir
        for d in [store.dir, tls, "\(store.dir)/data", store.tmp] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try chmod(store.dir, 0o711)  // postgres reads the CA certificate below it
        try chmod(tls, 0o711)
        let ip = store.ip
        let ssl = "/usr/bin/openssl"
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await runner.run([ssl, "req", "-x509"] + ec + ["-keyout", "\(tls)/ca.key", "-out", "\(tls)/ca.crt",
                             "-days", "7", "-subj", "/CN=faultline-\(config.namePrefix)-region-\(store.region)-ca"])
        try await runner.run([ssl, "req"] + ec + ["-keyout", "\(tls)/s3.key", "-out", "\(tls)/s3.csr", "-subj", "/CN=\(ip)"])
        try Data(ArchivingConfig.serverCertExtensions(ip: ip).utf8).write(to: URL(fileURLWithPath: "\(tls)/s3.ext"))
        try await runner.run([ssl, "x509", "-req", "-in", "\(tls)/s3.csr", "-CA", "\(tls)/ca.crt", "-CAkey", "\(tls)/ca.key",
                             "-CAcreateserial", "-out", "\(tls)/s3.crt", "-days", "7", "-extfile", "\(tls)/s3.ext"])
        for f in ["ca.key", "ca.srl", "s3.csr", "s3.ext"] { try? fm.removeItem(atPath: "\(tls)/\(f)") }
        try chmod("\(tls)/ca.crt", 0o644)
        try chmod("\(tls)/s3.crt", 0o644)
        try chmod("\(tls)/s3.key", 0o600)
        let ids = store.identities
        guard fm.createFile(atPath: ids, contents: Data(ArchivingConfig.identities(accessKey: accessKey, secretKey: secretKey).utf8),
                            attributes: [.posixPermissions: 0o600]) else { throw EnvironmentError.badConfig("cannot write \(ids)") }
    }

    /// SeaweedFS (master, volume, filer, S3 gateway) of region A, in the client namespace.
    var seaweedSpec: DaemonSpec { seaweedSpec(config.objectStores[0]) }
    /// Both regions' SeaweedFS.
    var seaweedSpecs: [DaemonSpec] { config.objectStores.map(seaweedSpec) }

    /// `store`'s SeaweedFS, in its namespace, with its own /tmp.
    func seaweedSpec(_ store: ObjectStore) -> DaemonSpec {
        DaemonSpec(name: store.daemonName, netns: store.netns,
                   argv: withPrivateTmp(ArchivingConfig.weedArgv(weed: config.weed, dataDir: "\(store.dir)/data", ip: store.ip,
                                                                 cert: "\(store.tlsDir)/s3.crt", key: "\(store.tlsDir)/s3.key",
                                                                 identities: store.identities), tmp: store.tmp))
    }

    /// Region A's own /tmp.
    var seaweedTmp: String { config.objectStores[0].tmp }

    /// `argv` run with `tmp` (default: region A's) as its /tmp. SeaweedFS puts unix sockets at fixed paths such as
    /// `/tmp/seaweedfs-master-grpc-19333.sock` and prefers them to TCP; the filesystem is shared across
    /// network namespaces, so another store's SeaweedFS (or `weed shell`) would otherwise talk to
    /// this one. The program is started from its own directory (`cd` first, then `./name`), so a
    /// checkout under /tmp stays reachable once /tmp is covered. `unshare` and `sh` exec: the pid stays
    /// the program's.
    func withPrivateTmp(_ argv: [String], tmp: String? = nil) -> [String] {
        let program = URL(fileURLWithPath: argv[0])
        return ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                #"cd "$1" && mount --bind "$0" /tmp && shift && exec ./"$@""#,
                tmp ?? seaweedTmp, program.deletingLastPathComponent().path, program.lastPathComponent] + argv.dropFirst()
    }

    func startSeaweed() async throws { for spec in seaweedSpecs { try await daemons.start(spec) } }

    /// `weed shell` against `store`, in its namespace, with its /tmp.
    func weedShell(_ store: ObjectStore) -> [String] {
        ["/usr/bin/nsenter", "--net=/run/netns/\(store.netns)"]
            + withPrivateTmp([config.weed, "shell", "-master=\(store.ip):\(ArchivingConfig.masterPort)"], tmp: store.tmp)
    }

    /// Creates the bucket in both stores.
    func createBucket(timeout: Duration) async throws {
        for store in config.objectStores { try await createBucket(store, timeout: timeout) }
    }

    /// Creates the bucket through `weed shell` once `store`'s SeaweedFS master answers.
    func createBucket(_ store: ObjectStore, timeout: Duration) async throws {
        try await createBucket(store, timeout: timeout, weedShell: weedShell(store)) { try ensureRunning([seaweedSpec(store)]) }
    }

    /// Creates the bucket with `weedShell` (the `weed shell` argv that reaches `store`'s master; the compose
    /// environment's runs in the store's container) once the master answers; `stillRunning` throws when the store died.
    func createBucket(_ store: ObjectStore, timeout: Duration, weedShell argv: [String], stillRunning: () throws -> Void) async throws {
        var last = ""
        do {
            try await poll(timeout: timeout, what: "the S3 bucket") { () -> Void? in
                try stillRunning()
                // `weed shell` waits long for a master that is not up yet: ask the master first.
                let master = "http://\(store.ip):\(ArchivingConfig.masterPort)/cluster/status"
                guard (try? HTTP.get(master, timeout: .milliseconds(500)))?.status == 200 else {
                    last = "the master at \(master) did not answer"
                    return nil
                }
                let r = try await runner.run(argv, check: false, timeout: .seconds(10), stdin: "s3.bucket.create -name \(ArchivingConfig.bucket)\n")
                last = CommandRunner.lastLine(r.stdout + r.stderr)
                let out = r.stdout + r.stderr
                return out.contains("created bucket") || out.contains("already exist") ? () : nil
            }
        } catch let e as EnvironmentError {
            if case .daemonExited = e { throw e }
            throw EnvironmentError.unhealthy("SeaweedFS of region \(store.region): cannot create bucket \(ArchivingConfig.bucket): \(Secrets.mask(last))")
        }
    }

    /// pgBackRest with `node`'s config, in its namespace, as postgres (argv only; `pgbackrest(_:_:)` runs it).
    func pgbackrestArgv(_ node: String, _ args: [String]) -> [String] {
        ["/usr/bin/nsenter", "--net=/run/netns/\(config.nodeNetns(node))",
         "/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
         ArchivingConfig.pgbackrest, "--config=\(config.pgbackrestConfig(node))", "--stanza=\(ArchivingConfig.stanza)"] + args
    }

    /// Runs pgBackRest with `node`'s config, in its namespace, as postgres.
    @discardableResult
    public func pgbackrest(_ node: String, _ args: [String], check: Bool = true, timeout: Duration = .seconds(60)) async throws -> CommandResult {
        try await runner.run(pgbackrestArgv(node, args), check: check, timeout: timeout)
    }

    /// `stanza-create` on the primary (idempotent), retried until the S3 gateway answers.
    ///
    /// The cause of the old bring-up flake (about 1 in 5, "archive.info exists but backup.info is missing",
    /// read in pgBackRest's own log): the first writes into a new SeaweedFS collection make it grow its volumes,
    /// which took longer than the archiving profile's `io-timeout=1`, so the first attempt timed out
    /// ("timeout after 1000ms waiting for read") between writing archive.info and backup.info, and every later
    /// attempt called the half-made stanza corrupt. So stanza-create gets a long io-timeout of its own, and a
    /// half-made stanza of this brand-new repository (nothing else is in it yet) is removed and made again.
    func createStanza(on leader: String, timeout: Duration) async throws {
        try await createStanza(on: leader, timeout: timeout, pgbackrest: { args, t in
            try await self.pgbackrest(leader, args, check: false, timeout: t)
        }, removeRepositories: {
            for store in self.config.objectStores { try await self.removeRepositoryPath(store) }
        })
        let ready = (try? FileManager.default.contentsOfDirectory(atPath: "\(config.dataDir(leader))/pg_wal/archive_status")) ?? []
        await pushReadySegments(on: leader, archiveStatus: ready) { args, t in try await self.pgbackrest(leader, args, check: false, timeout: t) }
    }

    /// `createStanza` with `pgbackrest` (runs pgBackRest with the leader's config as postgres, unchecked; the compose
    /// environment's runs it in the leader's container) and `removeRepositories` (removes a half-made stanza).
    func createStanza(on leader: String, timeout: Duration, pgbackrest: ([String], Duration) async throws -> CommandResult,
                      removeRepositories: () async throws -> Void) async throws {
        var last = ""
        let io = "--io-timeout=\(ArchivingConfig.setupIOTimeoutSeconds)"
        do {
            try await poll(timeout: timeout, what: "pgBackRest stanza-create") { () -> Void? in
                let ls = try await pgbackrest(["repo-ls", io], .seconds(40))
                guard ls.succeeded else {
                    last = CommandRunner.lastLine(ls.stderr + ls.stdout)
                    return nil
                }
                let r = try await pgbackrest(["stanza-create", io], .seconds(60))
                let out = r.stderr + r.stdout
                last = CommandRunner.lastLine(out)
                if !r.succeeded, out.contains("[055]") || out.contains("[040]") {
                    logger.warning("up: half-made pgBackRest stanza in the new repository (\(Secrets.mask(last))); removing it")
                    try await removeRepositories()
                }
                return r.succeeded ? () : nil
            }
        } catch {
            throw EnvironmentError.unhealthy("pgBackRest stanza-create on \(leader) failed: \(Secrets.mask(last))")
        }
    }

    /// Pushes `node`'s oldest ready WAL segment once, as its `archive_command` would (the push forks pgBackRest's
    /// async process, which pushes every ready segment). Called right after stanza-create.
    ///
    /// Why (the slow first segment, 49–75 s in 1 bring-up of 10, read in the kept logs of one on 2026-12-07):
    /// stanza-create holds pgBackRest's archive lock (its lock type is `all`). The leader's first `archive_command`,
    /// running meanwhile, forked an async push that could not take that lock and quit without a status file
    /// ("unable to acquire lock on file '…-archive.lock'"), and the command then waited out `archive-timeout` (60 s)
    /// for a segment nobody pushed. This push, once the lock is free, forks the async process again; the waiting
    /// `archive_command` then finds its segment done. `ArchivingIntegrationTests` provokes the race (a WAL switch, then stanza-create).
    public func pushReadySegments(on node: String) async {
        let ready = (try? FileManager.default.contentsOfDirectory(atPath: "\(config.dataDir(node))/pg_wal/archive_status")) ?? []
        await pushReadySegments(on: node, archiveStatus: ready) { args, t in try await self.pgbackrest(node, args, check: false, timeout: t) }
    }

    /// `pushReadySegments` given the names in `node`'s `pg_wal/archive_status` and how to run pgBackRest with its
    /// config as postgres (the compose environment's runs it in the node's container, where the data directory has
    /// the same path).
    func pushReadySegments(on node: String, archiveStatus names: [String],
                           pgbackrest: ([String], Duration) async throws -> CommandResult) async {
        let wal = "\(config.dataDir(node))/pg_wal"
        let ready = names.filter { $0.hasSuffix(".ready") }.map { String($0.dropLast(".ready".count)) }
        // WAL segments (24 hex digits) sort in order; a timeline history file is pushed only when nothing else waits.
        guard let oldest = ready.filter({ $0.count == 24 }).min() ?? ready.min() else { return }
        let r = try? await pgbackrest(["archive-push", "\(wal)/\(oldest)"], .seconds(30))
        if let r, !r.succeeded {
            logger.warning("up: pgBackRest archive-push of \(oldest) on \(node) failed: \(Secrets.mask(CommandRunner.lastLine(r.stderr + r.stdout)))")
        }
    }

    /// Removes the pgBackRest repository path from `store`'s bucket (at bring-up, when it is new; a drill's region loss).
    func removeRepositoryPath(_ store: ObjectStore) async throws {
        try await runner.run(weedShell(store), check: false, timeout: .seconds(20),
                             stdin: "fs.rm -r /buckets/\(ArchivingConfig.bucket)\(ArchivingConfig.repoPath)\n")
    }

    /// Closes the current WAL segment on `node` (`pg_switch_wal()`); returns the closed segment's name.
    public func switchWal(_ node: String) throws -> String {
        let c = try PGConnection(config.direct(node, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(2))
        defer { c.close() }
        runner.commandLog?.append("select pg_switch_wal()  # \(node)")
        guard let seg = try c.exec("select pg_walfile_name(pg_switch_wal())", timeout: .seconds(5)).scalar else {
            throw EnvironmentError.unhealthy("pg_switch_wal() on \(node) returned nothing")
        }
        return seg
    }

    /// Switches WAL on the primary and waits until that segment is archived: archiving works end to end.
    func waitFirstArchive(on leader: String, timeout: Duration) async throws -> String {
        let seg = try switchWal(leader)
        var last: ArchiverStatus?
        do {
            return try await poll(timeout: timeout, what: "WAL segment \(seg) archived") { () -> String? in
                last = try? archiverStatus(leader)
                guard let w = last?.lastArchivedWal, w >= seg else { return nil }
                return w
            }
        } catch {
            let why = lastProblem(inLog: "\(config.nodeDir(leader))/pgbackrest/log/faultline-archive-push-async.log")
            throw EnvironmentError.unhealthy("WAL segment \(seg) not archived after \(timeout): \(last?.summary ?? "no pg_stat_archiver")"
                                             + (why.map { "; pgBackRest's async log: \($0)" } ?? ""))
        }
    }

    /// The last ERROR or WARN line of a pgBackRest log (its last 64 KiB), nil when there is none.
    func lastProblem(inLog path: String) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        let end = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: end > 65_536 ? end - 65_536 : 0)
        let text = String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
        return text.split(separator: "\n").last { $0.contains(" ERROR: ") || $0.contains(" WARN: ") }.map(String.init)
    }

    /// `pg_stat_archiver` of `node` and its count of `.ready` segments.
    public func archiverStatus(_ node: String) throws -> ArchiverStatus {
        let c = try PGConnection(config.direct(node, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(2))
        defer { c.close() }
        let r = try c.exec("""
            select archived_count, last_archived_wal, last_archived_time::text, failed_count, last_failed_wal,
                   last_failed_time::text,
                   (select count(*) from pg_ls_archive_statusdir() where name like '%.ready'),
                   (last_failed_time is not null and last_failed_time > coalesce(last_archived_time, '-infinity'))
            from pg_stat_archiver
            """, timeout: .seconds(2))
        guard let row = r.rows.first else { throw EnvironmentError.unhealthy("pg_stat_archiver on \(node) is empty") }
        return ArchiverStatus(node: node, archivedCount: Int(row[0] ?? "") ?? 0, lastArchivedWal: row[1], lastArchivedTime: row[2],
                              failedCount: Int(row[3] ?? "") ?? 0, lastFailedWal: row[4], lastFailedTime: row[5],
                              waiting: Int(row[6] ?? "") ?? 0, failing: row[7] == "t")
    }

}
