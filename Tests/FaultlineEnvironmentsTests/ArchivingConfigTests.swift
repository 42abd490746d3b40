import Foundation
import Testing
@testable import FaultlineEnvironments

/// The archiving setup's pure parts: the pgBackRest and Patroni configs rendered from the shipped
/// templates, SeaweedFS' identities and arguments, the certificate extensions, the fault's rules.
@Suite struct ArchivingConfigTests {
    func environment() -> LocalEnvironment {
        var c = LocalConfig()
        c.home = ShippedTemplateTests.home
        c.stateDir = "/tmp/faultline-unit"
        return LocalEnvironment(config: c, logger: .init(label: "test"))
    }

    let secrets = LocalEnvironment.SecretSet(superuser: "su", replication: "repl", rewind: "rw", app: "app",
                                             s3AccessKey: "AKUNITTEST", s3SecretKey: "s3-secret-unit")

    @Test func pgbackrestConfigOfNode2PointsAtTheTLSStoreWithItsOwnPaths() throws {
        let env = environment()
        let text = try env.template("pgbackrest.conf").render(env.values(node: "n2", secrets: secrets))
        let lines = Set(text.split(separator: "\n").map(String.init))
        for want in ["repo1-type=s3", "repo1-s3-endpoint=10.77.0.1", "repo1-storage-port=8333", "repo1-s3-bucket=faultline",
                     "repo1-storage-ca-file=/tmp/faultline-unit/archive/tls/ca.crt", "repo1-s3-uri-style=path",
                     "repo1-s3-key=AKUNITTEST", "repo1-s3-key-secret=s3-secret-unit", "io-timeout=1",
                     "[faultline]", "pg1-path=/tmp/faultline-unit/n2/pgdata/data", "pg1-socket-path=/tmp/faultline-unit/n2/run",
                     "log-path=/tmp/faultline-unit/n2/pgbackrest/log", "lock-path=/tmp/faultline-unit/n2/pgbackrest/lock"] {
            #expect(lines.contains(want), "missing \(want)")
        }
        #expect(!text.split(separator: "\n").filter { !$0.hasPrefix("#") }.contains { $0.contains("{{") })
        #expect(!text.contains("repo1-storage-verify-tls=n"), "TLS is verified")
    }

    /// The half-made-stanza clean-up at bring-up removes `/buckets/<bucket><repoPath>`: it must be the repository's path.
    @Test func repoPathConstantIsTheTemplatesRepo1Path() throws {
        let env = environment()
        let text = try env.template("pgbackrest.conf").render(env.values(node: "n1", secrets: secrets))
        #expect(text.split(separator: "\n").contains("repo1-path=\(ArchivingConfig.repoPath)"))
        #expect(ArchivingConfig.setupIOTimeoutSeconds > ArchivingConfig.ioTimeoutSeconds)
    }

    @Test func patroniArchivesThroughPgBackRestAndRestoresThroughArchiveGet() throws {
        let env = environment()
        let text = try env.template("patroni.yml").render(env.values(node: "n3", secrets: secrets))
        let conf = "/tmp/faultline-unit/n3/pgbackrest/pgbackrest.conf"
        #expect(text.contains("archive_mode: 'on'"))
        #expect(text.contains("archive_command: '/usr/bin/pgbackrest --config=\(conf) --stanza=faultline archive-push %p'"))
        #expect(text.contains("restore_command: '/usr/bin/pgbackrest --config=\(conf) --stanza=faultline archive-get %f \"%p\"'"))
        // archive-push rejects --pg1-socket-path on its command line (pgBackRest 2.45): it stays in the file.
        #expect(!text.contains("--pg1-socket-path"))
        #expect(!text.contains("AKUNITTEST") && !text.contains("s3-secret-unit"), "the S3 keys stay in pgbackrest.conf")
    }

    @Test func seaweedIdentitiesHoldTheKeyPair() throws {
        let json = ArchivingConfig.identities(accessKey: "AK1", secretKey: "SK1")
        let obj = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let ids = try #require(obj["identities"] as? [[String: Any]])
        #expect(ids.count == 1)
        let creds = try #require(ids[0]["credentials"] as? [[String: String]])
        #expect(creds == [["accessKey": "AK1", "secretKey": "SK1"]])
        #expect((ids[0]["actions"] as? [String])?.contains("Write") == true)
    }

    @Test func serverCertificateNamesTheAddressAsDNSAndIP() {
        let ext = ArchivingConfig.serverCertExtensions(ip: "10.91.0.1")
        #expect(ext.contains("subjectAltName=DNS:10.91.0.1,IP:10.91.0.1"))
        #expect(ext.contains("extendedKeyUsage=serverAuth"))
    }

    @Test func weedServesS3OverHTTPSWithTelemetryOff() {
        let a = ArchivingConfig.weedArgv(weed: "/w", dataDir: "/d", ip: "10.91.0.1", cert: "/c", key: "/k", identities: "/i")
        #expect(Array(a.prefix(2)) == ["/w", "server"])
        for want in ["-master.telemetry=false", "-filer", "-s3", "-s3.port=8333", "-s3.cert.file=/c", "-s3.key.file=/k",
                     "-s3.config=/i", "-ip.bind=10.91.0.1", "-s3.port.iceberg=0", "-s3.port.lance=0"] {
            #expect(a.contains(want), "missing \(want)")
        }
    }

    @Test func breakArchivingDropsOnlyTheObjectStorePortWithoutProbeExemptions() {
        let env = environment()
        let rules = env.packetRules(.init(peers: [.anyHost], services: [.objectStore]), on: "n1")
        #expect(rules.first.isEmpty, "no RETURN exemption: the harness's PostgreSQL probe is not on this port")
        #expect(rules.drops.count == 4)
        #expect(rules.drops.allSatisfy { $0.contains("8333") && $0.last == "DROP" })
        #expect(rules.drops.contains(["-o", "eth0", "-p", "tcp", "--dport", "8333", "-m", "comment", "--comment", "faultline", "-j", "DROP"]))
    }

    @Test func archiverSummarySaysFailingAndWhatWaits() {
        var s = ArchiverStatus(node: "n1", archivedCount: 7, lastArchivedWal: "000000010000000000000004", lastArchivedTime: "t1",
                               failedCount: 3, lastFailedWal: "000000010000000000000005", lastFailedTime: "t2", waiting: 2, failing: true)
        #expect(s.summary == "n1: FAILING, 7 archived (last 000000010000000000000004 at t1), 3 failed (last 000000010000000000000005 at t2), 2 waiting in pg_wal")
        s.failing = false
        s.waiting = 0
        #expect(s.summary == "n1: ok, 7 archived (last 000000010000000000000004 at t1), 3 failed, 0 waiting in pg_wal")
    }
}

@Suite struct BringUpErrorTests {
    @Test func aFailedBringUpNamesItsPhaseAndWhatWasLeft() {
        let clean = EnvironmentError.bringUpFailed(phase: "Patroni leader", attempts: 2, reason: "daemon exited: n1-patroni", leftovers: [])
        #expect(clean.description == "env up failed in phase 'Patroni leader' (2 attempts): daemon exited: n1-patroni; torn down, nothing left behind")
        #expect(clean.exitCode == 3)
        let dirty = EnvironmentError.bringUpFailed(phase: "etcd quorum", attempts: 1, reason: "x", leftovers: ["netns fl-n1"])
        #expect(dirty.description.hasSuffix("left behind: netns fl-n1"))
        #expect(!dirty.description.contains("\n"))
    }
}
