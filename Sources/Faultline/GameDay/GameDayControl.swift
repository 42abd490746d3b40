/// One key from the facilitator's terminal (raw mode: no line discipline, no signals from the keyboard).
public enum GameDayKey: Sendable, Equatable {
    case char(Character)
    case enter
    case backspace
    /// Escape alone (an arrow or function key's sequence is dropped by the decoder).
    case escape
    /// Ctrl-C (the byte, in raw mode), or SIGINT/SIGTERM from outside.
    case interrupt
    /// Ctrl-D.
    case endOfInput
    /// The terminal went away (its read failed or ended, SIGHUP): the facilitator can no longer steer, so the run stops
    /// and heals, as on Ctrl-C.
    case hangup
}

/// Turns the bytes a raw-mode terminal sends into keys: UTF-8 characters, Enter (CR or LF), backspace (DEL or BS),
/// Ctrl-C, Ctrl-D, Escape; escape sequences (arrows, function keys) and other control bytes are dropped.
public struct GameDayKeyDecoder: Sendable, Equatable {
    private var pending: [UInt8] = []
    private var inEscape = false
    private var inCSI = false

    public init() {}

    public mutating func feed(_ bytes: [UInt8]) -> [GameDayKey] {
        var out: [GameDayKey] = []
        for b in bytes {
            if inCSI {
                if (0x40...0x7E).contains(b) { inCSI = false }
                continue
            }
            if inEscape {
                inEscape = false
                if b == UInt8(ascii: "[") || b == UInt8(ascii: "O") { inCSI = true; continue }
                out.append(.escape)
            }
            if !pending.isEmpty || b >= 0x80 {
                pending.append(b)
                if let s = String(validating: pending, as: UTF8.self), let c = s.first {
                    out.append(.char(c))
                    pending = []
                } else if pending.count >= 4 {
                    pending = []
                }
                continue
            }
            switch b {
            case 0x0D, 0x0A: out.append(.enter)
            case 0x7F, 0x08: out.append(.backspace)
            case 0x03: out.append(.interrupt)
            case 0x04: out.append(.endOfInput)
            case 0x1B: inEscape = true
            case 0x20...0x7E: out.append(.char(Character(Unicode.Scalar(b))))
            default: break
            }
        }
        return out
    }

    /// A lone Escape still held (no byte followed it yet): the reader calls this when the input goes quiet.
    public mutating func flush() -> [GameDayKey] {
        guard inEscape else { return [] }
        inEscape = false
        return [.escape]
    }
}

/// One line being typed at a prompt, edited key by key (the terminal echoes nothing in raw mode).
public struct LineEditor: Sendable, Equatable {
    public enum Result: Sendable, Equatable {
        /// Still typing; `echo` is what to write to the screen for this key ("" for none).
        case editing(echo: String)
        /// Enter: the line as typed (empty: the prompt moves on).
        case entered(String)
        /// Ctrl-C or Ctrl-D: the prompts stop.
        case interrupted
    }

    public private(set) var text = ""

    public init() {}

    public mutating func handle(_ key: GameDayKey) -> Result {
        switch key {
        case .char(let c):
            text.append(c)
            return .editing(echo: String(c))
        case .backspace:
            guard !text.isEmpty else { return .editing(echo: "") }
            text.removeLast()
            return .editing(echo: "\u{8} \u{8}")
        case .enter:
            defer { text = "" }
            return .entered(text)
        case .escape: return .editing(echo: "")
        case .interrupt, .endOfInput, .hangup: return .interrupted
        }
    }
}

/// The facilitator's controls while the run goes, as a value: one mutating method per event (a key, a line, a step
/// gate reached, the run finished), each returning what to do. The CLI performs the action; this decides nothing else.
///
/// Keys: Enter at a step gate starts the step; `n` starts a note, `o` an observation (typed, then Enter; an empty one
/// records nothing, Escape drops it); `a` aborts (heal now); Ctrl-C stops as in `faultline run`.
public struct GameDayControl: Sendable, Equatable {
    /// What is being typed.
    public struct Input: Sendable, Equatable {
        public var kind: RunJournal.Entry.Kind
        public var text: String
    }

    public enum State: Sendable, Equatable {
        /// The run goes; `gate`: waiting for Enter before that step.
        case watching(gate: Int?)
        /// A note or an observation being typed; the gate (if any) still waits.
        case typing(Input, gate: Int?)
        /// Asked to abort or stop; the run heals. `why` for the view.
        case stopping(why: String)
        case finished
    }

