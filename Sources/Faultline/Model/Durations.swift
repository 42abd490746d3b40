/// Parsing and formatting of the durations people type (`500ms`, `20s`, `2m`, `1m30s`).
public enum DurationText {
    /// Parses `500ms`, `20s`, `1.5s`, `2m`, `1h`, or a concatenation such as `1m30s`.
    /// Returns nil for anything else, including negative or empty input.
    public static func parse(_ text: String) -> Duration? {
        let s = text.trimmingWhitespace().lowercased()
        guard !s.isEmpty else { return nil }
        var totalMs = 0.0
        var rest = Substring(s)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            guard !unit.isEmpty else { return nil }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": totalMs += value
            case "s": totalMs += value * 1_000
            case "m", "min": totalMs += value * 60_000
            case "h": totalMs += value * 3_600_000
            default: return nil
            }
        }
        guard totalMs.isFinite, totalMs < 1e12 else { return nil }
        return .milliseconds(Int64(totalMs.rounded()))
    }

    /// A compact form that `parse` reads back: `2m`, `20s`, `1500ms`.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms != 0 && ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1_000 == 0 { return "\(ms / 1_000)s" }
        return "\(ms)ms"
    }

    /// A human form for reports: `850 ms`, `12.4 s`, `2 m 5 s`.
    public static func human(ms: Int) -> String {
        if abs(ms) < 1_000 { return "\(ms) ms" }
        if abs(ms) < 60_000 {
            let tenths = (ms + (ms >= 0 ? 50 : -50)) / 100
            return "\(tenths / 10).\(abs(tenths % 10)) s"
        }
        let seconds = ms / 1_000
        return "\(seconds / 60) m \(seconds % 60) s"
    }
}

extension Duration {
    /// Whole milliseconds, truncated.
    public var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1_000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
