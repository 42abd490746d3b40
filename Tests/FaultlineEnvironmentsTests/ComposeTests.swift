import Foundation
import Logging
import Testing
@testable import FaultlineEnvironments

/// The compose environment's pure parts: the image's content hash and tag, a build's failing step, the env file and
/// command line the compose file is run with, its settings, and its configs rendered from the local templates.
@Suite struct ComposeTests {
    static let home = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Two blocks (56 bytes of message: the padding spills into a second block).
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func contextHashChangesWithAnyFileAndNotWithOrder() {
        let a: [(path: String, bytes: [UInt8])] = [("Dockerfile", Array("FROM debian:bookworm\n".utf8)), ("node-start", Array("#!/bin/bash\n".utf8))]
        let h = ComposeImages.contextHash(a)
        #expect(h.count == 64)
        #expect(ComposeImages.contextHash(a.reversed()) == h, "the order files are listed in does not matter")
        var changed = a
        changed[0].bytes = Array("FROM debian:bookworm\nRUN true\n".utf8)
        #expect(ComposeImages.contextHash(changed) != h, "a changed Dockerfile is a new image")
        var renamed = a
        renamed[1].path = "proxy-start"
        #expect(ComposeImages.contextHash(renamed) != h, "a renamed file is a new image")
        // A byte moved from one file's end to the next one's start is a different context.
        let moved: [(path: String, bytes: [UInt8])] = [("a", [1, 2]), ("b", [3])]
        let moved2: [(path: String, bytes: [UInt8])] = [("a", [1]), ("b", [2, 3])]
        #expect(ComposeImages.contextHash(moved) != ComposeImages.contextHash(moved2))
        #expect(ComposeImages.tag(hash: h) == "faultline/node:\(h.prefix(16))")
    }

    @Test func failingStepIsTheLastStepLine() {
        let out = """
            Step 1/9 : FROM debian:bookworm
             ---> 36202e414e97
            Step 5/9 : RUN python3 -m venv /opt/patroni && pip install patroni==9.9.9
             ---> Running in 5721c3e6b417
            ERROR: No matching distribution found for patroni==9.9.9
            """
        #expect(ComposeImages.failingStep(in: out) == "Step 5/9 : RUN python3 -m venv /opt/patroni && pip install patroni==9.9.9")
        #expect(ComposeImages.failingStep(in: "Sending build context to Docker daemon\nerror\n") == nil)
    }

