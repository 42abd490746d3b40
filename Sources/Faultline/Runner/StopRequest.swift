import Synchronization

/// A request to stop a run gracefully (Ctrl-C): the runner stops its steps, heals and stops the load,
/// as it does on a failure. Unlike task cancellation it does not reach the heal itself, so the heal on
/// the way out runs to its end without being shielded in an unstructured task. A fault whose `apply`
/// hangs is interrupted: the runner races each apply against `wait()` and cancels the apply alone.
public final class StopRequest: Sendable {
    private struct State {
        var requested = false
        var abortReason: String?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var next = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Asks the run to stop; idempotent.
    public func request() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.requested = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Asks the run to abort (a safety limit held, or a game-day facilitator pressed `a`): it stops like Ctrl-C, heals
    /// at once, still reads the writes back, and ends `aborted` with `reason`. The first reason wins.
    public func abort(_ reason: String) {
        state.withLock { s in if !s.requested, s.abortReason == nil { s.abortReason = reason } }
        request()
    }

    /// Why the run was asked to abort; nil for a plain stop (Ctrl-C) or none.
    public var abortReason: String? { state.withLock { $0.abortReason } }

    /// Returns once a stop is requested, or when the calling task is cancelled.
    public func wait() async {
        let id = state.withLock { s -> Int in s.next += 1; return s.next }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.requested || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let c = state.withLock { $0.waiters.removeValue(forKey: id) }
            c?.resume()
        }
    }
}
