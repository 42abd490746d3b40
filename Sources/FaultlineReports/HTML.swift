import Foundation
import Faultline

extension Render {
    /// How many time buckets a chart draws at most (its plot is about 1,100 px wide); a longer run is
    /// downsampled for drawing only, keeping each bucket's extremes (`Downsample.minMax`).
    static let drawBuckets = 600
    /// Ids listed in full before "… and N more (ledger.jsonl)".
    static let listCap = 2_000
    /// Commands shown before "… and N more (commands.log)".
    static let commandCap = 5_000

    /// `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched) with the
    /// verdicts, the lost and indeterminate writes, and on one time axis: ok/s per workload, errors per class
    /// (stacked), latency p50/p99 (log), replication lag, the fault and phase bands, leader changes, alerts,
    /// operation steps and the recovery breakdown; then the topology before and after and the commands, masked.
    public static func html(_ r: RunReport, commands: [String] = []) -> String {
        let obs = r.observations
        let end = Double(max(obs.endMs, obs.events.map(\.atMs).max() ?? 0, 1_000))
        let ts = Chart.scale(fromMs: 0, toMs: end)
        let overlay = Overlay(r, endMs: end)
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<title>\(e(r.scenario.name)): \(e(r.status)) (\(e(r.runId)))</title>\n<style>\(css)</style>\n</head>\n"
        h += "<body data-status=\"\(e(r.status))\" data-exit-code=\"\(r.exitCode)\">\n"
        h += header(r)
        h += verdictSection(r)
        h += "<section id=\"timeline\">\n<h2>Timeline</h2>\n"
        h += "<p class=\"hint\">One time axis, seconds since the load started. Shaded red: a fault in effect; "
            + "lines: leader changes (purple), alerts (orange), operation steps (blue), RTO (green). "
            + "Hover for details.</p>\n"
        h += lane(r, overlay: overlay, ts: ts)
        for c in charts(r, overlay: overlay) {
            h += "<figure class=\"figure\" id=\"fig-\(c.id)\">\n<figcaption>\(e(c.title))" + legend(c) + "</figcaption>\n"
            h += c.svg(ts) + "</figure>\n"
        }
        h += "</section>\n"
        h += writesSection(r)
        h += recoverySection(r)
        h += topologySection(r)
        h += eventsSection(r)
        h += commandsSection(commands)
        h += "<footer>Faultline report, schema version \(r.schemaVersion). Files beside it: report.json, report.md, "
            + "junit.xml, timeline.jsonl, ledger.jsonl, commands.log.</footer>\n</body>\n</html>\n"
        return h
    }

    private static func e(_ s: String) -> String { esc(s) }
    /// Escaped and masked: any free text from the run (details, reasons, messages).
    private static func m(_ s: String) -> String { esc(SecretMasker.mask(s)) }

    // MARK: - Sections

    private static func header(_ r: RunReport) -> String {
        let s = r.scenario
        var h = "<header>\n<h1>\(e(s.name)) <span class=\"badge \(statusClass(r.status))\">\(e(r.status.uppercased()))</span>"
        h += " <span class=\"exit\">exit \(r.exitCode)</span></h1>\n"
        if !s.summary.isEmpty { h += "<p class=\"summary\">\(e(s.summary))</p>\n" }
        h += "<dl class=\"facts\">"
        var facts: [(String, String)] = [("run", r.runId), ("environment", r.environment), ("started", r.startedAt),
                                         ("took", DurationText.human(ms: r.durationMs)),
                                         ("load", s.workloads.map(\.description).joined(separator: ", "))]
        if !r.overrides.isEmpty { facts.append(("overrides", r.overrides.map(SecretMasker.mask).joined(separator: " "))) }
        for (k, v) in facts { h += "<dt>\(e(k))</dt><dd>\(e(v))</dd>" }
        h += "</dl>\n"
        let obs = r.observations
        var alerts: [String] = obs.harnessErrors.map { "harness error: " + $0 }
        alerts += (obs.unsupported ?? []).map { "not supported here (verdicts skipped): " + $0 }
        if let f = obs.recoveryFailure { alerts.append("the cluster did not recover after the heal: \(f.message) (last seen: \(f.lastSeen))") }
        if obs.cancelled { alerts.append("cancelled (Ctrl-C): the faults were healed and the load stopped") }
        for a in alerts { h += "<p class=\"warning\">\(m(a))</p>\n" }
        return h + "</header>\n"
    }

