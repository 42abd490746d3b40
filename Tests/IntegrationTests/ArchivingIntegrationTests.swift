import Faultline
import FaultlineEnvironments
import FaultlinePG
import Foundation
import Testing

extension Integration {
    /// WAL archiving on the real local environment: a switched segment lands in SeaweedFS (pgBackRest
    /// sees it, archive-get returns the same bytes, over verified TLS), and the wal-archive-failure
    /// scenario passes and leaves nothing behind.
    @Suite(.serialized) struct Archiving {
        /// Polls `body` every 200 ms for at most `seconds`.
        func eventually<T>(_ seconds: Int, _ body: () throws -> T?) async throws -> T? {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if let v = try body() { return v }
                try await Task.sleep(for: .milliseconds(200))
            }
            return try body()
        }

        @Test func aSwitchedSegmentLandsInSeaweedFSAndComesBackByteForByte() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let env = fx.env
            let primary = try await fx.primaryName()
            let seg = try env.switchWal(primary)
            let archived = try await eventually(30) { () -> ArchiverStatus? in
                let s = try env.archiverStatus(primary)
                return (s.lastArchivedWal ?? "") >= seg ? s : nil
            }
            let status = try #require(archived, "segment \(seg) archived within 30 s: \((try? env.archiverStatus(primary).summary) ?? "?")")
            #expect(!status.failing)

