import Faultline
import FaultlineConcurrency
import Foundation
import Logging
import Testing
@testable import FaultlineLoad

@Suite struct ServiceProbeScheduleTests {
    let ms: Int64 = 1_000_000

    @Test func okKeepsTheIntervalAndTheConnection() {
        let s = ServiceProbeSchedule.next(intendedNs: 100 * ms, endedNs: 103 * ms, outcome: .ok, intervalNs: 20 * ms)
        #expect(s == .init(intendedNs: 120 * ms, reconnect: false))
    }

    @Test func errorsNeverBackOffTheyOnlyReconnect() {
        // Ten failed connects in a row: the workers' backoff would grow to its 1 s cap; the probe stays on its ticks.
        var intended: Int64 = 0
        var backoff = Backoff(policy: BackoffPolicy())
        var backoffWait = Duration.zero
        for _ in 0..<10 {
            let s = ServiceProbeSchedule.next(intendedNs: intended, endedNs: intended + 1 * ms, outcome: .connectionRefused, intervalNs: 20 * ms)
            #expect(s.intendedNs == intended + 20 * ms)
            #expect(s.reconnect)
            intended = s.intendedNs
            backoffWait = backoff.fail(jitter: 0.5)
        }
        #expect(intended == 200 * ms)
        #expect(backoffWait >= .milliseconds(900), "the contrast: a worker would wait about 1 s by now")
        for o in [Outcome.readOnly, .timeout, .indeterminate, .connectionLost, .adminShutdown, .tooManyConnections] {
            #expect(ServiceProbeSchedule.next(intendedNs: 0, endedNs: ms, outcome: o, intervalNs: 20 * ms) == .init(intendedNs: 20 * ms, reconnect: true))
        }
        // A server error on a good session (a constraint, a missing table) keeps the connection, like the workers.
        #expect(!ServiceProbeSchedule.next(intendedNs: 0, endedNs: ms, outcome: .otherSQLState, intervalNs: 20 * ms).reconnect)
    }

    @Test func aSlowAttemptIsFollowedAtOnceWithoutABurst() {
        // A connect that hung 500 ms: the next attempt starts when it ended, not 25 times in a row to catch up.
        let s = ServiceProbeSchedule.next(intendedNs: 1_000 * ms, endedNs: 1_500 * ms, outcome: .connectionRefused, intervalNs: 20 * ms)
        #expect(s.intendedNs == 1_500 * ms)
        let after = ServiceProbeSchedule.next(intendedNs: s.intendedNs, endedNs: 1_502 * ms, outcome: .ok, intervalNs: 20 * ms)
        #expect(after.intendedNs == 1_520 * ms)
    }

    @Test func configClampsTheInterval() {
        #expect(ServiceProbeConfig(interval: .milliseconds(1)).interval == .milliseconds(10))
        #expect(ServiceProbeConfig(interval: .seconds(5)).interval == .seconds(1))
        #expect(ServiceProbeConfig().interval == .milliseconds(20))
        #expect(ServiceProbeConfig().statementTimeout <= .milliseconds(500))
        #expect(ServiceProbeConfig().connectTimeout <= .milliseconds(500))
    }

