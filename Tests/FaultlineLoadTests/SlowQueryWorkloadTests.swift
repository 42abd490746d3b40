import Faultline
@testable import FaultlineLoad
import Foundation
import Testing

/// The slow-query workload's statements and parameters (docs/query-optimization.md).
@Suite struct SlowQueryWorkloadTests {
    static let w = SlowQueryWorkload.orders
    static let context = SlowQueryWorkload.Context(maxOrderID: 1_000_000, customers: 10_000, now: Date(timeIntervalSince1970: 1_796_600_000))

    @Test func namesAndLookup() throws {
        #expect(SlowQueryWorkload.names == ["orders-slow"])
        #expect(SlowQueryWorkload.named("nope") == nil)
        #expect(Self.w.queries.map(\.name) == ["time-window", "comment-search", "recent-page", "insert", "update-status"])
        #expect(Self.w.queries.filter { !$0.write }.map(\.weight).reduce(0, +) == 100)
        #expect(Self.w.queries.filter(\.write).map(\.weight).reduce(0, +) == 100)
        // pg_stat_statements keeps a parameterised statement's text; whitespace may differ.
        let page = try #require(Self.w.query("recent-page"))
        #expect(Self.w.query(matching: "SELECT id, customer_id, status, amount_cents, created_at\n  FROM orders ORDER BY id DESC LIMIT $2 OFFSET $1")?.name == "recent-page")
        #expect(Self.w.query(matching: page.rewrittenSQL!.replacingOccurrences(of: "LIMIT 20", with: "LIMIT $2"))?.name == "recent-page")
        #expect(Self.w.query(matching: "SELECT id, customer_id, status, amount_cents, created_at FROM orders ORDER BY id DESC LIMIT $2 OFFSET $1 FOR UPDATE") == nil)
        #expect(Self.w.query(matching: "SELECT 1") == nil)
    }

    @Test func representativeParameters() throws {
        let window = try #require(Self.w.query("time-window"))
        let p = Self.w.representative(window, context: Self.context)
        #expect(p.count == 2)
        let f = ISO8601DateFormatter()
        let start = try #require(f.date(from: p[0]!)), end = try #require(f.date(from: p[1]!))
        #expect(end.timeIntervalSince(start) == 3600)
        #expect(abs(Self.context.now.timeIntervalSince(start) - 182 * 86400) < 3600)
        #expect(Self.w.representative(try #require(Self.w.query("comment-search")), context: Self.context) == ["Memo 424242"])
        let page = try #require(Self.w.query("recent-page"))
        // The middle of 5,000 pages of 20: OFFSET 50,000; its keyset twin starts below the id at that offset.
        #expect(Self.w.representative(page, context: Self.context) == ["50000"])
        #expect(Self.w.representative(page, context: Self.context, rewritten: true) == ["950001"])
    }

    @Test func drawnParametersStayInRange() {
        var rng = SplitMix64(seed: 7)
        let small = SlowQueryWorkload.Context(maxOrderID: 1000, customers: 10, now: Self.context.now)
        for _ in 0..<500 {
            let r = (rng.next(), rng.next())
            let page = Self.w.parameters(Self.w.query("recent-page")!, r, context: small)
            let offset = Int(page[0]!)!
            #expect(offset >= 0 && offset < 500 && offset % 20 == 0)
            let keyset = Int(Self.w.parameters(Self.w.query("recent-page")!, r, context: small, rewritten: true)[0]!)!
            #expect(keyset == 1001 - offset)
            let memo = Self.w.parameters(Self.w.query("comment-search")!, r, context: small)[0]!
            #expect(memo.hasPrefix("Memo ") && Int(memo.dropFirst(5))! < 1_000_000)
            let update = Self.w.parameters(Self.w.query("update-status")!, r, context: small)
            #expect((1...1000).contains(Int(update[0]!)!))
        }
    }

    @Test func picksByWeight() {
        var rng = SplitMix64(seed: 3)
        var counts: [String: Int] = [:]
        for _ in 0..<10_000 { counts[Self.w.pick(write: false, rng.next()).name, default: 0] += 1 }
        #expect(counts.keys.sorted() == ["comment-search", "recent-page", "time-window"])
        #expect((4500...5500).contains(counts["recent-page"]!) && (3000...4000).contains(counts["time-window"]!))
        #expect(Set((0..<100).map { Self.w.pick(write: true, UInt64($0)).name }) == ["insert", "update-status"])
    }
}
