import Foundation
import Testing
@testable import FaultlineEnvironments

@Suite struct TemplateTests {
    @Test func substitutesEveryPlaceholder() throws {
        let t = Template("a: {{X}}\nb: {{Y}}-{{X}}\n", name: "t")
        #expect(t.placeholders == ["X", "Y"])
        #expect(try t.render(["X": "1", "Y": "two"]) == "a: 1\nb: two-1\n")
    }

    @Test func refusesUnresolvedPlaceholders() {
        let t = Template("a: {{X}}\nb: {{MISSING}}\n", name: "t")
        #expect(throws: Template.RenderError.unresolved(template: "t", placeholders: ["MISSING"])) {
            try t.render(["X": "1"])
        }
    }

    @Test func leavesDocumentingCommentsAlone() throws {
        let t = Template("# Placeholders: {{A}} {{B}}\n; also {{B}}\nkey: {{A}}\n", name: "t")
        #expect(t.placeholders == ["A"])
        #expect(try t.render(["A": "x"]) == "# Placeholders: {{A}} {{B}}\n; also {{B}}\nkey: x\n")
    }
}

/// Renders the shipped templates under environments/local with a real config.
@Suite struct ShippedTemplateTests {
    static let home = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func environment(_ mutate: (inout LocalConfig) -> Void = { _ in }) -> LocalEnvironment {
        var c = LocalConfig()
        c.home = Self.home
        c.stateDir = "/tmp/faultline-unit"
        mutate(&c)
        return LocalEnvironment(config: c, logger: .init(label: "test"))
    }

    let secrets = LocalEnvironment.SecretSet(superuser: "su-secret", replication: "repl-secret", rewind: "rw-secret", app: "app-secret")

    @Test func patroniConfigForNode2() throws {
        let env = environment()
        let text = try env.template("patroni.yml").render(env.values(node: "n2", secrets: secrets))
        #expect(text.contains("name: n2\n"))
        #expect(text.contains("listen: 10.77.0.12:8008"))
        #expect(text.contains("connect_address: 10.77.0.12:5432"))
        #expect(text.contains("etcd3:\n  hosts: 10.77.0.11:2379,10.77.0.12:2379,10.77.0.13:2379"))
        #expect(text.contains("synchronous_mode: true"))
        #expect(text.contains("use_pg_rewind: true"))
        #expect(text.contains("ttl: 20\n"))
        #expect(text.contains("data_dir: /tmp/faultline-unit/n2/pgdata/data"))
        #expect(text.contains("unix_socket_directories: '/tmp/faultline-unit/n2/run'"))
        #expect(text.contains("password: 'repl-secret'"))
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(!body.contains { $0.contains("{{") }, "every placeholder outside comments is resolved")
    }

    @Test func patroniTalksToEveryEtcdMemberOrOnlyItsOwn() throws {
        let all = environment()
        let a = try all.template("patroni.yml").render(all.values(node: "n2", secrets: secrets))
        #expect(a.contains("use_proxies: false\n"))
        let local = environment { $0.dcsEndpoints = "local" }
        let l = try local.template("patroni.yml").render(local.values(node: "n2", secrets: secrets))
        #expect(l.contains("etcd3:\n  hosts: 10.77.0.12:2379\n"))
        #expect(l.contains("use_proxies: true\n"))
        var bad = LocalConfig()
        bad.dcsEndpoints = "nearest"
        #expect(throws: EnvironmentError.badConfig("DCS endpoints 'nearest' must be all or local (--dcs-endpoints)")) { try bad.validate() }
    }

    @Test func seaweedFSGetsAnOwnTmpSoItsUnixSocketsDoNotMeetAnotherEnvironments() {
        let env = environment { $0.stateDir = "/var/lib/faultline/x2" }
        let argv = env.seaweedSpec.argv
        #expect(Array(argv.prefix(4)) == ["/usr/bin/unshare", "--mount", "--propagation", "private"])
        #expect(argv.contains("/var/lib/faultline/x2/archive/tmp"))
        #expect(argv.contains("server"), "the weed command follows")
        // Started from its own directory: a checkout under /tmp is hidden once /tmp is covered.
        let weed = URL(fileURLWithPath: env.config.weed)
        #expect(argv.contains(weed.deletingLastPathComponent().path) && argv.contains(weed.lastPathComponent))
        #expect(!argv.contains(env.config.weed))
    }

