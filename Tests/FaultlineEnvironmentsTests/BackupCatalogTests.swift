import Faultline
import Foundation
import Testing
@testable import FaultlineEnvironments

/// `pgbackrest info --output=json` parsed, `newestGood`, and `faultline backup list`'s table and JSON.
@Suite struct BackupCatalogTests {
    func catalog(_ json: String = BackupFixtures.info) throws -> BackupCatalog { try BackupCatalog.parse(Data(json.utf8)) }

    @Test func parsesEveryBackupWithItsRepositoryTimesSizesAndWAL() throws {
        let c = try catalog()
        #expect(c.stanza == "demo" && c.status == BackupStatus(code: 0, message: "ok"))
        #expect(c.backups.map(\.label) == ["20261201-183935F", "20261201-183935F_20261201-183948D",
                                           "20261201-183935F_20261201-183951I", "20261201-183941F"], "by repository, then stop")
        #expect(c.backups(repo: 1).map(\.type) == [.full, .diff, .incr])
        let full2 = try #require(c.backups(repo: 2).first)
        #expect(full2 == BackupRecord(repo: 2, label: "20261201-183941F", type: .full, start: 1796150381, stop: 1796150387,
                                      size: 22992593, repoSize: 4522374, walStart: "000000010000000000000003",
                                      walStop: "000000010000000000000004", error: false, prior: nil))
        #expect(full2.durationSeconds == 6)
        let incr = try #require(c.backups(repo: 1).last)
        #expect(incr.prior == "20261201-183935F_20261201-183948D" && incr.repoSize == 5376015 && incr.size == 26621649)
        #expect(c.archive(repo: 1) == RepoArchive(repo: 1, id: "15-1", min: "000000010000000000000001", max: "000000020000000000000008"))
        #expect(c.archive(repo: 2)?.max == "000000020000000000000008")
        #expect(c.repoStatus[1]?.ok == true && c.repoStatus[2]?.ok == true)
        #expect(c.repositories == [1, 2])
    }

    @Test func newestGoodSkipsBackupsWithErrorsAndFiltersByType() throws {
        let c = try catalog()
        #expect(c.newestGood(repo: 1)?.label == "20261201-183935F_20261201-183951I")
        #expect(c.newestGood(repo: 1, type: .full)?.label == "20261201-183935F")
        #expect(c.newestGood(repo: 1, type: .diff)?.label == "20261201-183935F_20261201-183948D")
        #expect(c.newestGood(repo: 2, type: .incr) == nil)
        #expect(c.newestGood(repo: 3) == nil)
        // The incr, newest of repo1, with page errors: the diff before it is the newest good one.
        let bad = try catalog(BackupFixtures.info.replacingOccurrences(of: #""error":false,"info":{"delta":8458"#,
                                                                      with: #""error":true,"info":{"delta":8458"#))
        #expect(bad.backups(repo: 1).last?.error == true)
        #expect(bad.newestGood(repo: 1)?.label == "20261201-183935F_20261201-183948D")
    }

    @Test func anUnreadableRepositoryKeepsTheOthersBackupsAndSaysWhy() throws {
        let c = try catalog(BackupFixtures.infoRepo2Unreadable)
        #expect(c.status == BackupStatus(code: 4, message: "different across repos"))
        #expect(c.repoStatus[2]?.code == 99 && c.repoStatus[2]?.message.contains("Permission denied") == true)
        #expect(c.backups(repo: 2).isEmpty && c.archive(repo: 2) == nil)
        #expect(c.backups(repo: 1).count == 3)
        #expect(c.repositories == [1, 2], "repo2 is still listed")
    }

    @Test func noiseBeforeTheJSONIsSkippedAndGarbageIsAnError() throws {
        let c = try catalog("WARN: repo2: [FileMissingError] something pgBackRest said\n" + BackupFixtures.info)
        #expect(c.backups.count == 4)
        #expect(throws: BackupParseError.self) { try catalog("ERROR: [055]: unable to load info file") }
        #expect(throws: BackupParseError.self) { try catalog("[]") }
        #expect(throws: BackupParseError.self) { try BackupCatalog.parse(Data(BackupFixtures.info.utf8), stanza: "other") }
        #expect(throws: BackupParseError.self) { try catalog(BackupFixtures.info.replacingOccurrences(of: #""type":"incr""#, with: #""type":"snap""#)) }
        // A stanza with no backups yet (right after stanza-create).
        let empty = try catalog(#"[{"archive":[],"backup":[],"cipher":"none","db":[],"name":"faultline","repo":[{"cipher":"none","key":1,"status":{"code":2,"message":"no valid backups"}}],"status":{"code":2,"lock":{"backup":{"held":false}},"message":"no valid backups"}}]"#)
        #expect(empty.backups.isEmpty && empty.newestGood(repo: 1) == nil && empty.status.code == 2)
    }

    @Test func unknownRepositoriesAreRefusedNamingTheKnownOnes() {
        #expect(throws: Never.self) { try BackupRepositories.check(1) }
        #expect(throws: Never.self) { try BackupRepositories.check(2) }
        do {
            try BackupRepositories.check(3)
            Issue.record("repository 3 accepted")
        } catch {
            #expect(error.description == "bad configuration: unknown repository 3; this environment has repositories 1 and 2")
            #expect(error.exitCode == 2)
        }
    }

    @Test func textListingHasATablePerRepositoryInHumanUnits() throws {
        let now = Date(timeIntervalSince1970: 1796150393 + 7200)
        let text = BackupListing(try catalog(), now: now).text()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "stanza demo: ok")
        let r1 = try #require(lines.firstIndex { $0.hasPrefix("repository 1:") })
        #expect(lines[r1] == "repository 1: ok, 3 backups, WAL archive 000000010000000000000001..000000020000000000000008")
        #expect(lines[r1 + 1].hasPrefix("  type  label ") && lines[r1 + 1].contains("start (UTC)") && lines[r1 + 1].contains("age"))
        let full = lines[r1 + 2]
        for part in ["full", "20261201-183935F ", "2026-12-01 18:39:35", "2026-12-01 18:39:40", "5s", "21.9 MiB", "4.3 MiB",
                     "000000010000000000000002..000000010000000000000002", "2h 00m"] {
            #expect(full.contains(part), "\(part) in \(full)")
        }
        #expect(lines[r1 + 4].contains("incr") && lines[r1 + 4].contains("5.1 MiB") && lines[r1 + 4].hasSuffix("2h 00m"))
        let r2 = try #require(lines.firstIndex { $0.hasPrefix("repository 2:") })
        #expect(lines[r2] == "repository 2: ok, 1 backup, WAL archive 000000010000000000000001..000000020000000000000008")
        #expect(lines[r2 + 2].contains("20261201-183941F") && lines[r2 + 2].contains("6s") && lines[r2 + 2].hasSuffix("2h 00m"))
        // Columns line up: every row of a table starts its label at the same column.
        let col = lines[r1 + 1].range(of: "label")!.lowerBound.utf16Offset(in: lines[r1 + 1])
        #expect(lines[r1 + 2].dropFirst(col).hasPrefix("20261201-183935F"))
        #expect(lines[r1 + 4].dropFirst(col).hasPrefix("20261201-183935F_20261201-183951I"))

        let one = BackupListing(try catalog(), now: now, repo: 2).text()
        #expect(one.contains("repository 2:") && !one.contains("repository 1:"))
        let unreadable = BackupListing(try catalog(BackupFixtures.infoRepo2Unreadable), now: now, repo: 2).text()
        #expect(unreadable.contains("repository 2: [PathOpenError]") && unreadable.contains("0 backups, WAL archive empty"))
    }

    @Test func errorBackupsAreMarked() throws {
        let bad = try catalog(BackupFixtures.info.replacingOccurrences(of: #""error":false,"info":{"delta":8458"#,
                                                                      with: #""error":true,"info":{"delta":8458"#))
        let rows = BackupListing(bad, now: Date(timeIntervalSince1970: 1796150400)).text().split(separator: "\n")
        #expect(rows.filter { $0.hasSuffix("ERROR") }.count == 1)
        #expect(rows.first { $0.hasSuffix("ERROR") }?.contains("incr") == true)
    }

    @Test func jsonListingIsStableWithSortedKeysAndAges() throws {
        let now = Date(timeIntervalSince1970: 1796150400.7)
        let a = BackupListing(try catalog(), now: now).json()
        #expect(a == BackupListing(try catalog(), now: now).json())
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(a.utf8)) as? [String: Any])
        #expect(obj.keys.sorted() == ["now", "repositories", "stanza", "status"])
        #expect(obj["now"] as? Int == 1796150400)
        let repos = try #require(obj["repositories"] as? [[String: Any]])
        #expect(repos.map { $0["repo"] as? Int } == [1, 2])
        let full2 = try #require((repos[1]["backups"] as? [[String: Any]])?.first)
        #expect(full2["label"] as? String == "20261201-183941F" && full2["ageSeconds"] as? Int == 13 && full2["repoSizeBytes"] as? Int == 4522374)
        #expect(full2["type"] as? String == "full" && full2["walStop"] as? String == "000000010000000000000004")
        // Keys in order in the text itself: those of the first backup entry.
        let entry = try #require(a.range(of: #""backups" : ["#)).upperBound
        let body = a[entry...].prefix { $0 != "}" }
        let keys = body.split(separator: "\n").compactMap { $0.split(separator: "\"", maxSplits: 2).dropFirst().first.map(String.init) }
        #expect(keys.count == 11 && keys == keys.sorted(), "\(keys)")
    }

    @Test func humanUnits() {
        #expect(BackupListing.bytes(493) == "493 B")
        #expect(BackupListing.bytes(8458) == "8.3 KiB")
        #expect(BackupListing.bytes(22992593) == "21.9 MiB")
        #expect(BackupListing.bytes(3 << 30) == "3.0 GiB")
        #expect(BackupListing.duration(5) == "5s")
        #expect(BackupListing.duration(200) == "3m 20s")
        #expect(BackupListing.duration(7300) == "2h 01m")
        #expect(BackupListing.duration(93600) == "1d 02h")
        #expect(BackupListing.duration(-45) == "-45s")
        #expect(BackupListing.utc(1796150375) == "2026-12-01 18:39:35")
    }
}
