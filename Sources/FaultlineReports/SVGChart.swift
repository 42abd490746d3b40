import Foundation

/// Small pure SVG building blocks for the HTML reports: scales, axis ticks, downsampling, one chart.
/// Every chart of a run shares one `TimeScale`, so their time axes line up.

/// One point of a series: `x` in the data's unit (ms on a time axis), `y` in the series' unit.
public struct ChartPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// Maps a time span (ms since load start) onto pixels `x0...x1`.
public struct TimeScale: Sendable, Equatable {
    public var fromMs: Double
    public var toMs: Double
    public var x0: Double
    public var x1: Double

    public init(fromMs: Double, toMs: Double, x0: Double, x1: Double) {
        self.fromMs = fromMs
        self.toMs = max(toMs, fromMs + 1)
        self.x0 = x0
        self.x1 = x1
    }

    public func x(_ ms: Double) -> Double {
        x0 + (min(max(ms, fromMs), toMs) - fromMs) / (toMs - fromMs) * (x1 - x0)
    }
}

/// Tick values for axes.
public enum Axis {
    /// The 1-2-5 step that cuts `span` into about `target` parts.
    public static func niceStep(span: Double, target: Int) -> Double {
        guard span > 0, target > 0 else { return 1 }
        let raw = span / Double(target)
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        for m in [1.0, 2.0, 5.0, 10.0] where p * m >= raw { return p * m }
        return p * 10
    }

    /// Multiples of a nice step inside `from...to` (both ends included when they fall on a step).
    public static func linearTicks(from: Double, to: Double, target: Int = 5) -> [Double] {
        guard to > from else { return [from] }
        let step = niceStep(span: to - from, target: target)
        var t = (from / step).rounded(.up) * step
        var out: [Double] = []
        while t <= to + step * 1e-9 { out.append(t == 0 ? 0 : t); t += step }
        return out
    }

    /// Time ticks in ms: steps of 1-2-5 ms…s, or whole 10 s, 15 s, 30 s, 1 min, 2 min, 5 min, 10 min… for long runs.
    public static func timeTicks(fromMs: Double, toMs: Double, target: Int = 10) -> [Double] {
        guard toMs > fromMs else { return [fromMs] }
        let raw = (toMs - fromMs) / Double(target)
        let minuteSteps: [Double] = [10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000]
        let step = raw > 5_000 ? (minuteSteps.first { $0 >= raw } ?? niceStep(span: toMs - fromMs, target: target))
            : niceStep(span: toMs - fromMs, target: target)
        var t = (fromMs / step).rounded(.up) * step
        var out: [Double] = []
        while t <= toMs + 1e-6 { out.append(t); t += step }
        return out
    }

    /// Powers of ten from at or below `min` to at or above `max` (both > 0), for a log axis.
    public static func logTicks(min lo: Double, max hi: Double) -> [Double] {
        let a = Swift.max(lo, 1e-9), b = Swift.max(hi, a)
        var t = 1.0
        while t > a { t /= 10 }
        while t * 10 <= a { t *= 10 }
        var out = [t]
        while t < b { t *= 10; out.append(t) }
        if out.count == 1 { out.append(t * 10) }
        return out
    }

    /// "0 s", "1.5 s", "2 min", "1 min 30 s": a time tick's label.
    public static func timeLabel(ms: Double) -> String {
        let s = ms / 1000
        if abs(s) >= 60, s.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(s / 60)) min" }
        if abs(s) >= 60 { return "\(Int(s) / 60) min \(Int(s) % 60) s" }
        return "\(num(s)) s"
    }
}

/// Thinning a series for drawing: never for the verdicts, which use every window.
public enum Downsample {
    /// At most `2 * buckets` points: the series is cut into `buckets` equal spans of x, and each span keeps
    /// its lowest and its highest point (in x order), so every peak and every drop to zero stays visible.
    /// A series already that short is returned as it is.
    public static func minMax(_ points: [ChartPoint], buckets: Int) -> [ChartPoint] {
        guard buckets > 0, points.count > 2 * buckets, let first = points.first, let last = points.last else { return points }
        let span = max(last.x - first.x, 1e-9)
        var out: [ChartPoint] = []
        out.reserveCapacity(2 * buckets)
        var i = 0
        for b in 0..<buckets {
            let end = b == buckets - 1 ? Double.infinity : first.x + span * Double(b + 1) / Double(buckets)
            var lo: Int?, hi: Int?
            while i < points.count, points[i].x < end {
                if lo == nil || points[i].y < points[lo!].y { lo = i }
                if hi == nil || points[i].y > points[hi!].y { hi = i }
                i += 1
            }
            guard let l = lo, let h = hi else { continue }
            if l == h { out.append(points[l]) } else if l < h { out += [points[l], points[h]] } else { out += [points[h], points[l]] }
        }
        return out
    }