    static func statusClass(_ s: String) -> String {
        switch s {
        case "passed": "passed"
        case "target-failed", "failed": "failed"
        case "skipped": "skipped"
        case "aborted": "aborted"
        default: "error"
        }
    }

    private static func verdictSection(_ r: RunReport) -> String {
        var h = "<section id=\"verdicts\">\n<h2>Verdicts</h2>\n<table class=\"verdicts\">\n"
        h += "<thead><tr><th>Check</th><th>Result</th><th>Measured</th><th>Target</th><th>Notes</th></tr></thead>\n<tbody>\n"
        if r.verdicts.isEmpty { h += "<tr><td colspan=\"5\">no verdicts (the run checked nothing)</td></tr>\n" }
        for v in r.verdicts {
            let res = v.result
            let measured = res.measured?.description ?? (res.status == .failed ? "never" : "")
            let notes = ([res.message].compactMap { $0 } + v.notes).map(m).joined(separator: "<br>")
            h += "<tr class=\"\(res.status.rawValue)\" data-verdict=\"\(e(v.id))\"><td>\(e(v.title))</td>"
            h += "<td class=\"result\">\(res.status.rawValue)</td><td>\(e(measured))</td>"
            h += "<td>\(e(res.target.map { "≤ \($0)" } ?? ""))</td><td class=\"notes\">\(notes)</td></tr>\n"
        }
        return h + "</tbody>\n</table>\n</section>\n"
    }

    private static func writesSection(_ r: RunReport) -> String {
        let obs = r.observations
        var h = "<section id=\"writes\">\n<h2>Writes</h2>\n<ul>\n"
        h += "<li>acknowledged: \(obs.load.acked.count)</li>\n"
        let lost = r.verdicts.first { $0.id == "lost-writes" }?.items ?? []
        if let rb = obs.readBack {
            if let err = rb.error { h += "<li>read-back failed: \(m(err))</li>\n" } else {
                h += "<li>read back: \(rb.checked), <strong>lost: \(lost.count)</strong>"
                    + ((rb.attempts ?? 1) > 1 ? " (on attempt \(rb.attempts!))" : "") + "</li>\n"
            }
            if let ms = rb.members {
                h += "<li>read on every member that answered" + (rb.membersBecause.map { " (\(m($0)))" } ?? "") + ": "
                    + ms.map { x in e(x.member) + " " + (x.error.map { "did not answer: " + m($0) } ?? "\(x.missing ?? 0) missing") }
                        .joined(separator: ", ") + "</li>\n"
            }
        } else {
            h += "<li>not read back</li>\n"
        }
        h += "<li>indeterminate (COMMIT unanswered: neither lost nor safe): \(obs.load.indeterminate.count)</li>\n</ul>\n"
        h += "<h3>Lost writes (\(lost.count))</h3>\n"
        h += lost.isEmpty ? "<p class=\"none\">none</p>\n" : "<p class=\"ids\" id=\"lost-ids\">" + lost.prefix(listCap).map(e).joined(separator: " ")
            + (lost.count > listCap ? " … and \(lost.count - listCap) more (ledger.jsonl)" : "") + "</p>\n"
        let ind = obs.load.indeterminate
        h += "<h3>Indeterminate writes (\(ind.count))</h3>\n"
        if ind.isEmpty { h += "<p class=\"none\">none</p>\n" } else {
            h += "<table class=\"small\" id=\"indeterminate\"><thead><tr><th>id</th><th>started</th><th>gave up</th><th>reason</th></tr></thead><tbody>\n"
            for w in ind.prefix(listCap) {
                h += "<tr><td>\(e(w.id))</td><td>\(e(Axis.timeLabel(ms: w.startMs)))</td><td>\(e(Axis.timeLabel(ms: w.giveUpMs)))</td><td>\(m(w.reason))</td></tr>\n"
            }
            if ind.count > listCap { h += "<tr><td colspan=\"4\">… and \(ind.count - listCap) more (ledger.jsonl)</td></tr>\n" }
            h += "</tbody></table>\n"
        }
        return h + "</section>\n"
    }