    @Test func conninfoIsTaggedWithTheProbesApplicationName() {
        #expect(ServiceProbe.tagged("host=a port=5000 application_name=faultline")
                == "host=a port=5000 application_name=faultline application_name=faultline-service-probe")
        #expect(ServiceProbe.tagged("postgresql://u@a:5000/db") == "postgresql://u@a:5000/db?application_name=faultline-service-probe")
        #expect(ServiceProbe.tagged("postgres://a/db?sslmode=disable")
                == "postgres://a/db?sslmode=disable&application_name=faultline-service-probe")
    }

    /// The real loop against a port nothing listens on (127.0.0.1:1, refused at once): every attempt is recorded,
    /// on its tick, and the probe stops when told.
    @Test func theLoopKeepsItsTicksWhileRefused() async throws {
        let probe = ServiceProbe(conninfo: "host=127.0.0.1 port=1 dbname=x user=x", runID: "r1",
                                 config: ServiceProbeConfig(interval: .milliseconds(20)), logger: Logger(label: "test"))
        let stop = StopFlag()
        let origin = monotonicNs()
        // The stop comes from a GCD timer, not a task: synchronous tests running beside this one (alembic's offline SQL
        // takes ~30 s) can hold both of a 2-core machine's cooperative threads, and a sleeping task then woke after the
        // probe's 30 s bound (seen 2026-12-07).
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(400)) { stop.set() }
        let report = await Blocking.run { probe.run(originNs: origin, limitNs: 60_000_000_000, stop: stop) }
        #expect(report.intervalMs == 20)
        #expect(report.attempts.count >= 2, "the probe kept trying while refused")
        #expect(report.attempts.allSatisfy { $0.outcome == .connectionRefused })
        for (a, b) in zip(report.attempts, report.attempts.dropFirst()) {
            // No backoff: the next tick is one interval on, or at once after a slow attempt (0.1 ms rounding).
            #expect(abs(b.intendedMs - max(a.intendedMs + 20, a.endMs)) <= 0.2)
            #expect(a.startMs >= a.intendedMs && a.endMs >= a.startMs)
        }
        // Told to stop at 0.4 s, with a 60 s limit: well before the limit (generous: a loaded 2-core machine once took > 5 s).
        #expect(try #require(report.attempts.last).endMs < 30_000, "stopped with the load, not at its limit")
    }

    @Test func theLoopEndsAtItsLimitAndItsCap() async {
        let probe = ServiceProbe(conninfo: "host=127.0.0.1 port=1 dbname=x user=x", runID: "r1",
                                 config: ServiceProbeConfig(interval: .milliseconds(10), maxAttempts: 3), logger: Logger(label: "test"))
        let capped = await Blocking.run { probe.run(originNs: monotonicNs(), limitNs: 60_000_000_000, stop: StopFlag()) }
        #expect(capped.attempts.count == 3)
        #expect(capped.notes == ["service probe stopped after 3 attempts (its cap)"])
        let limited = await Blocking.run { probe.run(originNs: monotonicNs(), limitNs: 1, stop: StopFlag()) }
        #expect(limited.attempts.isEmpty)
    }
}

@Suite struct ServiceProbeDriverTests {
    let driver = LoadGeneratorDriver(endpoints: .init(writes: "host=rw port=5000", reads: "host=ro port=5001"), logger: Logger(label: "test"))

    @Test func theProbeRunsBesideAWriteWorkloadOnItsEndpoint() throws {
        let (conninfo, config) = try #require(driver.probe(for: driver.config(for: [.ledgerWrites(rate: 50), .replicaReads(rate: 50)])))
        #expect(conninfo == "host=rw port=5000")
        #expect(config.interval == .milliseconds(20))
        #expect(!config.connectPerAttempt)
    }

    @Test func noWritesNoProbe() {
        #expect(driver.probe(for: driver.config(for: [.replicaReads(rate: 50)])) == nil)
        #expect(driver.probe(for: driver.config(for: [.ledgerWrites(rate: 0), .replicaReads(rate: 50)])) == nil, "a rate 0 workload does not run")
        let off = LoadGeneratorDriver(endpoints: driver.endpoints, probe: nil, logger: Logger(label: "test"))
        #expect(off.probe(for: off.config(for: [.ledgerWrites(rate: 50)])) == nil)
    }

    @Test func originWallClockHasMilliseconds() {
        // 2026-11-25T10:00:00.250Z
        #expect(LoadGeneratorDriver.iso8601ms(Date(timeIntervalSince1970: 1_795_600_800.25)) == "2026-11-25T10:00:00.250Z")
    }

    @Test func perTransactionWritersMakeAPerAttemptProbe() throws {
        let c = driver.config(for: [.ledgerWrites(rate: 50, connect: .perTransaction)])
        #expect(try #require(driver.probe(for: c)).config.connectPerAttempt)
    }
}
