import Foundation
import Testing
@testable import Faultline
@testable import FaultlineReports
import Scenarios

@Suite("Game day")
struct GameDayTests {
    // MARK: - Default hypotheses and their verdicts

    @Test func defaultHypothesesCoverEveryJudgedTargetOfKillPrimary() {
        let hs = GameDay.defaultHypotheses(killPrimary)
        let ids = hs.compactMap(\.verdict)
        #expect(ids == ["steady-state", "rto", "lost-writes", "cluster-recovered", "await-new-primary", "settle-cluster-healthy",
                        "error-budget-after", "p99-after"], "\(ids)")
        #expect(hs.count == 8)
        #expect(hs.allSatisfy { $0.verdict != nil && $0.held == nil })
        #expect(hs.first { $0.verdict == "rto" }?.text == "writes come back within 30s of the injection (RTO)")
        #expect(hs.first { $0.verdict == "settle-cluster-healthy" }?.text
                == "cluster healthy (3 members, 1 primary, 1 sync) within 1m of the heal's end")
        #expect(hs.contains { $0.verdict == "lost-writes" && $0.text == "no acknowledged write is lost" })
    }

    @Test func everyDefaultHypothesisIsLinkedToAVerdictTheJudgementProduces() {
        for s in [killPrimary] + Catalogue.all {
            let verdictIds = Set(Assertions.evaluate(s, Fixture.outage20s()).map(\.id))
            let conditionIds = Set(GameDay.conditionVerdictIds(s).values)
            let judged = Set(Assertions.conditions(s, Observations()).map(\.id))
            #expect(conditionIds == judged, "\(s.name): \(conditionIds) vs \(judged)")
            for h in GameDay.defaultHypotheses(s) where h.verdict != "steady-state" && h.verdict != "cluster-recovered" {
                #expect(verdictIds.contains(h.verdict!), "\(s.name): no verdict \(h.verdict!) in \(verdictIds.sorted())")
            }
        }
    }

    @Test func repeatedConditionsGetTheStepSuffixAsTheirVerdicts() {
        let s = Scenario("twice") {
            Load(.ledgerWrites(rate: 10))
            Inject(.killNode(.primary))
            Await(.newPrimary, within: .seconds(10))
            Await(.newPrimary, within: .seconds(10))
        }
        #expect(GameDay.conditionVerdictIds(s) == [1: "await-new-primary", 2: "await-new-primary-3"])
        #expect(Set(GameDay.conditionVerdictIds(s).values) == Set(Assertions.conditions(s, Observations()).map(\.id)))
    }

    @Test func hypothesesMapToVerdictsOrToTheTeamsJudgement() {
        let verdicts = [
            Verdict(id: "rto", title: "RTO", result: .passed(measured: .ms(4_200), target: .ms(30_000))),
            Verdict(id: "lost-writes", title: "Lost", result: .failed(measured: .count(3), target: .count(0), why: "3 lost, password=hunter2")),
        ]
        let g = GameDayRecord(scenario: "kill-primary", runId: "r", hypotheses: [
            Hypothesis("writes back within 30 s", verdict: "rto"),
            Hypothesis("nothing lost", verdict: "lost-writes"),
            Hypothesis("p99 fine", verdict: "p99-after"),
            Hypothesis("the pager goes off", held: true),
            Hypothesis("the runbook is right", held: false),
            Hypothesis("nobody panics"),
        ])
        let o = g.outcomes(verdicts)
        #expect(o.map(\.status) == [.passed, .failed, .notJudged, .held, .notHeld, .notJudged])
        #expect(o[0].measured == "4.2 s")
        #expect(o[0].target == "≤ \(Quantity.ms(30_000))")
        #expect(o[1].measured == "3")
        #expect(o[1].detail?.contains("hunter2") == false)
        #expect(o[2].detail == "no verdict p99-after in this run")
        #expect(g.ownHypotheses == [3, 4, 5])
    }

    @Test func parsesParticipantsActionItemsAndAnswers() {
        #expect(GameDayRecord.parseParticipants(" Ana, Ben ,, Cleo ") == ["Ana", "Ben", "Cleo"])
        #expect(GameDayRecord.parseParticipants("") == [])
        #expect(ActionItem.parse("Ana: fix alert") == ActionItem(owner: "Ana", text: "fix alert"))
        #expect(ActionItem.parse("  fix the runbook ") == ActionItem(owner: "", text: "fix the runbook"))
        #expect(ActionItem.parse("   ") == nil)
        #expect(GameDayRecord.parseHeld("Y") == true)
        #expect(GameDayRecord.parseHeld("no") == false)
        #expect(GameDayRecord.parseHeld("") == nil)
        #expect(GameDayRecord.parseHeld("maybe") == nil)
    }

    // MARK: - The controls

    @Test func enterOpensOnlyAWaitingGate() {
        var c = GameDayControl()
        #expect(c.keyPressed(.enter) == GameDayControl.Action.none)
        #expect(c.gateReached(0) == .redraw)
        #expect(c.gate == 0 && c.currentStep == 0)
        #expect(c.keyPressed(.enter) == .proceed)
        #expect(c.gate == nil && c.currentStep == 0)
        #expect(c.keyPressed(.enter) == GameDayControl.Action.none)
    }

    @Test func autoGoesOnAtEveryGate() {
        var c = GameDayControl(auto: true)
        #expect(c.gateReached(0) == .proceed)
        #expect(c.gateReached(1) == .proceed)
        #expect(c.gate == nil && c.currentStep == 1)
    }

    @Test func aNoteIsTypedThenSavedAndTheGateStillWaits() {
        var c = GameDayControl()
        _ = c.gateReached(2)
        #expect(c.keyPressed(.char("n")) == .redraw)
        #expect(c.input == GameDayControl.Input(kind: .note, text: ""))
        for ch in "app errx" { _ = c.keyPressed(.char(ch)) }
        #expect(c.keyPressed(.backspace) == .redraw)
        #expect(c.keyPressed(.char("s")) == .redraw)
        // Enter while typing saves the note; it does not open the gate.
        #expect(c.keyPressed(.enter) == .addNote("app errs"))
        #expect(c.state == .watching(gate: 2))
        #expect(c.keyPressed(.enter) == .proceed)
    }

    @Test func typingAnAIsTextNotAnAbort() {
        var c = GameDayControl()
        _ = c.keyPressed(.char("o"))
        #expect(c.keyPressed(.char("a")) == .redraw)
        #expect(c.keyPressed(.enter) == .addObservation("a"))
    }

    @Test func anEmptyNoteOrEscapeRecordsNothing() {
        var c = GameDayControl()
        _ = c.keyPressed(.char("n"))
        #expect(c.keyPressed(.enter) == .redraw)
        #expect(c.state == .watching(gate: nil))
        _ = c.keyPressed(.char("o"))
        _ = c.keyPressed(.char("x"))
        #expect(c.keyPressed(.escape) == .redraw)
        #expect(c.state == .watching(gate: nil))
    }

    @Test func aAbortsAndCtrlCStopsAndThenKeysAreIgnored() {
        var c = GameDayControl()
        _ = c.gateReached(1)
        #expect(c.keyPressed(.char("a")) == .abort("aborted by the facilitator"))
        #expect(c.keyPressed(.enter) == GameDayControl.Action.none)
        #expect(c.keyPressed(.char("n")) == GameDayControl.Action.none)
        #expect(c.gateReached(2) == GameDayControl.Action.none)
        var d = GameDayControl()
        _ = d.keyPressed(.char("n"))
        #expect(d.keyPressed(.interrupt) == .stop)
        #expect(d.keyPressed(.char("a")) == GameDayControl.Action.none)
        #expect(d.runFinished() == .redraw)
        #expect(d.state == .finished)
    }

    @Test func aTerminalThatGoesAwayStopsTheRunButCtrlDDoesNot() {
        var c = GameDayControl()
        _ = c.gateReached(1)
        #expect(c.keyPressed(.endOfInput) == GameDayControl.Action.none, "Ctrl-D alone does not stop a game day")
        #expect(c.keyPressed(.hangup) == .stop)
        #expect(c.state == .stopping(why: "the terminal went away: healing and stopping the load"))
        var d = GameDayControl()
        _ = d.keyPressed(.char("n"))
        _ = d.keyPressed(.char("x"))
        #expect(d.keyPressed(.hangup) == .stop, "also while a note is typed")
        var e = LineEditor()
        #expect(e.handle(.hangup) == .interrupted)
    }

    @Test func aGateReachedWhileTypingKeepsTheText() {
        var c = GameDayControl()
        _ = c.keyPressed(.char("n"))
        _ = c.keyPressed(.char("x"))
        #expect(c.gateReached(3) == .redraw)
        #expect(c.input?.text == "x" && c.gate == 3)
    }

    @Test func linesAreCommandsOrTheTypedText() {
        var c = GameDayControl()
        _ = c.gateReached(0)
        #expect(c.lineEntered("n primary gone") == .addNote("primary gone"))
        #expect(c.lineEntered("o alert late") == .addObservation("alert late"))
        #expect(c.lineEntered("") == .proceed)
        #expect(c.lineEntered("a") == .abort(GameDayControl.abortReason))
    }

    @Test func keyDecoderReadsRawBytes() {
        var d = GameDayKeyDecoder()
        #expect(d.feed(Array("n".utf8) + [0x0D, 0x7F, 0x03, 0x04]) == [.char("n"), .enter, .backspace, .interrupt, .endOfInput])
        // An arrow key's sequence is dropped; a lone Escape comes out when the input goes quiet.
        #expect(d.feed([0x1B, 0x5B, 0x41, 0x61]) == [.char("a")])
        #expect(d.feed([0x1B]) == [])
        #expect(d.flush() == [.escape])
        // UTF-8 across reads.
        let e = Array("é".utf8)
        #expect(d.feed([e[0]]) == [])
        #expect(d.feed([e[1]]) == [.char("é")])
    }

    @Test func lineEditorEditsAndEnds() {
        var l = LineEditor()
        #expect(l.handle(.char("A")) == .editing(echo: "A"))
        #expect(l.handle(.char("x")) == .editing(echo: "x"))
        #expect(l.handle(.backspace) == .editing(echo: "\u{8} \u{8}"))
        #expect(l.handle(.enter) == .entered("A"))
        #expect(l.handle(.backspace) == .editing(echo: ""))
        #expect(l.handle(.enter) == .entered(""))
        #expect(l.handle(.interrupt) == .interrupted)
    }

    // MARK: - The live view

    static func liveProgress() -> RunProgress {
        RunProgress(phase: .await, elapsedMs: 23_400,
                    load: LoadProgress(okPerSecond: 380, errorsPerSecond: 20, totalOk: 9_000, totalErrors: 240, recentP99Us: 4_200,
                                       errorsByOutcome: [.connectionRefused: 200, .readOnly: 40]),
                    topology: "n1=down n2=primary/tl2 n3=sync_standby/tl2",
                    members: Topology(members: [Member(name: "n2", role: .primary, timeline: 2),
                                                Member(name: "n1", role: .down),
                                                Member(name: "n3", role: .syncStandby, timeline: 2, lagBytes: 12_500)]),
                    alerts: [ActiveAlert(name: "FaultlinePrimaryDown", state: .firing)], step: 2, phaseElapsedMs: 3_200)
    }

    @Test func liveViewShowsLoadTopologyAlertsStepsNotesAndKeys() {
        var c = GameDayControl()
        _ = c.gateReached(0)
        _ = c.keyPressed(.enter)
        _ = c.gateReached(1)
        let snap = GameDayView.Snapshot(scenario: "kill-primary", runId: "r1", progress: Self.liveProgress(), runMs: 24_000,
                                        phaseStartedMs: 20_200, steps: GameDay.stepLabels(killPrimary), control: c,
                                        notes: [RunJournal.Entry(kind: .note, text: "app errors token=abc", atRunMs: 21_500)],
                                        log: ["error: something"])
        let lines = GameDayView.lines(snap, width: 200)
        let text = lines.joined(separator: "\n")
        #expect(lines[0] == "GAME DAY  kill-primary  run 24.0 s  phase await 3.8 s")
        #expect(text.contains("load     400/s  ok 380/s  err 20/s (240 so far)  p99 4 ms"), "\(text)")
        #expect(text.contains("errors   connection_refused 200  read_only 40"), "\(text)")
        #expect(text.contains("members  n1  down"), "\(text)")
        #expect(lines.contains("         n2  primary        tl2"), "\(text)")
        #expect(text.contains("lag 12.5 kB"), "\(text)")
        #expect(text.contains("lag      max 12.5 kB (n3)"), "\(text)")
        #expect(text.contains("alerts   FaultlinePrimaryDown firing"), "\(text)")
        #expect(text.contains("done 1. inject: "), "\(text)")
        #expect(text.contains("NEXT 2. await: new primary within 30s   <- Enter starts it"), "\(text)")
        #expect(text.contains("     3. heal: "), "\(text)")
        #expect(lines.allSatisfy { $0.last != " " })
        #expect(text.contains("+21.5 s  note: app errors token=***"), "\(text)")
        #expect(text.contains("log      error: something"), "\(text)")
        #expect(lines.last == "Enter next step · n note · o observation · a abort (heal now) · Ctrl-C stop")
        #expect(!text.contains("\u{1B}"))
        #expect(GameDayView.lines(snap, width: 30).allSatisfy { $0.count <= 30 })
    }

    @Test func liveViewShowsTheTypingLineAndTheStop() {
        var c = GameDayControl()
        _ = c.keyPressed(.char("o"))
        _ = c.keyPressed(.char("z"))
        var snap = GameDayView.Snapshot(scenario: "s", runId: "r", steps: ["inject: x"], control: c)
        var lines = GameDayView.lines(snap, width: 100)
        #expect(lines.contains("observation> z_"))
        #expect(lines.contains("members  not seen yet"))
        _ = c.keyPressed(.escape)
        _ = c.keyPressed(.char("a"))
        snap.control = c
        lines = GameDayView.lines(snap, width: 100)
        #expect(lines.last == "aborting: healing now")
    }

    @Test func liveViewMarksEveryStepDoneOnceTheStepsAreOver() {
        var c = GameDayControl(auto: true)
        _ = c.gateReached(3)
        let snap = GameDayView.Snapshot(scenario: "s", runId: "r", progress: RunProgress(phase: .observe, elapsedMs: 60_000),
                                        steps: GameDay.stepLabels(killPrimary), control: c)
        let lines = GameDayView.lines(snap, width: 120)
        #expect(lines.filter { $0.hasPrefix("done ") }.count == 4)
        #expect(lines.last == "auto · n note · o observation · a abort (heal now) · Ctrl-C stop")
    }

    @Test func feedKeepsDetailAcrossSparseReportsAndTracksThePhase() {
        var f = GameDayView.Feed()
        f.update(Self.liveProgress())
        #expect(f.phaseStartedMs == 20_200)
        f.update(RunProgress(phase: .await, elapsedMs: 24_000, topology: "n2=primary/tl2", step: 2))
        #expect(f.progress?.load != nil && f.progress?.members != nil && f.progress?.alerts != nil)
        #expect(f.phaseStartedMs == 20_200)
        f.update(RunProgress(phase: .heal, elapsedMs: 30_000))
        #expect(f.phaseStartedMs == 30_000)
        f.update(RunProgress(phase: .loadOff, elapsedMs: 40_000))
        #expect(f.progress?.load == nil)
    }

    @Test func viewClockAndBytes() {
        #expect(GameDayView.clock(83_450) == "1:23.4")
        #expect(GameDayView.clock(950) == "0.9 s")
        #expect(GameDayView.bytes(512) == "512 B")
        #expect(GameDayView.bytes(3_400_000) == "3.4 MB")
    }

    // MARK: - Renderers

    func gameDay() -> (GameDayRecord, RunReport) {
        var obs = Fixture.outage20s()
        // Notes arrive at the end of the events (the runner appends them); the timeline puts them at their time.
        obs.events.append(TimelineEvent(atMs: 15_000, kind: .note, detail: "app errors | spike password=hunter2"))
        obs.events.append(TimelineEvent(atMs: 12_000, kind: .observation, detail: "alert fired"))
        let r = RunReport(runId: "kill-primary-gd", scenario: killPrimary, environment: "local", startedAt: "2026-11-25T13:14:00Z",
                          durationMs: 70_000, observations: obs, judgement: Judgement(killPrimary, obs))
        var hs = GameDay.defaultHypotheses(killPrimary)
        hs.append(Hypothesis("the pager rings <fast>", held: true))
        let g = GameDayRecord(scenario: "kill-primary", runId: r.runId, participants: ["Ana", "Ben"], hypotheses: hs,
                              findings: ["the alert took 20 s"], actionItems: [ActionItem(owner: "Ana", text: "fix alert")],
                              journal: [RunJournal.Entry(kind: .note, text: "app errors", atRunMs: 25_000)])
        return (g, r)
    }

    @Test func timelineIsInTimeOrderWithTheNotes() {
        let (_, r) = gameDay()
        let t = GameDay.timeline(r.observations)
        #expect(t.map(\.atMs) == t.map(\.atMs).sorted())
        let inj = try! #require(t.firstIndex { $0.kind == .faultInjected })
        let obs = try! #require(t.firstIndex { $0.kind == .observation })
        let note = try! #require(t.firstIndex { $0.kind == .note })
        let healed = try! #require(t.firstIndex { $0.kind == .healFinished })
        #expect(inj < obs && obs < note && note < healed)
    }

    @Test func markdownHasParticipantsHypothesesTimelineVerdictsFindingsAndActions() throws {
        let (g, r) = gameDay()
        let md = Render.gameDayMarkdown(g, r)
        #expect(md.hasPrefix("# Game day: kill-primary: PASSED (exit 0)"))
        #expect(md.contains("- participants: Ana, Ben"))
        #expect(md.contains("| H2 | writes come back within"))
        #expect(md.contains("`rto` | ✅ passed |"))
        #expect(md.contains("| H9 | the pager rings <fast> | the team | ✅ held |"))
        // The note at its time (15 s after load start, 5 s after the injection), masked, its pipe escaped.
        #expect(md.contains("| 15.0 s | +5.0 s | **note** |  | app errors \\| spike password=*** |"), "\(md)")
        #expect(!md.contains("hunter2"))
        let obsAt = try #require(md.range(of: "**observation**")), noteAt = try #require(md.range(of: "**note**"))
        let injAt = try #require(md.range(of: "| fault-injected |")), healAt = try #require(md.range(of: "| heal-finished |"))
        #expect(injAt.lowerBound < obsAt.lowerBound && obsAt.lowerBound < noteAt.lowerBound && noteAt.lowerBound < healAt.lowerBound)
        #expect(md.contains("## Verdicts"))
        #expect(md.contains("- the alert took 20 s"))
        #expect(md.contains("| Ana | fix alert |"))
    }

    @Test func htmlIsSelfContainedEscapedAndMasked() {
        let (g, r) = gameDay()
        let h = Render.gameDayHTML(g, r)
        #expect(h.hasPrefix("<!DOCTYPE html>"))
        #expect(!h.contains("<script") && !h.contains("http://") && !h.contains("https://"))
        #expect(h.contains("data-status=\"passed\" data-exit-code=\"0\""))
        #expect(h.contains("the pager rings &lt;fast&gt;"))
        #expect(!h.contains("hunter2"))
        #expect(h.contains("<tr class=\"ev-note\">"))
        #expect(h.contains("<td>Ana</td><td>fix alert</td>"))
        #expect(h.contains("data-verdict=\"rto\""))
        let obsAt = h.range(of: "<tr class=\"ev-observation\">")!.lowerBound, noteAt = h.range(of: "<tr class=\"ev-note\">")!.lowerBound
        #expect(obsAt < noteAt)
    }

    @Test func recordRoundTripsThroughJSON() throws {
        let (g, _) = gameDay()
        let back = try JSONDecoder().decode(GameDayRecord.self, from: Data(try Render.gameDayJSON(g).utf8))
        #expect(back == g)
    }
}