    private static func recoverySection(_ r: RunReport) -> String {
        var h = "<section id=\"recovery\">\n<h2>Recovery</h2>\n"
        guard let rec = r.recovery else { return h + "<p class=\"none\">nothing was injected</p>\n</section>\n" }
        h += "<p>Since the injection at \(e(DurationText.human(ms: rec.injectedAtMs))) after the load started.</p>\n"
        h += "<table class=\"small\"><thead><tr><th>Step</th><th>At</th></tr></thead><tbody>\n"
        for step in recoverySteps(r) {
            h += "<tr><td>\(e(step.label))</td><td>\(step.ms.map { "+" + DurationText.human(ms: $0) } ?? "not seen")</td></tr>\n"
        }
        return h + "</tbody></table>\n</section>\n"
    }

    /// The breakdown, in order: (label, ms since injection, CSS class).
    static func recoverySteps(_ r: RunReport) -> [(label: String, ms: Int?, cls: String)] {
        guard let rec = r.recovery else { return [] }
        var out: [(String, Int?, String)] = [("first write error", rec.outageStartMs, "outage"),
                                             ("detection: old leader gone", rec.detectionMs, "detection"),
                                             ("promotion: new leader seen", rec.promotionMs, "promotion"),
                                             ("routing: first write after promotion", rec.firstWriteAfterPromotionMs, "routing")]
        if rec.probeIntervalMs != nil { out.append(("service restored (probe)", rec.serviceRestoredMs, "restored")) }
        out.append(("application recovered (workload)", rec.recoveryMs, "recovered"))
        if let rto = r.verdicts.first(where: { $0.id == "rto" })?.result.measured { out.append(("RTO (judged)", Int(rto.value), "rto")) }
        return out
    }

    private static func topologySection(_ r: RunReport) -> String {
        var h = "<section id=\"topology\">\n<h2>Topology</h2>\n<div class=\"pair\">\n"
        for (name, t) in [("Before", r.observations.topologyBefore), ("After", r.observations.topologyAfter)] {
            h += "<div><h3>\(name)</h3>\n"
            guard let t else { h += "<p class=\"none\">not read</p></div>\n"; continue }
            h += "<table class=\"small\"><thead><tr><th>member</th><th>role</th><th>timeline</th><th>lag (bytes)</th><th>host</th></tr></thead><tbody>\n"
            for x in t.members.sorted(by: { $0.name < $1.name }) {
                h += "<tr class=\"role-\(x.role.rawValue)\"><td>\(e(x.name))</td><td>\(x.role.rawValue)</td><td>\(x.timeline.map(String.init) ?? "")</td>"
                h += "<td>\(x.lagBytes.map { String($0) } ?? "")</td><td>\(e(x.host))</td></tr>\n"
            }
            h += "</tbody></table></div>\n"
        }
        return h + "</div>\n</section>\n"
    }

    private static func eventsSection(_ r: RunReport) -> String {
        let t0 = r.observations.injectedAtMs
        var h = "<section id=\"events\">\n<details open>\n<summary><h2>Events (\(r.observations.events.count))</h2></summary>\n"
        h += "<table class=\"small\"><thead><tr><th>t</th><th>since injection</th><th>event</th><th>member</th><th>detail</th></tr></thead><tbody>\n"
        for ev in r.observations.events {
            let rel = t0.map { ev.atMs >= $0 ? "+" + DurationText.human(ms: ev.atMs - $0) : "" } ?? ""
            h += "<tr class=\"ev-\(ev.kind.rawValue)\"><td>\(e(DurationText.human(ms: ev.atMs)))</td><td>\(e(rel))</td>"
            h += "<td>\(ev.kind.rawValue)</td><td>\(e(ev.member ?? ""))</td><td>\(m(ev.detail ?? ""))</td></tr>\n"
        }
        return h + "</tbody></table>\n</details>\n</section>\n"
    }