    public enum Action: Sendable, Equatable {
        case none
        /// The view changed: draw it again now.
        case redraw
        /// Open the step gate: the step starts.
        case proceed
        case addNote(String)
        case addObservation(String)
        /// `StopRequest.abort(reason)`: heal now, the run ends aborted.
        case abort(String)
        /// `StopRequest.request()`: Ctrl-C, as in `faultline run`.
        case stop
    }

    public static let abortReason = "aborted by the facilitator"

    public private(set) var state: State = .watching(gate: nil)
    /// The step running or waiting at its gate; nil before the first.
    public private(set) var currentStep: Int?
    /// Go on at every gate without waiting (`--auto`).
    public let auto: Bool

    public init(auto: Bool = false) { self.auto = auto }

    /// The gate waiting for Enter, if any.
    public var gate: Int? {
        switch state {
        case .watching(let g), .typing(_, let g): g
        case .stopping, .finished: nil
        }
    }

    /// What is being typed, if anything.
    public var input: Input? {
        if case .typing(let i, _) = state { return i }
        return nil
    }

    public mutating func keyPressed(_ key: GameDayKey) -> Action {
        switch (state, key) {
        case (.finished, _), (.stopping, _):
            return .none
        case (_, .interrupt):
            state = .stopping(why: "interrupted: healing and stopping the load")
            return .stop
        case (_, .hangup):
            state = .stopping(why: "the terminal went away: healing and stopping the load")
            return .stop
        default: break
        }
        switch state {
        case .finished, .stopping:
            return .none
        case .watching(let gate):
            switch key {
            case .enter:
                guard gate != nil else { return .none }
                state = .watching(gate: nil)
                return .proceed
            case .char("n"), .char("N"):
                state = .typing(Input(kind: .note, text: ""), gate: gate)
                return .redraw
            case .char("o"), .char("O"):
                state = .typing(Input(kind: .observation, text: ""), gate: gate)
                return .redraw
            case .char("a"), .char("A"):
                state = .stopping(why: "aborting: healing now")
                return .abort(Self.abortReason)
            case .char, .backspace, .escape, .endOfInput, .interrupt, .hangup:
                return .none
            }
        case .typing(var input, let gate):
            switch key {
            case .char(let c):
                input.text.append(c)
                state = .typing(input, gate: gate)
                return .redraw
            case .backspace:
                if !input.text.isEmpty { input.text.removeLast() }
                state = .typing(input, gate: gate)
                return .redraw
            case .escape:
                state = .watching(gate: gate)
                return .redraw
            case .enter:
                return lineEntered(input.text)
            case .interrupt, .hangup:
                return .none  // handled above
            case .endOfInput:
                state = .watching(gate: gate)
                return .redraw
            }
        }
    }

    /// A whole line: the text of the note being typed; else a command line (empty: Enter; `n text`, `o text`, `a`).
    public mutating func lineEntered(_ line: String) -> Action {
        let text = line.gameDayTrimmed
        switch state {
        case .finished, .stopping:
            return .none
        case .typing(let input, let gate):
            state = .watching(gate: gate)
            guard !text.isEmpty else { return .redraw }
            return input.kind == .note ? .addNote(text) : .addObservation(text)
        case .watching:
            if text.isEmpty { return keyPressed(.enter) }
            let head = text.prefix(1).lowercased(), rest = String(text.dropFirst()).gameDayTrimmed
            switch head {
            case "n" where !rest.isEmpty: return .addNote(rest)
            case "o" where !rest.isEmpty: return .addObservation(rest)
            case "a" where rest.isEmpty: return keyPressed(.char("a"))
            default: return .none
            }
        }
    }

    /// The runner waits before step `step`: with `auto` it goes on at once, else it waits for Enter.
    public mutating func gateReached(_ step: Int) -> Action {
        currentStep = step
        switch state {
        case .finished, .stopping:
            return .none
        case .watching:
            if auto { state = .watching(gate: nil); return .proceed }
            state = .watching(gate: step)
            return .redraw
        case .typing(let input, _):
            if auto { state = .typing(input, gate: nil); return .proceed }
            state = .typing(input, gate: step)
            return .redraw
        }
    }

    public mutating func runFinished() -> Action {
        state = .finished
        return .redraw
    }
}