    /// The bucket index of each of `xs` (sorted) when `from...to` is cut into `buckets` spans.
    static func bucket(_ x: Double, from: Double, to: Double, buckets: Int) -> Int {
        let f = (x - from) / max(to - from, 1e-9)
        return min(buckets - 1, max(0, Int(f * Double(buckets))))
    }
}

/// A shaded span on the time axis (a fault in effect, a phase).
struct Band {
    var fromMs: Double
    var toMs: Double
    var cls: String
    var label: String
}

/// A vertical line at an instant (a leader change, an alert, an operation step, the RTO).
struct Marker {
    var atMs: Double
    var cls: String
    var label: String
    /// The few words written beside it in the lane.
    var short = ""
}

/// One drawn series.
struct Series {
    var name: String
    var color: String
    var points: [ChartPoint]
    var dashed = false
    /// A line breaks where two points are further apart than this (no data there: an outage, not a slope).
    var gap = Double.infinity
}

/// One chart on the shared time axis: a line chart (linear or log y) or stacked areas.
struct Chart {
    static let width = 1200.0, left = 72.0, right = 16.0, top = 12.0, bottom = 24.0

    var id: String
    var title: String
    var yUnit: String
    var height = 180.0
    var log = false
    var stacked = false
    var series: [Series] = []
    var bands: [Band] = []
    var markers: [Marker] = []
    /// Shown instead of series when there is nothing to draw.
    var emptyNote = "no data"

    static func scale(fromMs: Double, toMs: Double) -> TimeScale {
        TimeScale(fromMs: fromMs, toMs: toMs, x0: left, x1: width - right)
    }

