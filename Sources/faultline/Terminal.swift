import Faultline
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The game day's terminal, ANSI only (no curses): raw mode on and off, one key reader, the screen.

/// The terminal in raw mode (no line discipline, no echo, no keyboard signals: Ctrl-C arrives as a key) while a game
/// day runs. `restore()` puts the saved settings back; it is idempotent, and every exit path calls it.
final class RawMode: Sendable {
    let fd: Int32
    private let saved: Mutex<termios?>

    /// nil when `fd` is not a terminal.
    init?(fd: Int32 = 0) {
        guard isatty(fd) == 1 else { return nil }
        var t = termios()
        guard tcgetattr(fd, &t) == 0 else { return nil }
        self.fd = fd
        saved = Mutex(t)
    }

    func enable() {
        saved.withLock { s in
            guard var t = s else { return }
            t.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
            withUnsafeMutableBytes(of: &t.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
            _ = tcsetattr(fd, TCSANOW, &t)
        }
        Screen.write(Screen.hideCursor)
    }

    func restore() {
        saved.withLock { s in
            guard var t = s else { return }
            _ = tcsetattr(fd, TCSANOW, &t)
        }
        Screen.write(Screen.showCursor)
    }
}

/// The one bridge from the terminal's blocking reads to async code: a dedicated thread polls standard input
/// (100 ms at a time, so that `stop()` ends it) and hands each decoded key to `sink`.
final class KeyReader: Sendable {
    private let running = Atomic<Bool>(true)

    init(fd: Int32 = 0, sink: @escaping @Sendable (GameDayKey) -> Void) {
        let thread = Thread { [self] in
            var decoder = GameDayKeyDecoder()
            var buffer = [UInt8](repeating: 0, count: 64)
            while running.load(ordering: .relaxed) {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let r = poll(&p, 1, 100)
                if r < 0 { if errno == EINTR { continue } else { sink(.hangup); break } }
                if r == 0 { decoder.flush().forEach(sink); continue }
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR || errno == EAGAIN { continue }
                if n <= 0 { sink(.hangup); break }  // the terminal went away (EOF, EIO after a hang-up)
                decoder.feed(Array(buffer[0..<n])).forEach(sink)
            }
        }
        thread.name = "faultline-keys"
        thread.start()
    }

    /// Ends the thread at its next poll (within 100 ms).
    func stop() { running.store(false, ordering: .relaxed) }
}

/// Writing the game day's screen: the live view redrawn in place (cursor home, each line cleared to its end, the
/// rest of the screen cleared), prompts and plain lines.
enum Screen {
    static let esc = "\u{1B}["
    static let home = esc + "H", clearLine = esc + "K", clearBelow = esc + "J", clearAll = esc + "H" + esc + "2J"
    static let hideCursor = esc + "?25l", showCursor = esc + "?25h"

    /// One frame of the live view: `lines` from the top left, cut to `height` rows.
    static func frame(_ lines: [String], height: Int) -> String {
        home + lines.prefix(max(1, height - 1)).map { $0 + clearLine }.joined(separator: "\r\n") + "\r\n" + clearBelow
    }

    static func write(_ s: String) { FileDescriptorWriter.write(s, fd: 1) }

    /// Plain text: every newline as CR LF (the terminal may be in raw mode).
    static func say(_ s: String) { write(s.replacingOccurrences(of: "\n", with: "\r\n")) }

    /// Columns and rows of the terminal on standard output; 100×30 when it cannot tell.
    static func size() -> (width: Int, height: Int) {
        var ws = winsize()
        #if canImport(Glibc)
        let ok = ioctl(1, UInt(TIOCGWINSZ), &ws) == 0
        #else
        let ok = ioctl(1, TIOCGWINSZ, &ws) == 0
        #endif
        guard ok, ws.ws_col > 0, ws.ws_row > 0 else { return (100, 30) }
        return (Int(ws.ws_col), Int(ws.ws_row))
    }
}

/// The step gate a game day opens with Enter: `wait()` returns once `open()` was called (before or after it), or when
/// the waiting task is cancelled (the runner cancels it on a stop request).
final class GateLatch: Sendable {
    private struct State { var opened = 0; var waiter: CheckedContinuation<Void, Never>? }
    private let state = Mutex(State())

    func open() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter { s.waiter = nil; return w }
            s.opened += 1
            return nil
        }
        w?.resume()
    }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.opened > 0 { s.opened -= 1; return true }
                    if Task.isCancelled { return true }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let w = state.withLock { s -> CheckedContinuation<Void, Never>? in defer { s.waiter = nil }; return s.waiter }
            w?.resume()
        }
    }
}

/// Warnings and errors kept for the live view instead of written over it.
final class LogTail: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ s: String) { lines.withLock { $0.append(s); if $0.count > 20 { $0.removeFirst($0.count - 20) } } }
    var recent: [String] { lines.withLock { $0 } }

    /// A log handler that appends here.
    func handler(level: Logger.Level) -> some LogHandler { Handler(tail: self, logLevel: level) }

    struct Handler: LogHandler {
        let tail: LogTail
        var logLevel: Logger.Level
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            tail.append("\(event.level): \(event.message)")
        }
    }
}
