import Synchronization

/// Notes and observations typed while a run goes (a game day's `n` and `o` keys), timestamped on the run's own
/// clock so that they land in the timeline at their time. Shared between the terminal's thread and the runner.
public final class RunJournal: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable { case note, observation }
        public var kind: Kind
        public var text: String
        /// ms since the run started (the runner converts them to ms since the load started in the timeline); nil when
        /// typed before the run began.
        public var atRunMs: Int?

        public init(kind: Kind, text: String, atRunMs: Int?) {
            self.kind = kind
            self.text = text
            self.atRunMs = atRunMs
        }
    }

    private struct State {
        var entries: [Entry] = []
        var now: (@Sendable () -> Int)?
    }
    private let state = Mutex(State())

    public init() {}

    /// Records `text` at the run's current time; returns the entry as recorded.
    @discardableResult
    public func add(_ kind: Entry.Kind, _ text: String) -> Entry {
        state.withLock { s in
            let e = Entry(kind: kind, text: text, atRunMs: s.now?())
            s.entries.append(e)
            return e
        }
    }

    public var entries: [Entry] { state.withLock { $0.entries } }

    /// The run's clock: ms since the run started. The runner attaches it as the run begins.
    public func attach(now: @escaping @Sendable () -> Int) {
        state.withLock { $0.now = now }
    }

    /// The run's time now, ms since it started; nil before the run began.
    public var nowMs: Int? { state.withLock { $0.now?() } }
}
