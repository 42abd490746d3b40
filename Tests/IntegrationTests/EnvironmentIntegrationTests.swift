import Faultline
import FaultlineEnvironments
import FaultlinePG
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Integration {
    /// The local environment itself: bring-up, health by REST and by SQL, the endpoints, heal, teardown.
    @Suite struct LocalEnvironmentTests {
        @Test func upServesWritesAndReadsThenDownLeavesNothing() async throws {
            let cfg = ClusterFixture.config
            if let old = LocalEnvironment.existing(stateDir: cfg.stateDir, logger: ClusterFixture.logger) {
                try await old.down()
            }
            let env = LocalEnvironment(config: cfg, logger: ClusterFixture.logger)
            let report = try await env.up()

            // Health through Patroni's REST API.
            let s = report.status
            #expect(s.members.count == 3)
            #expect(s.members.filter(\.isLeader).count == 1)
            #expect(s.members.filter(\.isSync).count == 1)
            #expect(s.members.filter { !$0.isLeader }.allSatisfy { $0.state == "streaming" })
            #expect(s.healthy, "\(s.problems)")

            // Health through SQL: the leader's pg_stat_replication.
            let leader = try #require(s.leader?.name)
            let rows = try env.replicationRows(on: leader)
            #expect(rows.count == 2)
            #expect(rows.filter { $0.syncState == "sync" }.count == 1)
            #expect(rows.allSatisfy { $0.state == "streaming" })
            #expect(Set(rows.map(\.applicationName)) == Set(cfg.nodeNames).subtracting([leader]))

            // Write through PgBouncer and through HAProxy's read-write port; read back from a replica.
            let marker = "up-\(UInt32.random(in: 0...UInt32.max))"
            let viaPooler = try PGConnection(cfg.pooler)
            try viaPooler.exec("create table if not exists env_check(tag text, via text)")
            try viaPooler.exec("insert into env_check values ($1, 'pgbouncer')", [marker])
            viaPooler.close()
            let viaHAProxy = try PGConnection(cfg.readWrite)
            #expect(try viaHAProxy.exec("select pg_is_in_recovery()").scalar == "f")
            #expect(try viaHAProxy.exec("select host(inet_server_addr())").scalar == cfg.nodeIP(leader))
            try viaHAProxy.exec("insert into env_check values ($1, 'haproxy')", [marker])
            viaHAProxy.close()

            let replica = try PGConnection(cfg.readOnly)
            #expect(try replica.exec("select pg_is_in_recovery()").scalar == "t")
            var seen = 0
            for _ in 0..<50 where seen < 2 {
                seen = Int(try replica.exec("select count(*) from env_check where tag = $1", [marker]).scalar ?? "0") ?? 0
                if seen < 2 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(seen == 2, "both rows replicated to the replica behind the read-only port")
            replica.close()

            // A second `up` is refused and changes nothing.
            await #expect(throws: EnvironmentError.alreadyUp("local")) { try await env.up() }
            #expect(await env.status(withReplication: false).healthy)

            // Tear down: no namespace, no process, no mount, no state.
            let pids = try await cfg.allNetns.asyncFlatMap { try await env.pidsIn($0) }
            #expect(!pids.isEmpty)
            try await env.down()
            #expect(try await env.leftovers() == [])
            #expect(pids.allSatisfy { !Daemons.isAlive($0) }, "every process of the environment is gone")
            #expect(!FileManager.default.fileExists(atPath: cfg.stateDir))
        }

        @Test func healRestartsWhatIsDownAndRemovesFaultRules() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let env = fx.env
            let leader = try await fx.primaryName()
            let replica = try #require(env.config.nodeNames.first { $0 != leader })
            // Damage: a replica's Patroni and PostgreSQL killed, a DROP rule in another node's namespace.
            await env.daemons.stop("\(replica)-patroni", signal: SIGKILL, grace: .seconds(1))
            try? env.signalPostgres(replica, SIGKILL)
            let ruled = env.config.nodeNetns(leader)
            try await env.runner.run(["/usr/sbin/ip", "netns", "exec", ruled, "/usr/sbin/iptables", "-A", "INPUT", "-p", "tcp", "--dport", "9999", "-j", "DROP"])
            #expect(!env.daemons.isRunning("\(replica)-patroni"))

            let healed = try await env.heal()
            #expect(healed.healthy, "\(healed.problems)")
            #expect(env.daemons.isRunning("\(replica)-patroni"))
            let rules = try await env.runner.run(["/usr/sbin/ip", "netns", "exec", ruled, "/usr/sbin/iptables", "-S", "INPUT"]).stdout
            #expect(!rules.contains("9999"))
            #expect(try await fx.primaryName() == leader, "heal does not fail over a healthy primary")
        }

        /// Runs the built `faultline` with `args` against the tests' environment (a backup or a restore included, so up to
        /// 10 minutes); exit status and both outputs.
        static func cli(_ args: [String]) async throws -> (status: Int32, out: String, err: String) {
            let r = try await Shell.faultline(args, timeout: .minutes(10))
            return (r.status, r.stdout, r.stderr)
        }

        /// `faultline heal` is the one heal: the ledger's faults undone newest first (a real DROP rule here), Patroni's
        /// maintenance mode turned off, a real commit through HAProxy, the ledger emptied.
        @Test func healUndoesTheLedgerTurnsMaintenanceOffAndCommits() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let env = fx.env, n = env.config.nodeNames[0]
            let runnerEnv = LocalRunnerEnvironment(env)
            // percent 0: rules that match nothing, so the cluster is not disturbed; recorded first, as the runner does.
            let filters = [PacketFilter(peers: [.anyHost], percent: 0), PacketFilter(peers: [.clients], percent: 0)]
            for (i, f) in filters.enumerated() {
                try await fx.ledger.record(FaultLedgerEntry(id: "crashed/\(i + 1)", runId: "crashed", scenario: "test",
                                                            action: .dropPackets(member: n, filter: f),
                                                            reversal: .restorePackets(member: n, filter: f)))
                try await runnerEnv.apply(.dropPackets(member: n, filter: f))
            }
            #expect(try await !env.faultRules(n).isEmpty)
            _ = try HTTP.request("PATCH", env.config.restURL(n) + "/config", body: #"{"pause": true}"#, timeout: .seconds(3))
            #expect(env.maintenanceMode() == true)

            let r = try await Self.cli(["heal"])
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out.contains("2 faults undone"), "\(r.out)")
            let undo = r.out.split(separator: "\n").filter { $0.hasPrefix("undoing:") }
            #expect(undo.count == 2 && undo.first?.contains("clients") == true, "newest first: \(undo)")
            #expect(try await fx.ledger.entries().isEmpty)
            #expect(try await env.faultRules(n).isEmpty)
            #expect(env.maintenanceMode() == false, "maintenance mode off")
            let c = try PGConnection(env.config.readWrite, connectTimeout: .seconds(3))
            defer { c.close() }
            let at = try c.exec("select at from faultline_heal_check where id = 1", timeout: .seconds(5)).scalar
            #expect(at != nil, "the heal's own commit check wrote its row")
            #expect(try c.exec("select pg_is_in_recovery()", timeout: .seconds(5)).scalar == "f", "writes go to the primary")
        }

        /// `--environment nowhere` is refused alike by run, env, heal and load: one line naming the drivers, exit 2.
        /// `down` finds the nodes' tmpfs in the mount table however long it is: with a docker engine's overlay and volume
        /// mounts before them it read only the table's first ~4 KiB, left them mounted and failed ("Device or resource
        /// busy"). 40 padding mounts with long paths put the one looked for past the first 8 KiB.
        @Test func aMountPastTheFirstPagesOfTheMountTableIsFound() async throws {
            let base = "/tmp/faultline-mounttable-\(getpid())"
            let pad = String(repeating: "p", count: 150)
            var mounted: [String] = []
            defer {
                for m in mounted.reversed() { _ = umount(m) }
                try? FileManager.default.removeItem(atPath: base)
            }
            for i in 0..<40 {
                let dir = "\(base)/\(pad)\(i)"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                #expect(mount("faultline-pad", dir, "tmpfs", 0, "size=64k") == 0, "mount \(dir): errno \(errno)")
                mounted.append(dir)
            }
            let target = "\(base)/target"
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            #expect(!LocalEnvironment.isMountPoint(target))
            #expect(mount("faultline-target", target, "tmpfs", 0, "size=64k") == 0)
            mounted.append(target)
            #expect(LocalEnvironment.isMountPoint(target), "found in a mount table read to its end")
        }

        @Test func unknownEnvironmentIsRefusedEverywhere() async throws {
            for args in [["run", "kill-primary"], ["env", "status"], ["env", "up"], ["heal"], ["load", "--duration", "1s"]] {
                let r = try await Self.cli(args + ["--environment", "nowhere"])
                #expect(r.status == 2, "\(args): \(r.err)")
                #expect(r.err.split(separator: "\n").count == 1, "\(args): \(r.err)")
                #expect(r.err.contains("unknown environment 'nowhere'") && r.err.contains("local"), "\(args): \(r.err)")
            }
        }

        /// The CLI refuses to run as an ordinary user: one line on stderr, exit 5, nothing created.
        @Test func cliRefusesWhenNotRoot() async throws {
            let bin = try ScenarioIntegrationTests.faultlineBinary()
            let r = try await Shell.run(["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", bin, "env", "up",
                                         "--name-prefix", "fz", "--subnet", "10.99.0.0/24"],
                                        env: ["FAULTLINE_STATE_DIR": "/tmp/faultline-nonroot-check", "FAULTLINE_HOME": ClusterFixture.home],
                                        timeout: .minutes(1))
            let text = r.stderr
            #expect(r.status == 5)
            #expect(text.split(separator: "\n").count == 1)
            #expect(text.contains("must run as root"))
            #expect(!FileManager.default.fileExists(atPath: "/tmp/faultline-nonroot-check"))
        }

        /// A bring-up that cannot succeed (Patroni that exits at once) is tried twice, then fails naming the phase,
        /// and leaves nothing behind. A second environment beside the tests' one (its own subnet, prefix, state).
        @Test func failedBringUpRetriesNamesThePhaseAndLeavesNothing() async throws {
            var cfg = ClusterFixture.config
            cfg.stateDir = "/var/lib/faultline/uptest"
            cfg.subnet = "10.78.0.0/24"
            cfg.namePrefix = "fy"
            cfg.patroni = "/bin/false"
            cfg.observability = "off"
            let env = LocalEnvironment(config: cfg, logger: ClusterFixture.logger)
            do {
                _ = try await env.up(timeout: .seconds(20))
                Issue.record("a bring-up with a Patroni that exits at once succeeded")
                try await env.down()
            } catch let e as EnvironmentError {
                guard case .bringUpFailed(let phase, let attempts, _, let left) = e else {
                    Issue.record("not a bring-up failure: \(e)"); return
                }
                #expect(phase == "Patroni leader", "\(e)")
                #expect(attempts == 2)
                #expect(left.isEmpty, "\(left)")
                #expect(!e.description.contains("\n"))
            }
            #expect(try await env.leftovers().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "\(cfg.stateDir)/config.json"))
        }

        @Test func refusesWithDistinctExitCodes() async throws {
            var bad = ClusterFixture.config
            bad.subnet = "8.8.8.0/24"
            let env = LocalEnvironment(config: bad, logger: ClusterFixture.logger)
            do {
                _ = try await env.up()
                Issue.record("a public subnet was accepted")
            } catch let e as EnvironmentError {
                #expect(e.exitCode == 2)
                #expect(!e.description.contains("\n"))
            }
            var missing = ClusterFixture.config
            missing.patroni = "/nonexistent/patroni"
            do {
                _ = try await LocalEnvironment(config: missing, logger: ClusterFixture.logger).up()
                Issue.record("a missing Patroni was accepted")
            } catch let e as EnvironmentError {
                #expect(e == .requirementMissing("/nonexistent/patroni"))
                #expect(e.exitCode == 4)
            }
        }
    }
}

extension Sequence {
    func asyncFlatMap<T>(_ f: (Element) async throws -> [T]) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out += try await f(e) }
        return out
    }
}