    private static func commandsSection(_ commands: [String]) -> String {
        var h = "<section id=\"commands\">\n<details>\n<summary><h2>Commands run (\(commands.count), secrets masked)</h2></summary>\n"
        if commands.isEmpty { return h + "<p class=\"none\">none recorded</p>\n</details>\n</section>\n" }
        h += "<pre class=\"commands\">"
        for c in commands.prefix(commandCap) { h += m(c) + "\n" }
        if commands.count > commandCap { h += "… and \(commands.count - commandCap) more (commands.log)\n" }
        return h + "</pre>\n</details>\n</section>\n"
    }

    // MARK: - Charts

    /// What every chart of a run shades and marks.
    struct Overlay {
        var faults: [Band] = []
        var phases: [Band] = []
        var markers: [Marker] = []

        init(_ r: RunReport, endMs: Double) {
            let evs = r.observations.events
            for (i, ev) in evs.enumerated() where ev.kind == .faultInjected {
                let heal = evs[(i + 1)...].first { $0.kind == .healFinished || $0.kind == .healFailed }
                let label = "fault: " + SecretMasker.mask(ev.detail ?? "") + (ev.member.map { " (\($0))" } ?? "")
                    + " from \(Axis.timeLabel(ms: Double(ev.atMs)))" + (heal.map { " to \(Axis.timeLabel(ms: Double($0.atMs)))" } ?? " to the end")
                faults.append(Band(fromMs: Double(ev.atMs), toMs: Double(heal?.atMs ?? Int(endMs)), cls: "fault-band", label: label))
            }
            let ph = evs.filter { $0.kind == .phase }
            for (i, p) in ph.enumerated() {
                let to = i + 1 < ph.count ? Double(ph[i + 1].atMs) : endMs
                phases.append(Band(fromMs: Double(max(0, p.atMs)), toMs: to, cls: "phase phase-\(i % 2)", label: p.detail ?? "phase"))
            }
            for ev in evs {
                let at = Double(ev.atMs), detail = ev.detail.map(SecretMasker.mask) ?? ""
                let what = "\(Axis.timeLabel(ms: at)): \(ev.kind.rawValue)" + (ev.member.map { " \($0)" } ?? "") + (detail.isEmpty ? "" : ": " + detail)
                let who = ev.member ?? "?"
                switch ev.kind {
                case .leaderLost: markers.append(Marker(atMs: at, cls: "leader leader-lost", label: what, short: "\(who) lost"))
                case .leaderElected where ev.atMs > 0:
                    markers.append(Marker(atMs: at, cls: "leader leader-elected", label: what, short: "\(who) elected"))
                case .multiplePrimaries: markers.append(Marker(atMs: at, cls: "leader multiple", label: what, short: "two primaries"))
                case .conditionMet where detail.hasPrefix("alert "):
                    markers.append(Marker(atMs: at, cls: detail.hasSuffix("resolved") ? "alert alert-resolved" : "alert alert-firing", label: what,
                                          short: String(detail.dropFirst(6)).replacingOccurrences(of: "Faultline", with: "")))
                case .operationStarted, .operationFinished, .operationFailed, .mark:
                    markers.append(Marker(atMs: at, cls: "operation", label: what, short: String(detail.prefix(28))))
                default: break
                }
            }
            if let rec = r.recovery, let rto = r.verdicts.first(where: { $0.id == "rto" })?.result.measured {
                markers.append(Marker(atMs: Double(rec.injectedAtMs) + rto.value, cls: "rto",
                                      label: "RTO: +\(DurationText.human(ms: Int(rto.value))) after the injection"))
            }
        }
    }

    static let palette = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#e377c2", "#7f7f7f"]
    static let errorColors: [Outcome: String] = [
        .connectionRefused: "#d62728", .tooManyConnections: "#ff9896", .clientBackoff: "#f7b6d2", .connectionLost: "#ff7f0e",
        .readOnly: "#9467bd", .adminShutdown: "#8c564b", .timeout: "#bcbd22", .otherSQLState: "#7f7f7f", .indeterminate: "#000000",
    ]