    func svg(_ ts: TimeScale) -> String {
        let h = height, y0 = Self.top, y1 = h - Self.bottom
        var maxY = 0.0, minY = Double.infinity
        if stacked {
            // Series share their x positions; the top of the stack is the sum.
            let n = series.first?.points.count ?? 0
            for i in 0..<n { maxY = max(maxY, series.reduce(0) { $0 + ($1.points.count > i ? $1.points[i].y : 0) }) }
        } else {
            for s in series { for p in s.points { maxY = max(maxY, p.y); if p.y > 0 { minY = min(minY, p.y) } } }
        }
        let ticks: [Double]
        let yOf: (Double) -> Double
        if log {
            ticks = Axis.logTicks(min: minY.isFinite ? minY : 1, max: max(maxY, 1))
            let la = ticks.first!.log10, lb = ticks.last!.log10
            yOf = { v in y1 - (max(v, ticks.first!).log10 - la) / max(lb - la, 1e-9) * (y1 - y0) }
        } else {
            ticks = Axis.linearTicks(from: 0, to: max(maxY, 1), target: 4)
            let yTop = max(ticks.last ?? 1, maxY, 1)
            yOf = { v in y1 - v / yTop * (y1 - y0) }
        }
        var o = "<svg class=\"chart\" id=\"\(id)\" viewBox=\"0 0 \(num(Self.width)) \(num(h))\""
        o += " data-series=\"\(esc(series.map(\.name).joined(separator: ",")))\" role=\"img\" aria-label=\"\(esc(title))\">\n"
        o += "<title>\(esc(title))</title>\n"
        o += "<rect class=\"plot\" x=\"\(num(ts.x0))\" y=\"\(num(y0))\" width=\"\(num(ts.x1 - ts.x0))\" height=\"\(num(y1 - y0))\"/>\n"
        for b in bands {
            o += "<rect class=\"band \(b.cls)\" x=\"\(num(ts.x(b.fromMs)))\" y=\"\(num(y0))\" width=\"\(num(max(1, ts.x(b.toMs) - ts.x(b.fromMs))))\""
            o += " height=\"\(num(y1 - y0))\" data-from-ms=\"\(Int(b.fromMs))\" data-to-ms=\"\(Int(b.toMs))\"><title>\(esc(b.label))</title></rect>\n"
        }
        for t in ticks {
            let y = yOf(t)
            o += "<line class=\"grid\" x1=\"\(num(ts.x0))\" x2=\"\(num(ts.x1))\" y1=\"\(num(y))\" y2=\"\(num(y))\"/>"
            o += "<text class=\"ytick\" x=\"\(num(ts.x0 - 6))\" y=\"\(num(y + 4))\">\(esc(shortNum(t)))</text>\n"
        }
        o += "<text class=\"yunit\" x=\"4\" y=\"\(num(y0 + 10))\">\(esc(yUnit))</text>\n"
        for t in Axis.timeTicks(fromMs: ts.fromMs, toMs: ts.toMs) {
            let x = ts.x(t)
            o += "<line class=\"xgrid\" x1=\"\(num(x))\" x2=\"\(num(x))\" y1=\"\(num(y0))\" y2=\"\(num(y1))\"/>"
            o += "<text class=\"xtick\" x=\"\(num(x))\" y=\"\(num(h - 8))\">\(esc(Axis.timeLabel(ms: t)))</text>\n"
        }
        if series.allSatisfy({ $0.points.isEmpty }) {
            o += "<text class=\"empty\" x=\"\(num((ts.x0 + ts.x1) / 2))\" y=\"\(num((y0 + y1) / 2))\">\(esc(emptyNote))</text>\n"
        } else if stacked {
            var base = [Double](repeating: 0, count: series.first?.points.count ?? 0)
            for s in series {
                var upper: [String] = [], lower: [String] = []
                for (i, p) in s.points.enumerated() where i < base.count {
                    upper.append("\(num(ts.x(p.x))),\(num(yOf(base[i] + p.y)))")
                    lower.append("\(num(ts.x(p.x))),\(num(yOf(base[i])))")
                    base[i] += p.y
                }
                o += "<path class=\"series area\" data-series=\"\(esc(s.name))\" fill=\"\(s.color)\" d=\"M"
                    + upper.joined(separator: "L") + "L" + lower.reversed().joined(separator: "L") + "Z\"><title>\(esc(s.name))</title></path>\n"
            }
        } else {
            for s in series where !s.points.isEmpty {
                var d = "M"
                d.reserveCapacity(s.points.count * 14)
                for (i, p) in s.points.enumerated() {
                    if i > 0 { d += p.x - s.points[i - 1].x > s.gap ? "M" : "L" }
                    d += num(ts.x(p.x)); d += ","; d += num(yOf(p.y))
                }
                o += "<path class=\"series line\(s.dashed ? " dashed" : "")\" data-series=\"\(esc(s.name))\" stroke=\"\(s.color)\" d=\"\(d)\"><title>\(esc(s.name))</title></path>\n"
            }
        }
        for m in markers {
            let x = ts.x(m.atMs)
            o += "<line class=\"marker \(m.cls)\" x1=\"\(num(x))\" x2=\"\(num(x))\" y1=\"\(num(y0))\" y2=\"\(num(y1))\" data-at-ms=\"\(Int(m.atMs))\"><title>\(esc(m.label))</title></line>\n"
        }
        o += "</svg>\n"
        return o
    }
}

/// A number for SVG attributes: at most one decimal, no exponent.
func num(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let tenths = (v * 10).rounded()
    let i = Int(tenths)
    if i % 10 == 0 { return "\(i / 10)" }
    return (i < 0 ? "-" : "") + "\(abs(i) / 10).\(abs(i) % 10)"
}

/// A tick label: 0.1, 2, 1.5k, 20k, 3M.
func shortNum(_ v: Double) -> String {
    let a = abs(v)
    if a >= 1_000_000 { return num(v / 1_000_000) + "M" }
    if a >= 1_000 { return num(v / 1_000) + "k" }
    if a > 0, a < 0.1 { return "\(v)" }
    return num(v)
}

extension Double {
    var log10: Double { Foundation.log10(self) }
}
private func esc(_ s: String) -> String { Render.esc(s) }
