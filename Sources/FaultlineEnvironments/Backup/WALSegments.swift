import Foundation

/// A WAL segment's name, `TTTTTTTTLLLLLLLLSSSSSSSS` (timeline, log, segment; 8 hex digits each), for PostgreSQL's
/// default 16 MiB segments: 256 segments a log, so after `…000000FF` comes the next log's `…00000000`. Pure.
public struct WALSegment: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let segmentsPerLog: UInt64 = 0x1_0000_0000 / (16 << 20)

    public var timeline: UInt32
    public var log: UInt32
    public var seg: UInt32

    public init(timeline: UInt32, log: UInt32, seg: UInt32) {
        precondition(UInt64(seg) < Self.segmentsPerLog, "segment \(seg) past the last of a log")
        (self.timeline, self.log, self.seg) = (timeline, log, seg)
    }

    /// Parses exactly 24 hex digits (either case); nil otherwise, or for a segment number a 16 MiB log cannot have.
    public init?(_ name: String) {
        guard name.utf8.count == 24, name.utf8.allSatisfy({ $0 < 128 && ($0 as UInt8).isHexDigit }) else { return nil }
        let u = Array(name.utf8)
        func part(_ i: Int) -> UInt32? { UInt32(String(decoding: u[(i * 8)..<(i * 8 + 8)], as: UTF8.self), radix: 16) }
        guard let t = part(0), let l = part(1), let s = part(2), UInt64(s) < Self.segmentsPerLog else { return nil }
        (timeline, log, seg) = (t, l, s)
    }

    /// Parses, or throws `BackupParseError.segment`.
    public static func parse(_ name: String) throws(BackupParseError) -> WALSegment {
        guard let s = WALSegment(name) else { throw .segment(name) }
        return s
    }

    /// Position in the WAL stream, whatever the timeline.
    public var position: UInt64 { UInt64(log) * Self.segmentsPerLog + UInt64(seg) }

    public init(timeline: UInt32, position: UInt64) {
        self.init(timeline: timeline, log: UInt32(position / Self.segmentsPerLog), seg: UInt32(position % Self.segmentsPerLog))
    }

    /// The segment after this one on the same timeline.
    public var next: WALSegment { WALSegment(timeline: timeline, position: position + 1) }

    public var name: String { String(format: "%08X%08X%08X", timeline, log, seg) }
    public var description: String { name }

    public static func < (a: Self, b: Self) -> Bool { (a.position, a.timeline) < (b.position, b.timeline) }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool { (48...57).contains(self) || (65...70).contains(self) || (97...102).contains(self) }
}

/// Gaps in a WAL archive, and the archive's listing as pgBackRest prints it. Pure.
public enum WALSegments {
    /// Every segment position from `from` through `through` that is archived on no timeline between `from`'s and
    /// `through`'s (a timeline switch is not a gap). A missing segment is named on the timeline of the last segment
    /// found before it (`from`'s at first). Empty when `through` comes before `from`.
    public static func missing(present: Set<String>, from: String, through: String) throws(BackupParseError) -> [String] {
        let a = try WALSegment.parse(from), b = try WALSegment.parse(through)
        guard a.position <= b.position else { return [] }
        let have = Set(present.compactMap { WALSegment($0) })
        let timelines = Array(min(a.timeline, b.timeline)...max(a.timeline, b.timeline)).reversed()
        var current = a.timeline
        var gaps: [String] = []
        for p in a.position...b.position {
            if let t = timelines.first(where: { have.contains(WALSegment(timeline: $0, position: p)) }) {
                current = t
            } else {
                gaps.append(WALSegment(timeline: current, position: p).name)
            }
        }
        return gaps
    }

    /// The segment an archived file holds: `000000010000000000000003-<40 hex sha1>[.lz4|.gz|…]`, any directory
    /// before it. Nil for history files (`00000002.history`), backup labels (`….00000028.backup`) and partial
    /// segments (`….partial-<sha1>…`).
    public static func segment(ofArchiveFile path: String) -> String? {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let u = Array(file.utf8)
        guard u.count >= 65, u[24] == UInt8(ascii: "-"), u[0..<24].allSatisfy(\.isHexDigit),
              u[25..<65].allSatisfy(\.isHexDigit), u.count == 65 || u[65] == UInt8(ascii: ".") else { return nil }
        let name = String(decoding: u[0..<24], as: UTF8.self)
        return WALSegment(name)?.name
    }

    /// The segment files of `pgbackrest repo-ls --recurse --output=json archive/<stanza>` (2.45: an object keyed by the
    /// path relative to the listed one, each value `{"type": "file"|"path"|…, "size", "time"}`): segment name → paths.
    public static func archiveFiles(repoLsJSON data: Data) throws(BackupParseError) -> [String: [String]] {
        struct Entry: Decodable { var type: String }
        let entries: [String: Entry]
        do { entries = try JSONDecoder().decode([String: Entry].self, from: data) } catch {
            throw .listing("cannot decode JSON: \(BackupCatalog.snippet(String(decoding: data, as: UTF8.self)))")
        }
        var out: [String: [String]] = [:]
        for (path, e) in entries where e.type == "file" {
            if let s = segment(ofArchiveFile: path) { out[s, default: []].append(path) }
        }
        return out.mapValues { $0.sorted() }
    }

    /// The segments of `repo-ls --recurse` in its text form (one path a line).
    public static func segments(repoLsText text: String) -> Set<String> {
        Set(text.split(whereSeparator: \.isNewline).compactMap { segment(ofArchiveFile: String($0)) })
    }
}