    /// The workloads drawn: every workload's own windows ("all" only when there is nothing else).
    static func workloads(_ windows: [TimelineWindow]) -> [String] {
        var seen: [String] = []
        for w in windows where !seen.contains(w.workload) { seen.append(w.workload) }
        let own = seen.filter { $0 != "all" }
        return own.isEmpty ? seen : own
    }

    static func charts(_ r: RunReport, overlay: Overlay) -> [Chart] {
        let windows = r.observations.load.windows
        let names = workloads(windows)
        var byName: [String: [TimelineWindow]] = [:]
        for w in windows { byName[w.workload, default: []].append(w) }
        for k in byName.keys { byName[k]!.sort { $0.startMs < $1.startMs } }
        func base(_ id: String, _ title: String, _ unit: String) -> Chart {
            Chart(id: id, title: title, yUnit: unit, bands: overlay.faults, markers: overlay.markers)
        }
        var thr = base("chart-throughput", "Acknowledged requests per second, per workload", "ok/s")
        var lat = base("chart-latency", "Latency of acknowledged requests per 100 ms window: p99 (solid), p50 (dashed), log scale", "ms")
        lat.log = true
        // A latency line breaks where no request was acknowledged for three windows or two drawing buckets.
        let span = Double((windows.map { $0.startMs + $0.lengthMs }.max() ?? 0) - (windows.map(\.startMs).min() ?? 0))
        let gap = max(300, 2.5 * span / Double(drawBuckets))
        for (i, n) in names.enumerated() {
            let ws = byName[n] ?? []
            let color = palette[i % palette.count]
            thr.series.append(Series(name: n, color: color, points: Downsample.minMax(
                ws.map { ChartPoint(Double($0.startMs + $0.lengthMs / 2), Double($0.ok) * 1000 / Double(max(1, $0.lengthMs))) },
                buckets: drawBuckets)))
            let p99 = ws.compactMap { w in w.p99Us.map { ChartPoint(Double(w.startMs + w.lengthMs / 2), Double($0) / 1000) } }
            let p50 = ws.compactMap { w in w.p50Us.map { ChartPoint(Double(w.startMs + w.lengthMs / 2), Double($0) / 1000) } }
            lat.series.append(Series(name: "\(n) p99", color: color, points: Downsample.minMax(p99, buckets: drawBuckets), gap: gap))
            lat.series.append(Series(name: "\(n) p50", color: color, points: Downsample.minMax(p50, buckets: drawBuckets), dashed: true, gap: gap))
        }
        thr.emptyNote = "no load windows recorded"
        lat.emptyNote = "no acknowledged request"
        var err = base("chart-errors", "Errors per second, by class, stacked (all workloads)", "errors/s")
        err.stacked = true
        err.series = errorSeries(byName["all"] ?? windows.filter { names.contains($0.workload) })
        err.emptyNote = "no errors"
        var out = [thr, err, lat]
        if let lag = r.observations.probes?.lag, !lag.isEmpty {
            let useBytes = lag.contains { $0.bytes != nil }
            var c = base("chart-lag", "Replication lag per replica (primary's pg_stat_replication), " + (useBytes ? "bytes" : "seconds"),
                         useBytes ? "bytes" : "s")
            let members = Array(Set(lag.map(\.member))).sorted()
            for (i, mem) in members.enumerated() {
                let pts = lag.filter { $0.member == mem }.sorted { $0.atMs < $1.atMs }
                    .compactMap { s in (useBytes ? s.bytes.map(Double.init) : s.seconds).map { ChartPoint(Double(s.atMs), $0) } }
                c.series.append(Series(name: mem, color: palette[(i + 3) % palette.count], points: Downsample.minMax(pts, buckets: drawBuckets),
                                       gap: max(2_000, 2.5 * span / Double(drawBuckets))))
            }
            out.append(c)
        }
        return out
    }