    @Test func envFileAndCommandLine() {
        var c = ComposeConfig(home: "/src")
        c.image = "faultline/node:0123456789abcdef"
        #expect(c.envFileText == """
            FAULTLINE_COMPOSE_PROJECT=faultline-compose
            FAULTLINE_COMPOSE_IMAGE=faultline/node:0123456789abcdef
            FAULTLINE_COMPOSE_PREFIX=10.79.0
            FAULTLINE_COMPOSE_STATE=/var/lib/faultline/compose
            FAULTLINE_COMPOSE_WEED=/src/.venv/bin/weed
            FAULTLINE_COMPOSE_DATA_MIB=2048

            """)
        #expect(c.composeArgv(["up", "-d"]) == ["/usr/bin/docker-compose", "--no-ansi", "-p", "faultline-compose", "-f",
                                                "/src/environments/compose/docker-compose.yml", "--env-file",
                                                "/var/lib/faultline/compose/compose.env", "up", "-d"])
        #expect(c.container("n2") == "faultline-compose-n2")
        // The local address plan: proxy at .1 (HAProxy, PgBouncer), nodes .11-.13, Patroni's REST API on 8008.
        #expect(c.local.readWrite.hasPrefix("host=10.79.0.1 port=5000 "))
        #expect(c.local.restURL("n3") == "http://10.79.0.13:8008")
        #expect(c.local.passfile == "/var/lib/faultline/compose/pgpass")
    }

    @Test func refusesTheLocalSubnetAndForeignProjects() throws {
        try ComposeConfig().validate()
        #expect(throws: EnvironmentError.self) { try ComposeConfig(subnet: "10.77.0.0/24").validate() }
        #expect(throws: EnvironmentError.self) { try ComposeConfig(subnet: "8.8.8.0/24").validate() }
        var c = ComposeConfig()
        c.project = "myapp"
        #expect(throws: EnvironmentError.self) { try c.validate() }
        #expect(ComposeConfig.decode(try JSONEncoder().encode(c)) == c)
    }

    @Test func driverNeverTakesTheLocalStateDirOrSubnet() {
        let vars = ["FAULTLINE_STATE_DIR": "/var/lib/faultline/hc", "FAULTLINE_SUBNET": "10.78.0.0/24"]
        let d = ComposeDriver(DriverContext(home: "/src", variables: vars, logger: Logger(label: "t")))
        #expect(d.stateDir == "/var/lib/faultline/compose")
        #expect(d.config(UpSettings()).local.subnet == "10.79.0.0/24")
        let explicit = ComposeDriver(DriverContext(home: "/src", stateDir: "/var/lib/faultline/c2", variables: vars, logger: Logger(label: "t")))
        #expect(explicit.stateDir == "/var/lib/faultline/c2")
        var s = UpSettings()
        s.subnet = "10.80.0.0/24"
        #expect(d.config(s).local.subnet == "10.80.0.0/24")
        #expect(Drivers.names.contains("compose"))
        #expect(d.config(UpSettings()).local.observability == "ci")
        var off = UpSettings()
        off.alerts = "off"
        #expect(d.config(off).local.observabilityEnabled == false)
        // The known-bad control: Debian's Patroni 3.0.2 in the same image; the reference by default.
        var debian = UpSettings()
        debian.patroni = "debian"
        #expect(d.config(debian).local.patroni == "/usr/bin/patroni")
        #expect(d.config(UpSettings()).local.patroni == "/opt/patroni/bin/patroni")
    }

    @Test func configsAreTheLocalTemplatesWithTheComposeAddresses() throws {
        let env = ComposeEnvironment(config: ComposeConfig(home: Self.home), logger: Logger(label: "t"))
        let secrets = LocalEnvironment.SecretSet(superuser: "su-secret", replication: "repl-secret", rewind: "rw-secret", app: "app-secret",
                                                 s3AccessKey: "S3KEYA", s3SecretKey: "s3-secret-a", s3AccessKeyB: "S3KEYB", s3SecretKeyB: "s3-secret-b")
        let files = try env.renderedFiles(secrets: secrets)
        #expect(Set(files.keys) == ["n1", "n2", "n3", "proxy", "s3b/daemons", "proxy/observability", "proxy/daemons",
                                    "n1/daemons", "n2/daemons", "n3/daemons", "n1/observability", "n2/observability", "n3/observability"])
        // The shared alert rules and a Prometheus that scrapes the nodes' Patroni and sends to the proxy's Alertmanager.
        let prometheus = try #require(files["proxy/observability"]?.first { $0.name == "prometheus.yml" }?.text)
        #expect(prometheus.contains("'10.79.0.12:8008'") && prometheus.contains("targets: ['10.79.0.1:9093']"))
        #expect(try #require(files["proxy/observability"]?.first { $0.name == "alerts.rules.yml" }?.text).contains("alert: FaultlinePrimaryDown"))
        let patroni = try #require(files["n2"]?.first { $0.name == "patroni.yml" }?.text)
        // What local renders for the same node, with compose's subnet and state dir: the same files, archiving included.
        var local = LocalConfig()
        local.home = Self.home
        local.subnet = "10.79.0.0/24"
        local.stateDir = "/var/lib/faultline/compose"
        local.patroni = "/opt/patroni/bin/patroni"
        let l = LocalEnvironment(config: local, logger: Logger(label: "t"))
        #expect(patroni == (try l.template("patroni.yml").render(l.values(node: "n2", secrets: secrets))))
        #expect(patroni.contains("listen: 10.79.0.12:8008"))
        #expect(patroni.contains("ttl: 20") && patroni.contains("loop_wait: 2") && patroni.contains("retry_timeout: 5"))
        #expect(patroni.contains("archive_command: '/usr/bin/pgbackrest --config=/var/lib/faultline/compose/n2/pgbackrest/pgbackrest.conf --stanza=faultline archive-push %p'"))
        let pgbackrest = try #require(files["n2"]?.first { $0.name == "pgbackrest.conf" }?.text)
        #expect(pgbackrest == (try l.template("pgbackrest.conf").render(l.values(node: "n2", secrets: secrets))))
        #expect(pgbackrest.contains("repo1-s3-endpoint=10.79.0.1\n") && pgbackrest.contains("repo2-s3-endpoint=10.79.0.3\n"))
        #expect(pgbackrest.contains("repo1-storage-ca-file=/var/lib/faultline/compose/archive/tls/ca.crt"))
        #expect(files["n2"]?.first { $0.name == "patroni-bin" }?.text == "/opt/patroni/bin/patroni\n")
        // The object stores: region A in the proxy at .1, region B in s3b at .3, the local SeaweedFS argv with the mounted binary.
        let weedA = try #require(files["proxy/daemons"]?.first { $0.name == "seaweedfs" }?.text).split(separator: "\n").map(String.init)
        #expect(weedA == ArchivingConfig.weedArgv(weed: "/usr/local/bin/weed", dataDir: "/var/lib/faultline/compose/archive/data", ip: "10.79.0.1",
                                                  cert: "/var/lib/faultline/compose/archive/tls/s3.crt", key: "/var/lib/faultline/compose/archive/tls/s3.key",
                                                  identities: "/var/lib/faultline/compose/archive/s3-identities.json"))
        #expect(try #require(files["s3b/daemons"]?.first { $0.name == "seaweedfs" }?.text).contains("-ip=10.79.0.3\n"))
        // The exporters: the local specs as argv (runuser to prometheus, env for the variables); no password in any argv.
        let pgExporter = try #require(files["n2/daemons"]?.first { $0.name == "pg-exporter" }?.text)
        #expect(pgExporter.hasPrefix("/usr/sbin/runuser\n-u\nprometheus\n--\n/usr/bin/env\n"))
        #expect(pgExporter.contains("DATA_SOURCE_PASS_FILE=/var/lib/faultline/compose/observability/monitor.pass\n"))
        #expect(pgExporter.contains("--web.listen-address=10.79.0.12:9187\n"))
        #expect(files["n2/observability"]?.first { $0.name == "monitor.pass" }?.text == "app-secret")
        let proxyDaemons = try #require(files["proxy/daemons"]).map(\.name)
        #expect(Set(proxyDaemons) == ["seaweedfs", "node-exporter", "pgbouncer-exporter"])
        let bouncer = try #require(files["proxy/daemons"]?.first { $0.name == "pgbouncer-exporter" }?.text)
        #expect(bouncer.contains("/opt/patroni/bin/python\n/var/lib/faultline/compose/observability/pgbouncer_exporter.py\n--listen\n10.79.0.1:9127\n"))
        for (service, list) in files where service.hasSuffix("/daemons") {
            for f in list { #expect(!f.text.contains("app-secret") && !f.text.contains("s3-secret"), "no secret in \(service)/\(f.name)") }
        }
        #expect(patroni.contains("hosts: 10.79.0.11:2379,10.79.0.12:2379,10.79.0.13:2379"))
        let haproxy = try #require(files["proxy"]?.first { $0.name == "haproxy.cfg" }?.text)
        #expect(haproxy.contains("server n3 10.79.0.13:5432 check port 8008"))
        #expect(haproxy.contains("inter 1s fastinter 300ms downinter 300ms fall 2 rise 1"))
        let etcd = try #require(files["n1"]?.first { $0.name == "etcd.conf.yml" }?.text)
        #expect(etcd.contains("initial-cluster: n1=http://10.79.0.11:2380,n2=http://10.79.0.12:2380,n3=http://10.79.0.13:2380"))
        #expect(files["proxy"]?.first { $0.name == "userlist.txt" }?.text == "\"faultline\" \"app-secret\"\n")
    }

    @Test func subnetsOverlap() {
        #expect(ComposeEnvironment.overlaps("10.81.0.0/24", "10.81.0.0/24") == true)
        #expect(ComposeEnvironment.overlaps("10.81.0.0/16", "10.81.7.0/24") == true)
        #expect(ComposeEnvironment.overlaps("10.81.0.254", "10.81.0.0/24") == true)
        #expect(ComposeEnvironment.overlaps("10.81.1.0/24", "10.81.0.0/24") == false)
        #expect(ComposeEnvironment.overlaps("0.0.0.0/0", "10.81.0.0/24") == true)
        #expect(ComposeEnvironment.overlaps("local", "10.81.0.0/24") == nil)
        #expect(ComposeEnvironment.overlaps("10.81.0.0/33", "10.81.0.0/24") == nil)
    }

    /// A subnet or container name already taken by something else is a conflict; this project's own network and
    /// containers (a leftover of a crashed run), other subnets and the default route are not.
    @Test func conflictsNameWhatHoldsTheSubnetOrTheNames() {
        let names = ["faultline-cf-n1", "faultline-cf-n2", "faultline-cf-n3", "faultline-cf-proxy"]
        let routes = """
            default via 10.0.0.1 dev eth0
            10.77.0.0/24 dev fl-host proto kernel scope link src 10.77.0.254
            10.81.0.0/24 dev br-0123456789ab proto kernel scope link src 10.81.0.254
            local 10.81.0.254 dev br-0123456789ab table local proto kernel scope host src 10.81.0.254
            """
        let ours: [(name: String, project: String, subnets: [String])] = [("faultline-cf_net", "faultline-cf", ["10.81.0.0/24"]),
                                                                         ("br-0123456789ab", "faultline-cf", [])]
        #expect(ComposeEnvironment.conflicts(subnet: "10.81.0.0/24", project: "faultline-cf", containerNames: names, routes: routes,
                                             networks: ours, containers: [("faultline-cf-n1", "faultline-cf"), ("other", "")]) == [])
        let localRoute = "10.81.0.0/24 dev fl-cf-host proto kernel scope link src 10.81.0.254"
        #expect(ComposeEnvironment.conflicts(subnet: "10.81.0.0/24", project: "faultline-cf", containerNames: names, routes: localRoute,
                                             networks: [], containers: [])
                == ["subnet 10.81.0.0/24 is routed on the host through 'fl-cf-host' (10.81.0.0/24)"])
        let squatter: [(name: String, project: String, subnets: [String])] = [("squat", "", ["10.81.0.0/16"]), ("br-ffffffffffff", "", [])]
        #expect(ComposeEnvironment.conflicts(subnet: "10.81.0.0/24", project: "faultline-cf", containerNames: names,
                                             routes: "10.81.0.0/16 dev br-ffffffffffff proto kernel", networks: squatter,
                                             containers: [("faultline-cf-n2", "")])
                == ["subnet 10.81.0.0/24 overlaps Docker network 'squat' (10.81.0.0/16)",
                    "container name 'faultline-cf-n2' is taken by a container that is not project faultline-cf's"])
    }
}
