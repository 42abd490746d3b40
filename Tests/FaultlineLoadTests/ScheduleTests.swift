import Faultline
import Testing
@testable import FaultlineLoad

@Suite struct OpenLoopScheduleTests {
    @Test func uniformSingleWorkerIsEvenlySpaced() {
        var s = OpenLoopSchedule(rate: 100, workers: 1, worker: 0)
        let starts = (0..<5).map { _ in s.next() }
        #expect(starts == [0, 10_000_000, 20_000_000, 30_000_000, 40_000_000])
        #expect(s.issued == 5)
    }

    @Test func uniformWorkersInterleaveIntoOneEvenStream() {
        // 4 workers sharing 1000/s: together they must produce every 1 ms exactly once.
        var all: [Int64] = []
        for w in 0..<4 {
            var s = OpenLoopSchedule(rate: 1000, workers: 4, worker: w)
            all += (0..<25).map { _ in s.next() }
        }
        #expect(all.sorted() == (0..<100).map { Int64($0) * 1_000_000 })
    }

    @Test func uniformWorkerPhaseAndPeriod() {
        var s = OpenLoopSchedule(rate: 300, workers: 3, worker: 2)
        // worker 2 of 3 at 300/s: first at 2/300 s, then every 3/300 s = 10 ms.
        #expect(s.next() == 6_666_667)
        #expect(s.next() == 16_666_667)
        #expect(s.next() == 26_666_667)
    }

    @Test func nonIntegerRateDoesNotDrift() {
        var s = OpenLoopSchedule(rate: 3, workers: 1, worker: 0)
        var last: Int64 = 0
        for _ in 0..<3001 { last = s.next() }
        // The 3001st start (k = 3000) is at exactly 1000 s: computed from k, not accumulated.
        #expect(last == 1_000_000_000_000)
    }

    @Test func poissonIsReproducibleAndIncreasing() {
        var a = OpenLoopSchedule(rate: 500, workers: 2, worker: 1, arrival: .poisson, seed: 42)
        var b = OpenLoopSchedule(rate: 500, workers: 2, worker: 1, arrival: .poisson, seed: 42)
        var c = OpenLoopSchedule(rate: 500, workers: 2, worker: 0, arrival: .poisson, seed: 42)
        let xa = (0..<1000).map { _ in a.next() }
        let xb = (0..<1000).map { _ in b.next() }
        let xc = (0..<1000).map { _ in c.next() }
        #expect(xa == xb)
        #expect(xa != xc)
        #expect(zip(xa, xa.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func poissonMeanGapMatchesRate() {
        // 250/s per worker: mean gap 4 ms. With 20 000 samples the mean is within ~1 % (σ/√n ≈ 0.7 %).
        var s = OpenLoopSchedule(rate: 1000, workers: 4, worker: 3, arrival: .poisson, seed: 7)
        var last: Int64 = 0
        for _ in 0..<20_000 { last = s.next() }
        let meanGapMs = Double(last) / 20_000 / 1e6
        #expect(abs(meanGapMs - 4.0) < 0.12)
    }
}

@Suite struct BackoffTests {
    @Test func doublesUpToTheMaximum() {
        var b = Backoff(policy: BackoffPolicy(initial: .milliseconds(50), maximum: .seconds(1)))
        // jitter 0.5 → factor exactly 1.0
        let delays = (0..<8).map { _ in b.fail(jitter: 0.5) }
        #expect(delays == [.milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(400),
                           .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
        #expect(b.failures == 8)
        b.succeed()
        #expect(b.failures == 0)
        #expect(b.fail(jitter: 0.5) == .milliseconds(50))
    }

    @Test func jitterStaysWithinTwentyPercent() {
        var b = Backoff(policy: BackoffPolicy(initial: .milliseconds(100), maximum: .seconds(1)))
        #expect(b.fail(jitter: 0) == .milliseconds(80))
        b.succeed()
        #expect(b.fail(jitter: 0.999_999) < .milliseconds(120))
        for _ in 0..<100 { #expect(b.fail(jitter: 0.999_999) < .milliseconds(1200)) }
    }
}

@Suite struct DurationParsingTests {
    @Test(arguments: [
        ("30", Duration.seconds(30)), ("30s", .seconds(30)), ("1.5s", .milliseconds(1500)),
        ("500ms", .milliseconds(500)), ("2m", .seconds(120)), ("1h", .seconds(3600)), (" 10S ", .seconds(10)),
    ])
    func parses(_ text: String, _ expected: Duration) {
        #expect(parseDuration(text) == expected)
    }

    @Test(arguments: ["", "abc", "-1s", "10x", "nan", "inf", "1e300"])
    func rejects(_ text: String) {
        #expect(parseDuration(text) == nil)
    }
}