    @Test func dcsApiAndSubnetAreConfigurable() throws {
        let env = environment { $0.dcsAPI = "etcd"; $0.subnet = "192.168.57.0/24"; $0.ttl = 30 }
        let text = try env.template("patroni.yml").render(env.values(node: "n1", secrets: secrets))
        #expect(text.contains("\netcd:\n  hosts: 192.168.57.11:2379"))
        #expect(text.contains("host all all 192.168.57.0/24 scram-sha-256"))
        #expect(text.contains("ttl: 30\n"))
    }

    @Test func haproxyRoutesByPatroniChecks() throws {
        let env = environment()
        let text = try env.template("haproxy.cfg").render(env.values(node: nil, secrets: secrets))
        let rw = text.components(separatedBy: "listen rw")[1].components(separatedBy: "listen ro")[0]
        #expect(rw.contains("uri /primary"))
        #expect(rw.contains("server n3 10.77.0.13:5432 check port 8008"))
        let ro = text.components(separatedBy: "listen ro")[1]
        #expect(ro.contains("uri /replica"))
        #expect(text.contains("on-marked-down shutdown-sessions"))
        #expect(text.contains("bind 10.77.0.1:7000"))
    }

    @Test func pgbouncerIsTransactionPoolingInFrontOfHAProxy() throws {
        let env = environment()
        let text = try env.template("pgbouncer.ini").render(env.values(node: nil, secrets: secrets))
        #expect(text.contains("pool_mode = transaction"))
        #expect(text.contains("faultline = host=127.0.0.1 port=5000 dbname=faultline"))
        #expect(text.contains("listen_addr = 10.77.0.1,127.0.0.1"))
        #expect(!text.contains("app-secret"), "the password lives in the userlist, not the ini")
    }

    @Test func pgbouncerServesTheSameDatabaseInSessionModeToo() throws {
        let env = environment()
        let text = try env.template("pgbouncer.ini").render(env.values(node: nil, secrets: secrets))
        #expect(text.contains("faultline_session = host=127.0.0.1 port=5000 dbname=faultline pool_mode=session"))
        let c = LocalConfig()
        #expect(c.poolerSession.contains("port=6432") && c.poolerSession.contains("dbname=faultline_session"))
        #expect(c.poolerAdmin.contains("dbname=pgbouncer"))
    }

    @Test func etcdMembersKnowEachOther() throws {
        let env = environment()
        let text = try env.template("etcd.conf.yml").render(env.values(node: "n3", secrets: secrets))
        #expect(text.contains("name: n3"))
        #expect(text.contains("initial-cluster: n1=http://10.77.0.11:2380,n2=http://10.77.0.12:2380,n3=http://10.77.0.13:2380"))
        #expect(text.contains("enable-v2: true"))
        #expect(text.contains("pre-vote: true"))
        #expect(text.contains("enable-grpc-gateway: true"))
    }
}

@Suite struct LocalConfigTests {
    @Test func addressesDeriveFromTheSubnet() {
        var c = LocalConfig()
        c.subnet = "10.99.3.0/24"
        #expect(c.clientIP == "10.99.3.1")
        #expect(c.hostIP == "10.99.3.254")
        #expect(c.nodeNames == ["n1", "n2", "n3"])
        #expect(c.nodeIP("n2") == "10.99.3.12")
        #expect(c.readWrite.contains("host=10.99.3.1 port=5000"))
        #expect(!c.readWrite.contains("password"))
    }