    /// One stacked series per error class present: per drawing bucket, each class's peak rate (errors/s).
    static func errorSeries(_ windows: [TimelineWindow]) -> [Series] {
        // Sum the windows that start together (several workloads), then bucket.
        var sums: [Int: (len: Int, e: [Outcome: Int])] = [:]
        for w in windows {
            var cur = sums[w.startMs] ?? (w.lengthMs, [:])
            for (k, v) in w.errors { cur.e[k, default: 0] += v }
            sums[w.startMs] = cur
        }
        let starts = sums.keys.sorted()
        let classes = Outcome.allCases.filter { c in c != .ok && sums.values.contains { ($0.e[c] ?? 0) > 0 } }
        guard !classes.isEmpty, let first = starts.first, let last = starts.last else { return [] }
        let n = min(drawBuckets, starts.count)
        var peak = [Outcome: [Double]](uniqueKeysWithValues: classes.map { ($0, [Double](repeating: 0, count: n)) })
        var xs = [Double](repeating: 0, count: n)
        for (i, s) in starts.enumerated() {
            let b = starts.count <= drawBuckets ? i : Downsample.bucket(Double(s), from: Double(first), to: Double(last) + 1, buckets: n)
            let v = sums[s]!
            xs[b] = starts.count <= drawBuckets ? Double(s + v.len / 2)
                : Double(first) + (Double(last + v.len - first)) * (Double(b) + 0.5) / Double(n)
            for c in classes { peak[c]![b] = max(peak[c]![b], Double(v.e[c] ?? 0) * 1000 / Double(max(1, v.len))) }
        }
        return classes.map { c in
            Series(name: c.rawValue, color: errorColors[c] ?? "#444", points: zip(xs, peak[c]!).map { ChartPoint($0, $1) })
        }
    }

    private static func legend(_ c: Chart) -> String {
        guard !c.series.isEmpty else { return "" }
        return " <span class=\"legend\">" + c.series.map { s in
            "<span class=\"key\"><span class=\"swatch\(s.dashed ? " dashed" : "")\" style=\"background:\(s.color)\"></span>\(e(s.name))</span>"
        }.joined(separator: " ") + "</span>"
    }

