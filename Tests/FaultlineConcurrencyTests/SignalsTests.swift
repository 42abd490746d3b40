import Foundation
import Synchronization
import Testing
@testable import FaultlineConcurrency
#if canImport(Glibc)
import Glibc
#endif

/// Signals as async events, proven by sending SIGINT to this very process. Every test installs the
/// handler (and checks it is in place) before it sends, and leaves the handling as it found it.
/// `kill(getpid())`, not `raise()`: the test runs on a cooperative-pool thread, which blocks signals,
/// so a thread-directed signal would stay pending; a process-directed one goes to a thread that takes it.
@Suite(.serialized) struct SignalsTests {
    /// Polls until `signal`'s handling is `wanted` or 5 s pass.
    func waitFor(_ signal: Int32, _ wanted: Signals.Disposition) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while Signals.disposition(signal) != wanted {
            if ContinuousClock.now > deadline { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    final class Seen: Sendable {
        let events = Mutex<[Signals.Event]>([])
        func withLock<R: Sendable>(_ body: (inout [Signals.Event]) -> R) -> R { events.withLock { body(&$0) } }
    }

    @Test func aStreamYieldsOnceASignalAndRestoresTheHandlingWhenItEnds() async throws {
        let before = Signals.disposition(SIGINT)
        let stream = Signals.interrupts([SIGINT])
        #expect(Signals.disposition(SIGINT) == .caught)
        let seen = Seen()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for await e in stream { seen.withLock { $0.append(e) } } }
            kill(getpid(), SIGINT)
            let deadline = ContinuousClock.now + .seconds(5)
            while seen.withLock({ $0.isEmpty }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(200))
            #expect(seen.withLock { $0 } == [Signals.Event(signal: SIGINT, count: 1)])

            kill(getpid(), SIGINT)
            // Its own deadline: a busy machine (CI shares 2 cores) may have spent the first one.
            let second = ContinuousClock.now + .seconds(10)
            while seen.withLock({ $0.count < 2 }), ContinuousClock.now < second { try await Task.sleep(for: .milliseconds(10)) }
            #expect(seen.withLock { $0 } == [Signals.Event(signal: SIGINT, count: 1), Signals.Event(signal: SIGINT, count: 2)])
            group.cancelAll()
        }
        #expect(try await waitFor(SIGINT, before))
    }

    @Test func firstInterruptReturnsTheSignalThenLaterOnesAreIgnored() async throws {
        var savedINT = sigaction(), savedTERM = sigaction()
        sigaction(SIGINT, nil, &savedINT)
        sigaction(SIGTERM, nil, &savedTERM)
        defer {
            SignalRegistry.shared.resetIgnoredAfterwards()
            sigaction(SIGINT, &savedINT, nil)
            sigaction(SIGTERM, &savedTERM, nil)
        }
        let first = try await withThrowingTaskGroup(of: Signals.Event??.self) { group -> Signals.Event?? in
            group.addTask { await Signals.firstInterrupt() }
            group.addTask { try await Task.sleep(for: .seconds(10)); return .some(nil) }  // a bound, not a hang
            guard try await waitFor(SIGINT, .caught), try await waitFor(SIGTERM, .caught) else {
                Issue.record("the handler never came")
                group.cancelAll()
                return nil
            }
            kill(getpid(), SIGINT)
            let r = try await group.next()!
            group.cancelAll()
            return r
        }
        #expect(first == .some(Signals.Event(signal: SIGINT, count: 1)))
        #expect(Signals.disposition(SIGINT) == .ignored)
        #expect(Signals.disposition(SIGTERM) == .ignored)
        kill(getpid(), SIGINT)  // ignored: the test process lives on
    }

    @Test func aCancelledFirstInterruptReturnsNilAndRestoresTheHandling() async throws {
        let before = (Signals.disposition(SIGINT), Signals.disposition(SIGTERM))
        let result = await withTaskGroup(of: Signals.Event?.self) { group in
            group.addTask { await Signals.firstInterrupt() }
            _ = try? await waitFor(SIGINT, .caught)
            group.cancelAll()
            return await group.next()!
        }
        #expect(result == nil)
        #expect(try await waitFor(SIGINT, before.0))
        #expect(try await waitFor(SIGTERM, before.1))
    }
}