    @Test(arguments: ["10.77.0.0/16", "8.8.8.0/24", "10.77.0.5/24", "nonsense", "300.1.1.0/24"])
    func refusesBadSubnets(_ subnet: String) {
        var c = LocalConfig()
        c.subnet = subnet
        #expect(throws: EnvironmentError.self) { try c.validate() }
        do { try c.validate() } catch { #expect(error.exitCode == 2) }
    }

    @Test func refusesUnsafeTiming() {
        var c = LocalConfig()
        c.ttl = 10
        c.loopWait = 2
        c.retryTimeout = 5
        #expect(throws: EnvironmentError.self) { try c.validate() }
    }

    @Test func savedConfigFromAnOlderVersionTakesDefaultsForNewSettings() throws {
        let old = #"{"subnet":"10.66.0.0/24","stateDir":"/var/lib/x","ttl":25}"#
        let c = try #require(LocalConfig.decode(Data(old.utf8)))
        #expect(c.subnet == "10.66.0.0/24" && c.stateDir == "/var/lib/x" && c.ttl == 25)
        #expect(c.namePrefix == "fl" && c.nodeCount == 3)
        #expect(LocalConfig.decode(Data("not json".utf8)) == nil)
    }

    @Test func acceptsTheDefaults() throws {
        try LocalConfig().validate()
    }
}

@Suite struct ClusterStatusTests {
    /// Recorded from Patroni 4.1.5's GET /cluster on the local environment.
    static let healthy = #"""
    {"members": [{"name": "n1", "role": "leader", "state": "running", "api_url": "http://10.77.0.11:8008/patroni", "host": "10.77.0.11", "port": 5432, "timeline": 1}, {"name": "n2", "role": "replica", "state": "streaming", "api_url": "http://10.77.0.12:8008/patroni", "host": "10.77.0.12", "port": 5432, "timeline": 1, "receive_lag": 0, "receive_lsn": "0/447FAF0", "replay_lag": 0, "replay_lsn": "0/447FAF0", "lag": 0, "lsn": "0/447FAF0"}, {"name": "n3", "role": "sync_standby", "state": "streaming", "api_url": "http://10.77.0.13:8008/patroni", "host": "10.77.0.13", "port": 5432, "timeline": 1, "receive_lag": 0, "receive_lsn": "0/447FAF0", "replay_lag": 0, "replay_lsn": "0/447FAF0", "lag": 0, "lsn": "0/447FAF0"}], "scope": "faultline"}
    """#

    @Test func parsesMembersRolesAndLag() throws {
        let m = try ClusterStatus.members(fromPatroniCluster: Self.healthy, expected: ["n1", "n2", "n3"])
        #expect(m.map(\.name) == ["n1", "n2", "n3"])
        #expect(m[0].isLeader && m[0].timeline == 1 && m[0].lagBytes == nil)
        #expect(m[2].isSync && m[2].lagBytes == 0)
        #expect(ClusterStatus.problems(members: m, expected: 3, sync: 1).isEmpty)
    }

    @Test func absentMemberIsDownAndUnhealthy() throws {
        let oneGone = #"{"members": [{"name": "n2", "role": "leader", "state": "running", "host": "10.77.0.12", "timeline": 2}, {"name": "n3", "role": "sync_standby", "state": "streaming", "host": "10.77.0.13", "timeline": 2, "lag": 0}]}"#
        let m = try ClusterStatus.members(fromPatroniCluster: oneGone, expected: ["n1", "n2", "n3"])
        #expect(m.first { $0.name == "n1" }?.role == "down")
        let p = ClusterStatus.problems(members: m, expected: 3, sync: 1)
        #expect(p == ["1 of 2 replicas streaming (n1 absent)"])
    }

    @Test func flagsTwoLeadersTimelineSplitAndMissingSync() throws {
        let split = #"{"members": [{"name": "n1", "role": "leader", "state": "running", "timeline": 2}, {"name": "n2", "role": "leader", "state": "running", "timeline": 3}, {"name": "n3", "role": "replica", "state": "streaming", "timeline": 2, "lag": "unknown"}]}"#
        let m = try ClusterStatus.members(fromPatroniCluster: split, expected: ["n1", "n2", "n3"])
        #expect(m[2].lagBytes == nil, "'unknown' lag is not a number")
        let p = ClusterStatus.problems(members: m, expected: 3, sync: 1)
        #expect(p.contains("2 leaders: n1,n2"))
        #expect(p.contains("0 of 1 synchronous standbys"))
    }

    /// The stale view seen right after `isolate-primary-long` healed: the old primary n1 still answers
    /// that it leads on timeline 1, while n2 and n3 agree on n2 leading on timeline 2.
    static let staleOldPrimary = #"{"members": [{"name": "n1", "role": "leader", "state": "running", "timeline": 1}, {"name": "n2", "role": "sync_standby", "state": "streaming", "timeline": 1, "lag": 0}, {"name": "n3", "role": "replica", "state": "streaming", "timeline": 1, "lag": 0}]}"#
    static let newLeader = #"{"members": [{"name": "n1", "role": "replica", "state": "stopped", "timeline": 1}, {"name": "n2", "role": "leader", "state": "running", "timeline": 2}, {"name": "n3", "role": "sync_standby", "state": "streaming", "timeline": 2, "lag": 0}]}"#

    func view(_ node: String, _ json: String) throws -> ClusterStatus.View {
        .init(node: node, members: try ClusterStatus.members(fromPatroniCluster: json, expected: ["n1", "n2", "n3"]))
    }

    @Test func aMemberWithAStaleViewIsOutvotedAndMarked() throws {
        let c = try #require(ClusterStatus.consensus([try view("n1", Self.staleOldPrimary), try view("n2", Self.newLeader),
                                                     try view("n3", Self.newLeader)]))
        #expect(c.members.first(where: \.isLeader)?.name == "n2")
        #expect(c.members.first { $0.name == "n1" }?.state == "disagrees")
        #expect(c.dissent == ["n1 says leader n1/tl1, 2 member(s) say n2/tl2"])
        #expect(!ClusterStatus.problems(members: c.members, expected: 3, sync: 1).isEmpty, "n1 is not streaming")
    }

    @Test func firstAnswerAloneNoLongerDecides() throws {
        // Only n1 and n2 answer, each with its own view: the higher timeline wins the tie.
        let c = try #require(ClusterStatus.consensus([try view("n1", Self.staleOldPrimary), try view("n2", Self.newLeader)]))
        #expect(c.members.first(where: \.isLeader)?.name == "n2")
        #expect(c.dissent.count == 1)
        // A stale leader marked "disagrees" is no primary for the runner either.
        #expect(try view("n1", Self.staleOldPrimary).members[0].isLeader)
        #expect(!c.members.contains { $0.name == "n1" && $0.isLeader })
    }

    /// Right after the bootstrap the leader's member key has no timeline yet in some views, as recorded by polling
    /// every member's GET /cluster each 50 ms during a bring-up that then failed with "no leader" (2026-12-08).
    static let leaderWithoutTimelineYet = #"{"members": [{"name": "n1", "role": "leader", "state": "running"}, {"name": "n2", "role": "replica", "state": "stopped"}, {"name": "n3", "role": "replica", "state": "stopped"}]}"#
    static let leaderWithTimeline = #"{"members": [{"name": "n1", "role": "leader", "state": "running", "timeline": 1}, {"name": "n2", "role": "replica", "state": "stopped"}, {"name": "n3", "role": "replica", "state": "stopped"}]}"#

    @Test func aLeaderSomeViewsShowWithoutItsTimelineYetIsStillTheLeader() throws {
        // Whichever member sees the timeline first, and however many do: one leader, n1 on timeline 1, no dissent.
        // (Counted apart, the leader's own view with the timeline lost 2 to 1 and n1 was marked "disagrees".)
        for withTimeline in [["n1"], ["n2"], ["n1", "n3"], ["n2", "n3"]] {
            let views = try ["n1", "n2", "n3"].map { n in
                try view(n, withTimeline.contains(n) ? Self.leaderWithTimeline : Self.leaderWithoutTimelineYet)
            }
            let c = try #require(ClusterStatus.consensus(views))
            #expect(c.members.filter(\.isLeader).map(\.name) == ["n1"], "timeline seen by \(withTimeline)")
            #expect(c.members.first(where: \.isLeader)?.timeline == 1)
            #expect(c.dissent.isEmpty)
        }
    }

    @Test func aViewWithoutATimelineStillDissentsWhenItNamesAnotherLeader() throws {
        // The stale old primary, named leader without a timeline, against two views of n2 on timeline 2.
        let staleNoTimeline = #"{"members": [{"name": "n1", "role": "leader", "state": "running"}, {"name": "n2", "role": "replica", "state": "streaming"}]}"#
        let c = try #require(ClusterStatus.consensus([try view("n1", staleNoTimeline), try view("n2", Self.newLeader),
                                                     try view("n3", Self.newLeader)]))
        #expect(c.members.first(where: \.isLeader)?.name == "n2")
        #expect(c.dissent == ["n1 says leader n1/tl?, 2 member(s) say n2/tl2"])
    }

    @Test func agreeingViewsHaveNoDissent() throws {
        let c = try #require(ClusterStatus.consensus([try view("n1", Self.healthy), try view("n2", Self.healthy), try view("n3", Self.healthy)]))
        #expect(c.dissent.isEmpty)
        #expect(ClusterStatus.problems(members: c.members, expected: 3, sync: 1).isEmpty)
        #expect(ClusterStatus.consensus([]) == nil)
    }

    /// Recorded shape of Debian's Patroni 3.0.2: replicas are "running", never "streaming".
    @Test func legacyPatroniRunningReplicasCountAsStreaming() throws {
        let legacy = #"{"members": [{"name": "n1", "role": "leader", "state": "running", "timeline": 1}, {"name": "n2", "role": "sync_standby", "state": "running", "timeline": 1, "lag": 0}, {"name": "n3", "role": "replica", "state": "running", "timeline": 1, "lag": 0}]}"#
        let m = try ClusterStatus.members(fromPatroniCluster: legacy, expected: ["n1", "n2", "n3"])
        #expect(ClusterStatus.problems(members: m, expected: 3, sync: 1).isEmpty)
        // With a current Patroni, one streaming replica means "running" is not streaming.
        let modern = legacy.replacingOccurrences(of: #""role": "sync_standby", "state": "running""#, with: #""role": "sync_standby", "state": "streaming""#)
        let m2 = try ClusterStatus.members(fromPatroniCluster: modern, expected: ["n1", "n2", "n3"])
        #expect(ClusterStatus.problems(members: m2, expected: 3, sync: 1) == ["1 of 2 replicas streaming (n3 running)"])
    }

    @Test func rejectsAnswersWithoutMembers() {
        #expect(throws: (any Error).self) { try ClusterStatus.members(fromPatroniCluster: #"{"scope":"x"}"#, expected: []) }
    }
}

@Suite struct SecretsTests {
    @Test(arguments: [
        ("host=a password=hunter2 user=b", "host=a password=*** user=b"),
        ("PGPASSWORD=hunter2 psql", "PGPASSWORD=*** psql"),
        (#"{"password": "hunter2"}"#, #"{"password": ***}"#),
        ("postgresql://app:hunter2@10.0.0.1/db", "postgresql://app:***@10.0.0.1/db"),
        ("host=a user=b", "host=a user=b"),
    ])
    func masksPasswords(_ pair: (String, String)) {
        #expect(Secrets.mask(pair.0) == pair.1)
        #expect(!Secrets.mask(pair.0).contains("hunter2"))
    }
}

@Suite struct DaemonSpecTests {
    @Test func launchesThroughNamespaceAndUserKeepingThePid() {
        let spec = DaemonSpec(name: "n1-patroni", netns: "fl-n1", user: "postgres", environment: ["HOME": "/h"], argv: ["/bin/patroni", "/c.yml"])
        let argv = spec.launchArgv(pidFile: "/p/n1.pid", logFile: "/l/n1.log")
        #expect(Array(argv.prefix(3)) == ["/usr/bin/setsid", "-f", "/bin/sh"])
        let tail = Array(argv.suffix(from: argv.firstIndex(of: "/p/n1.pid")!))
        #expect(tail == ["/p/n1.pid", "/l/n1.log", "/usr/bin/nsenter", "--net=/run/netns/fl-n1",
                         "/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
                         "/usr/bin/env", "HOME=/h", "/bin/patroni", "/c.yml"])
        #expect(argv[4].contains("exec \"$@\""), "the shell execs, so the recorded pid is the daemon's")
    }
}
