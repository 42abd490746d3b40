import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM as async events, written once for `faultline run` and `faultline load`, in the
/// spirit of swift-service-lifecycle's signal sequence.
///
/// The commands' shared rule: the first signal starts a graceful stop (the run heals and stops its
/// load; the load stops and writes its results). Later ones: `run` ignores them so the heal is not cut
/// short (`firstInterrupt()`; SIGKILL and `faultline heal` remain), `load` exits at once with 130.
public enum Signals {
    /// One delivered signal.
    public struct Event: Sendable, Equatable, CustomStringConvertible {
        public var signal: Int32
        /// 1 for the first signal its stream saw, 2 for the next, and so on.
        public var count: Int

        public init(signal: Int32, count: Int) {
            self.signal = signal
            self.count = count
        }

        public var description: String {
            switch signal {
            case SIGINT: return "SIGINT"
            case SIGTERM: return "SIGTERM"
            default: return "signal \(signal)"
            }
        }
    }

    /// The signals that ask for a graceful stop.
    public static let stopSignals: [Int32] = [SIGINT, SIGTERM]

    /// The deliveries of `signals` from this call on, as a stream. While any such stream is alive, those
    /// signals no longer end the process: each delivery yields one event to every stream that asked for
    /// it. When the stream ends (its consumer is cancelled or drops it), the signals' previous handling
    /// is back once no other stream wants them.
    public static func interrupts(_ signals: [Int32] = stopSignals) -> AsyncStream<Event> {
        makeStream(signals).stream
    }

    /// Waits for the first SIGINT or SIGTERM and returns it, or nil when the task is cancelled first (the
    /// previous handling is then back). After a signal, later ones are ignored for the rest of the
    /// process, so a graceful stop that heals is not cut short.
    public static func firstInterrupt() async -> Event? {
        let (stream, continuation) = makeStream(stopSignals)
        defer { continuation.finish() }
        for await event in stream {
            SignalRegistry.shared.ignoreAfterwards(stopSignals)
            return event
        }
        return nil
    }

    static func makeStream(_ signals: [Int32]) -> (stream: AsyncStream<Event>, continuation: AsyncStream<Event>.Continuation) {
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
        let id = SignalRegistry.shared.subscribe(Set(signals), continuation)
        continuation.onTermination = { _ in SignalRegistry.shared.unsubscribe(id) }
        return (stream, continuation)
    }

    /// How `signal` is handled right now.
    enum Disposition: Equatable { case byDefault, ignored, caught }

    static func disposition(_ signal: Int32) -> Disposition {
        var old = sigaction()
        sigaction(signal, nil, &old)
        #if canImport(Glibc)
        let bits = unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self)
        #else
        let bits = unsafeBitCast(old.__sigaction_u.__sa_handler, to: Int.self)
        #endif
        if bits == 0 { return .byDefault }
        if bits == unsafeBitCast(SIG_IGN, to: Int.self) { return .ignored }
        return .caught
    }
}

/// The write end of the self-pipe; set once, before any handler is installed.
nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// The process-wide handler: writes the signal's number to the self-pipe (async-signal-safe).
private func onSignal(_ signal: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipeWrite, &byte, 1)
    errno = saved
}

/// Installs the handler while some stream wants a signal, restores the previous handling when none does,
/// and hands each delivery (read from the self-pipe by one thread) to the streams.
final class SignalRegistry: Sendable {
    static let shared = SignalRegistry()

    private struct Subscriber {
        var signals: Set<Int32>
        var count = 0
        var continuation: AsyncStream<Signals.Event>.Continuation
    }

    private struct State: @unchecked Sendable {
        var subscribers: [UInt64: Subscriber] = [:]
        var nextID: UInt64 = 0
        var previous: [Int32: sigaction] = [:]
        var ignoredAfterwards: Set<Int32> = []
    }

    private let state = Mutex(State())

    private init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "cannot create the signal pipe")
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        signalPipeWrite = fds[1]
        let readEnd = fds[0]
        let reader = Thread { [self] in
            // This thread takes SIGINT and SIGTERM even when every other one blocks them (the cooperative
            // pool's threads do, and so do the threads they start).
            var unblock = sigset_t()
            sigemptyset(&unblock)
            for sig in Signals.stopSignals { sigaddset(&unblock, sig) }
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            var buf = [UInt8](repeating: 0, count: 64)
            while true {
                let n = buf.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, $0.count) }
                if n > 0 {
                    for b in buf[0..<n] { deliver(Int32(b)) }
                } else if n < 0 && errno != EINTR {
                    return
                }
            }
        }
        reader.name = "fl-signals"
        reader.start()
    }

    func subscribe(_ signals: Set<Int32>, _ continuation: AsyncStream<Signals.Event>.Continuation) -> UInt64 {
        state.withLock { s in
            let wanted = s.subscribers.values.reduce(into: Set<Int32>()) { $0.formUnion($1.signals) }
            for sig in signals.subtracting(wanted) {
                var action = sigaction()
                #if canImport(Glibc)
                action.__sigaction_handler.sa_handler = onSignal
                #else
                action.__sigaction_u.__sa_handler = onSignal
                #endif
                sigemptyset(&action.sa_mask)
                action.sa_flags = SA_RESTART
                var old = sigaction()
                sigaction(sig, &action, &old)
                s.previous[sig] = old
            }
            let id = s.nextID
            s.nextID += 1
            s.subscribers[id] = Subscriber(signals: signals, continuation: continuation)
            return id
        }
    }

    func unsubscribe(_ id: UInt64) {
        state.withLock { s in
            guard let gone = s.subscribers.removeValue(forKey: id) else { return }
            let wanted = s.subscribers.values.reduce(into: Set<Int32>()) { $0.formUnion($1.signals) }
            for sig in gone.signals.subtracting(wanted) {
                if s.ignoredAfterwards.contains(sig) {
                    signal(sig, SIG_IGN)
                } else if var old = s.previous[sig] {
                    sigaction(sig, &old, nil)
                }
                s.previous[sig] = nil
            }
        }
    }

    /// From now on, `signals` are ignored once no stream wants them any more.
    func ignoreAfterwards(_ signals: [Int32]) {
        state.withLock { $0.ignoredAfterwards.formUnion(signals) }
    }

    /// Forgets `ignoreAfterwards` (tests restore the handling themselves).
    func resetIgnoredAfterwards() {
        state.withLock { $0.ignoredAfterwards = [] }
    }

    private func deliver(_ sig: Int32) {
        let targets: [(AsyncStream<Signals.Event>.Continuation, Signals.Event)] = state.withLock { s in
            var out: [(AsyncStream<Signals.Event>.Continuation, Signals.Event)] = []
            for (id, var sub) in s.subscribers where sub.signals.contains(sig) {
                sub.count += 1
                s.subscribers[id] = sub
                out.append((sub.continuation, Signals.Event(signal: sig, count: sub.count)))
            }
            return out
        }
        for (c, e) in targets { c.yield(e) }
    }
}