    /// The lane above the charts: phases, faults, markers with labels, the recovery breakdown and the service probe.
    private static func lane(_ r: RunReport, overlay: Overlay, ts: TimeScale) -> String {
        let steps = recoverySteps(r).filter { $0.ms != nil && $0.cls != "outage" }
        let probe = r.observations.load.probe
        let rowH = 18.0
        var y = 4.0
        var body = ""
        // Phases.
        for p in overlay.phases {
            let x0 = ts.x(p.fromMs), x1 = ts.x(p.toMs)
            body += "<rect class=\"band \(p.cls)\" x=\"\(num(x0))\" y=\"\(num(y))\" width=\"\(num(max(1, x1 - x0)))\" height=\"\(num(rowH))\"><title>phase \(e(p.label))</title></rect>"
            if x1 - x0 > 36 { body += "<text class=\"phase-label\" x=\"\(num(x0 + 3))\" y=\"\(num(y + 13))\">\(e(p.label))</text>" }
            body += "\n"
        }
        body += "<text class=\"row-label\" x=\"4\" y=\"\(num(y + 13))\">phases</text>\n"
        y += rowH + 4
        for f in overlay.faults {
            let x0 = ts.x(f.fromMs), x1 = ts.x(f.toMs)
            body += "<rect class=\"band fault-band\" x=\"\(num(x0))\" y=\"\(num(y))\" width=\"\(num(max(1, x1 - x0)))\" height=\"\(num(rowH))\"><title>\(e(f.label))</title></rect>"
            body += "<text class=\"fault-label\" x=\"\(num(x0 + 3))\" y=\"\(num(y + 13))\">\(e(String(f.label.prefix(Int(max(8, (x1 - x0) / 6))))))</text>\n"
        }
        body += "<text class=\"row-label\" x=\"4\" y=\"\(num(y + 13))\">faults</text>\n"
        y += rowH + 4
        // Markers: one row for leader changes, one for alerts and operations, labels staggered.
        for (label, pick) in [("leader", "leader"), ("alerts, ops", "alert|operation")] {
            let ms = overlay.markers.filter { m in pick.split(separator: "|").contains { m.cls.hasPrefix(String($0)) } }
            for (i, mk) in ms.enumerated() {
                let x = ts.x(mk.atMs)
                body += "<line class=\"marker \(mk.cls)\" x1=\"\(num(x))\" x2=\"\(num(x))\" y1=\"\(num(y))\" y2=\"\(num(y + rowH * 2))\"><title>\(e(mk.label))</title></line>"
                let right = x > ts.x1 - 160
                body += "<text class=\"marker-label\" x=\"\(num(right ? x - 3 : x + 3))\" y=\"\(num(y + (i % 2 == 0 ? 12 : 30)))\"" + (right ? " text-anchor=\"end\"" : "") + ">\(e(mk.short))</text>\n"
            }
            body += "<text class=\"row-label\" x=\"4\" y=\"\(num(y + 13))\">\(label)</text>\n"
            y += rowH * 2 + 4
        }
        // Recovery breakdown: one bar per step, from the injection to its instant.
        if let rec = r.recovery {
            let t0 = Double(rec.injectedAtMs)
            body += "<g class=\"recovery\">"
            for s in steps {
                let x0 = ts.x(t0), x1 = ts.x(t0 + Double(s.ms!))
                body += "<rect class=\"step \(s.cls)\" x=\"\(num(x0))\" y=\"\(num(y + 3))\" width=\"\(num(max(2, x1 - x0)))\" height=\"\(num(rowH - 6))\" data-ms=\"\(s.ms!)\"><title>\(e(s.label)): +\(e(DurationText.human(ms: s.ms!)))</title></rect>"
                body += "<text class=\"step-label\" x=\"\(num(x1 + 4))\" y=\"\(num(y + 13))\">\(e(s.label)) +\(e(DurationText.human(ms: s.ms!)))</text>\n"
                y += rowH
            }
            if steps.isEmpty { body += "<text class=\"step-label\" x=\"\(num(ts.x(t0) + 4))\" y=\"\(num(y + 13))\">no recovery step seen</text>\n"; y += rowH }
            body += "</g>\n<text class=\"row-label\" x=\"4\" y=\"\(num(y - Double(max(1, steps.count)) * rowH + 13))\">recovery</text>\n"
            y += 4
        }
        // The service probe: per drawing bucket, red if any attempt failed, else green.
        if let p = probe, !p.attempts.isEmpty {
            var state = [Int: Bool]()
            for a in p.attempts where a.endMs >= ts.fromMs && a.endMs <= ts.toMs {
                let b = Downsample.bucket(a.endMs, from: ts.fromMs, to: ts.toMs, buckets: drawBuckets)
                state[b] = (state[b] ?? true) && a.ok
            }
            let w = (ts.x1 - ts.x0) / Double(drawBuckets)
            body += "<g class=\"probe\">"
            for (b, ok) in state.sorted(by: { $0.key < $1.key }) {
                body += "<rect class=\"\(ok ? "probe-ok" : "probe-err")\" x=\"\(num(ts.x0 + Double(b) * w))\" y=\"\(num(y))\" width=\"\(num(max(1, w)))\" height=\"\(num(rowH - 4))\"/>"
            }
            body += "</g>\n<text class=\"row-label\" x=\"4\" y=\"\(num(y + 12))\">probe</text>\n"
            y += rowH
        }
        y += 4
        var axis = ""
        for t in Axis.timeTicks(fromMs: ts.fromMs, toMs: ts.toMs) {
            let x = ts.x(t)
            axis += "<line class=\"xgrid\" x1=\"\(num(x))\" x2=\"\(num(x))\" y1=\"0\" y2=\"\(num(y))\"/>"
            axis += "<text class=\"xtick\" x=\"\(num(x))\" y=\"\(num(y + 14))\">\(e(Axis.timeLabel(ms: t)))</text>\n"
        }
        return "<figure class=\"figure\" id=\"fig-lane\"><figcaption>Phases, faults, Patroni's view (leader changes), alerts and operations, "
            + "the recovery breakdown since the injection" + (probe == nil ? "" : ", and the service probe (green: writes acknowledged, red: failing)")
            + "</figcaption>\n<svg class=\"lane\" id=\"chart-lane\" viewBox=\"0 0 \(num(Chart.width)) \(num(y + 20))\" role=\"img\" aria-label=\"run timeline\">\n"
            + axis + body + "</svg>\n</figure>\n"
    }

