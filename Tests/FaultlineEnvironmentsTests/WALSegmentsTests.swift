import Foundation
import Testing
@testable import FaultlineEnvironments

/// WAL segment names, the next segment, gaps across timelines, and the archive listing of pgBackRest 2.45.
@Suite struct WALSegmentsTests {
    @Test func parsesTheThreePartsAndRoundTrips() throws {
        let s = try #require(WALSegment("00000002000000A3000000FE"))
        #expect(s.timeline == 2 && s.log == 0xA3 && s.seg == 0xFE)
        #expect(s.name == "00000002000000A3000000FE")
        #expect(WALSegment("00000002000000a3000000fe")?.name == "00000002000000A3000000FE", "lower case is read, upper case written")
        for bad in ["", "0000000100000000000000", "0000000100000000000000011", "00000001000000000000000G", "00000002.history",
                    "000000010000000000000100", " 00000001000000000000001"] {
            #expect(WALSegment(bad) == nil, "\(bad)")
        }
        #expect(throws: BackupParseError.segment("nope")) { try WALSegment.parse("nope") }
    }

    @Test func nextWrapsTheSegmentIntoTheNextLog() throws {
        #expect(WALSegment("000000010000000000000003")?.next.name == "000000010000000000000004")
        #expect(WALSegment("0000000100000000000000FF")?.next.name == "000000010000000100000000")
        #expect(WALSegment("00000003000000FF000000FF")?.next.name == "000000030000010000000000")
        #expect(WALSegment.segmentsPerLog == 256)
    }

    @Test func ordersByPositionThenTimeline() throws {
        let names = ["000000020000000000000008", "000000010000000000000009", "000000010000000000000008", "0000000100000000000000FF",
                     "000000010000000100000000"]
        #expect(names.compactMap(WALSegment.init).sorted().map(\.name) == ["000000010000000000000008", "000000020000000000000008",
                                                                          "000000010000000000000009", "0000000100000000000000FF",
                                                                          "000000010000000100000000"])
    }

    @Test func missingFindsGapsAcrossALogBoundary() throws {
        let present: Set<String> = ["0000000100000000000000FD", "0000000100000000000000FE", "000000010000000100000001"]
        #expect(try WALSegments.missing(present: present, from: "0000000100000000000000FD", through: "000000010000000100000001")
            == ["0000000100000000000000FF", "000000010000000100000000"])
        #expect(try WALSegments.missing(present: present, from: "0000000100000000000000FD", through: "0000000100000000000000FE") == [])
        #expect(try WALSegments.missing(present: [], from: "000000010000000000000003", through: "000000010000000000000001") == [])
        #expect(throws: BackupParseError.self) { try WALSegments.missing(present: [], from: "x", through: "000000010000000000000001") }
    }

    @Test func aTimelineSwitchIsNotAGap() throws {
        // Recorded: timeline 1 up to 09, the promotion's timeline 2 from 08 on.
        let repo1 = try WALSegments.archiveFiles(repoLsJSON: Data(BackupFixtures.repoLs1.utf8))
        let present = Set(repo1.keys)
        #expect(try WALSegments.missing(present: present, from: "000000010000000000000001", through: "000000020000000000000008") == [])
        // Segments 05 (removed) and 09 on timeline 2 (never written there, but 09 of timeline 1 is): only 05 is missing.
        let repo2 = Set(try WALSegments.archiveFiles(repoLsJSON: Data(BackupFixtures.repoLs2.utf8)).keys)
        #expect(try WALSegments.missing(present: repo2, from: "000000010000000000000001", through: "000000020000000000000009")
            == ["000000010000000000000005"])
        // Past the last segment of timeline 2, missing ones are named on timeline 2; timelines outside from..through don't count.
        #expect(try WALSegments.missing(present: present, from: "000000020000000000000008", through: "00000002000000000000000B")
            == ["000000020000000000000009", "00000002000000000000000A", "00000002000000000000000B"])
        #expect(try WALSegments.missing(present: ["000000030000000000000002"], from: "000000010000000000000001",
                                        through: "000000020000000000000002") == ["000000010000000000000001", "000000010000000000000002"])
    }

    @Test func archiveListingKeepsOnlySegments() throws {
        let repo1 = try WALSegments.archiveFiles(repoLsJSON: Data(BackupFixtures.repoLs1.utf8))
        #expect(repo1.keys.sorted() == (1...9).map { String(format: "0000000100000000000000%02X", $0) } + ["000000020000000000000008"],
                "no history file, .backup label, path or archive.info")
        #expect(repo1["000000010000000000000003"] == ["15-1/0000000100000000/000000010000000000000003-9d5e2659553b3b16aece5b95e3ebf16fa3676f93.lz4"])
        let repo2 = try WALSegments.archiveFiles(repoLsJSON: Data(BackupFixtures.repoLs2.utf8))
        #expect(repo2["000000010000000000000005"] == nil && repo2.count == 9)
        #expect(WALSegments.segments(repoLsText: BackupFixtures.repoLs1Text)
            == ["000000010000000000000008", "000000010000000000000009", "000000020000000000000008"])
        #expect(try WALSegments.archiveFiles(repoLsJSON: Data(#"{".":{"type":"path"}}"#.utf8)).isEmpty, "an empty archive")
        #expect(throws: BackupParseError.self) { try WALSegments.archiveFiles(repoLsJSON: Data("15-1\narchive.info\n".utf8)) }
    }

    @Test func archiveFileNames() {
        let sha = "98688d75b9f8e38333fceac12a336280d32220ec"
        #expect(WALSegments.segment(ofArchiveFile: "000000010000000000000001-\(sha).lz4") == "000000010000000000000001")
        #expect(WALSegments.segment(ofArchiveFile: "15-1/0000000100000000/000000010000000000000001-\(sha)") == "000000010000000000000001")
        #expect(WALSegments.segment(ofArchiveFile: "000000010000000000000001-\(sha).gz") == "000000010000000000000001")
        for not in ["00000002.history", "000000010000000000000002.00000028.backup", "000000010000000000000008.partial-\(sha).lz4",
                    "000000010000000000000001-\(sha)x", "000000010000000000000001-\(sha.prefix(39)).lz4", "archive.info"] {
            #expect(WALSegments.segment(ofArchiveFile: not) == nil, "\(not)")
        }
    }
}