            // pgBackRest's own view of the repository in the bucket.
            let info = try await env.pgbackrest(primary, ["info", "--output=json"])
            let stanzas = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [[String: Any]])
            let archive = try #require((stanzas.first?["archive"] as? [[String: Any]])?.first)
            #expect((archive["max"] as? String ?? "") >= seg, "pgbackrest info: \(archive)")
            // Each repository's status: 0 "ok" or 2 "no valid backups" (only WAL archived, before any drill's backup);
            // 99, "other", would be an unreachable one. (The stanza's own status is 4, "different across repos", while
            // only one of them holds a backup.)
            let repos = try #require(stanzas.first?["repo"] as? [[String: Any]])
            #expect(repos.count == 2, "repo1 and repo2: \(info.stdout)")
            for repo in repos {
                let code = (repo["status"] as? [String: Any])?["code"] as? Int
                #expect(code == 0 || code == 2, "\(info.stdout)")
            }

            // archive-get on a replica returns the primary's segment byte for byte.
            let replica = try #require(env.config.nodeNames.first { $0 != primary })
            let fetched = "\(env.config.pgbackrestDir(replica))/fetched-\(seg)"
            defer { try? FileManager.default.removeItem(atPath: fetched) }
            try await env.pgbackrest(replica, ["archive-get", seg, fetched])
            let got = try Data(contentsOf: URL(fileURLWithPath: fetched))
            #expect(got.count == 16 << 20)
            let original = try Data(contentsOf: URL(fileURLWithPath: "\(env.config.dataDir(primary))/pg_wal/\(seg)"))
            #expect(got == original, "the archived copy of \(seg) equals pg_wal's")

            // TLS is verified: with the system CAs instead of the environment's CA, the store is refused.
            let bundle = "/etc/ssl/certs/ca-certificates.crt"
            if FileManager.default.fileExists(atPath: bundle) {
                let r = try await env.pgbackrest(primary, ["info", "--repo1-storage-ca-file=\(bundle)", "--io-timeout=1"], check: false)
                #expect(r.stdout.contains("certificate") || r.stderr.contains("certificate"), "\(r.stdout) \(r.stderr)")
            }
        }

        /// The slow first segment of a bring-up, provoked as the bring-up met it: stanza-create (which holds
        /// pgBackRest's archive lock) right after a WAL switch. The switched segment's async push then quits on the
        /// lock and its `archive_command` waits out archive-timeout (60 s); `pushReadySegments`, which the bring-up
        /// runs after stanza-create, must get it archived at once. Up to 10 tries to hit the race (2 of 2 by hand,
        /// 2026-12-07; each miss costs ~3.5 s).
        @Test func aPushAfterStanzaCreateArchivesTheSegmentItsLockHeldUp() async throws {
            let fx = try await ClusterFixture.ensureUp()
            let env = fx.env
            let primary = try await fx.primaryName()
            let log = "\(env.config.pgbackrestDir(primary))/log/\(ArchivingConfig.stanza)-archive-push-async.log"
            func lockRefusals() -> Int {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: "unable to acquire lock").count - 1
            }
            let c = try PGConnection(fx.direct(primary, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(3))
            defer { c.close() }
            _ = try c.exec("create table if not exists faultline_archive_kick (at timestamptz)", timeout: .seconds(5))
            var stuck: String?
            for attempt in 1...10 where stuck == nil {
                let refusals = lockRefusals()
                _ = try c.exec("insert into faultline_archive_kick values (now())", timeout: .seconds(5))
                let seg = try env.switchWal(primary)
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...40)))
                let create = try await env.pgbackrest(primary, ["stanza-create", "--io-timeout=10"], check: false)
                // [050]: the race went the other way (the async push had the lock); the bring-up's poll retries that.
                #expect(create.succeeded || create.output.contains("[050]"), "stanza-create: \(create.output)")
                try await Task.sleep(for: .seconds(3))
                let last = try env.archiverStatus(primary).lastArchivedWal ?? ""
                if last < seg {
                    #expect(lockRefusals() > refusals, "try \(attempt): \(seg) waits, and its async push quit on the lock")
                    stuck = seg
                }
            }
            let seg = try #require(stuck, "the race was not hit in 10 tries")
            await env.pushReadySegments(on: primary)
            let done = try await eventually(15) { () -> ArchiverStatus? in
                let s = try env.archiverStatus(primary)
                return (s.lastArchivedWal ?? "") >= seg ? s : nil
            }
            #expect(done != nil, "\(seg) archived within 15 s of the push, not after archive-timeout: \((try? env.archiverStatus(primary).summary) ?? "?")")
            _ = try c.exec("drop table faultline_archive_kick", timeout: .seconds(5))
        }

        @Test func walArchiveFailureFiresResolvesCatchesUpAndLeavesNothing() async throws {
            let (obs, v, fx) = try await Integration.FaultIntegrationTests().run("wal-archive-failure")
            #expect(obs.harnessErrors.isEmpty, "\(obs.harnessErrors)")
            for verdict in v { #expect(verdict.result.status == .passed, "\(verdict.id): \(verdict.result) \(verdict.notes)") }
            #expect(v.contains { $0.id.contains("alert-firing") } && v.contains { $0.id.contains("alert-resolved") }, "\(v.map(\.id))")
            #expect(try #require(v.first { $0.id == "lost-writes" }).result == .passed(measured: .count(0), target: .count(0)))

            // While the store was unreachable the primary's archiving failed and the switched segment waited in pg_wal.
            let notes = obs.probes?.notes ?? []
            let injected = try #require(notes.first { $0.hasPrefix("break-archiving") && $0.contains("closed ") }, "\(notes)")
            let seg = try #require(injected.split(separator: " ").first { $0.count == 25 && $0.hasSuffix(";") }).dropLast()
            let beforeHeal = try #require(notes.first { $0.contains("before the heal") }, "\(notes)")
            #expect(beforeHeal.contains("FAILING") && !beforeHeal.contains(" 0 waiting"), "\(beforeHeal)")

            // After the heal: that segment archived, and the failure count no longer rises.
            let primary = try await fx.primaryName()
            let caughtUp = try await eventually(30) { () -> ArchiverStatus? in
                let s = try fx.env.archiverStatus(primary)
                return (s.lastArchivedWal ?? "") >= String(seg) && !s.failing ? s : nil
            }
            let s1 = try #require(caughtUp, "archiving caught up past \(seg): \((try? fx.env.archiverStatus(primary).summary) ?? "?")")
            try await Task.sleep(for: .seconds(5))
            let s2 = try fx.env.archiverStatus(primary)
            #expect(s2.failedCount == s1.failedCount && !s2.failing, "failures stopped: \(s1.summary) then \(s2.summary)")
        }
    }
}