    static let css = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1240px;padding:16px 20px;color:#1d1d1f;background:#fff}
    h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:22px 0 8px;display:inline-block}h3{font-size:15px;margin:12px 0 4px}
    .badge{font-size:14px;padding:2px 8px;border-radius:4px;color:#fff;vertical-align:middle}
    .badge.passed{background:#2e7d32}.badge.failed{background:#c62828}.badge.error{background:#6a1b9a}.badge.skipped{background:#757575}.badge.aborted{background:#e65100}
    .exit{font-size:14px;color:#555;font-weight:normal}.summary{color:#444;margin:4px 0}
    dl.facts{display:flex;flex-wrap:wrap;gap:2px 18px;margin:6px 0}dl.facts dt{color:#666}dl.facts dt::after{content:":"}dl.facts dd{margin:0 0 0 -14px;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
    .warning{background:#fdecea;border-left:4px solid #c62828;padding:6px 10px;margin:6px 0}
    table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e0e0e0;padding:4px 6px;text-align:left;vertical-align:top}
    th{background:#f5f5f5}table.small{width:auto;font-size:13px}td.notes{font-size:12px;color:#444}
    tr.passed td.result{color:#2e7d32;font-weight:600}tr.failed td.result{color:#c62828;font-weight:600}
    tr.skipped td.result{color:#757575;font-weight:600}tr.error td.result{color:#6a1b9a;font-weight:600}tr.aborted td.result{color:#e65100;font-weight:600}tr.failed{background:#fff5f5}
    .ids{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}.none{color:#777}
    .figure{margin:10px 0 4px}figcaption{font-weight:600;font-size:13px;margin-bottom:2px}
    .legend{font-weight:normal;margin-left:10px}.key{margin-right:10px;white-space:nowrap}
    .swatch{display:inline-block;width:14px;height:4px;margin-right:4px;vertical-align:middle}.swatch.dashed{height:2px;border-top:2px dashed #fff}
    svg{width:100%;height:auto;display:block;font-family:system-ui,"DejaVu Sans",sans-serif}
    .plot{fill:#fcfcfc;stroke:#ccc}.grid,.xgrid{stroke:#eee}.ytick{font-size:11px;text-anchor:end;fill:#555}.xtick{font-size:11px;text-anchor:middle;fill:#555}
    .yunit{font-size:11px;fill:#555}.empty{font-size:13px;fill:#888;text-anchor:middle}
    .fault-band{fill:#e53935;fill-opacity:.13}.phase-0{fill:#eceff1}.phase-1{fill:#dfe4e8}.phase-label,.fault-label,.marker-label,.step-label{font-size:11px;fill:#333}
    .row-label{font-size:11px;fill:#888;font-style:italic}
    .line{fill:none;stroke-width:1.6}.line.dashed{stroke-dasharray:4 3;stroke-width:1.2}.area{fill-opacity:.85;stroke:none}
    .marker{stroke-width:1.3}.leader{stroke:#6a1b9a;stroke-dasharray:5 3}.alert-firing{stroke:#ef6c00}.alert-resolved{stroke:#ef6c00;stroke-dasharray:2 2}
    .operation{stroke:#1565c0}.rto{stroke:#2e7d32;stroke-width:2}.multiple{stroke:#000;stroke-width:2}
    .step{fill:#90a4ae}.step.detection{fill:#8e24aa}.step.promotion{fill:#5e35b1}.step.routing{fill:#1e88e5}.step.restored{fill:#43a047}.step.recovered{fill:#7cb342}.step.rto{fill:#2e7d32}
    .bar{fill:#1f77b4}.point{fill:#1f77b4}.point.failed{fill:#c62828}.point.error{fill:#6a1b9a}
    .probe-ok{fill:#66bb6a}.probe-err{fill:#e53935}
    .pair{display:flex;gap:40px;flex-wrap:wrap}.pair>.figure{flex:1 1 500px;min-width:420px}details summary{cursor:pointer}
    pre.commands{font-size:12px;background:#f7f7f7;padding:8px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
    footer{color:#888;font-size:12px;margin-top:24px}
    """
}
