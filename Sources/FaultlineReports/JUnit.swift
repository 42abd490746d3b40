import Faultline

extension Render {
    /// `junit.xml`: one testsuite for the run, one testcase per verdict.
    /// failed → `<failure>`, skipped → `<skipped/>`, error → `<error>`.
    public static func junit(_ r: RunReport) -> String {
        let counts = JUnitCounts(r.verdicts).attributes
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"faultline\" \(counts) time=\"\(seconds(r.durationMs))\">\n"
        x += junitSuite(r)
        x += "</testsuites>\n"
        return x
    }

    /// The tests, failures (aborted included), errors and skipped of a testsuite.
    struct JUnitCounts {
        var tests = 0, failures = 0, errors = 0, skipped = 0

        init() {}

        init(_ vs: [Verdict]) {
            func count(_ s: VerdictResult.Status) -> Int { vs.filter { $0.result.status == s }.count }
            tests = vs.count
            failures = count(.failed) + count(.aborted)
            errors = count(.error)
            skipped = count(.skipped)
        }

        static func + (a: JUnitCounts, b: JUnitCounts) -> JUnitCounts {
            var c = a
            c.tests += b.tests
            c.failures += b.failures
            c.errors += b.errors
            c.skipped += b.skipped
            return c
        }

        var attributes: String { "tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\"" }
    }

    /// One run's `<testsuite>` (indented for `<testsuites>`), one testcase per verdict: the one code path for `junit.xml`
    /// and the suite's file. `name` replaces the scenario's name; `properties` come after the run's own; each of
    /// `errors` (a harness error beside the verdicts: the reports not written) is one more testcase with an `<error>`.
    static func junitSuite(_ r: RunReport, name: String? = nil, properties: [(String, String)] = [],
                           errors: [(name: String, message: String)] = []) -> String {
        let vs = r.verdicts
        var c = JUnitCounts(vs)
        c.tests += errors.count
        c.errors += errors.count
        let counts = c.attributes
        let time = seconds(r.durationMs)
        var x = "  <testsuite name=\"\(esc(name ?? r.scenario.name))\" \(counts) time=\"\(time)\" timestamp=\"\(esc(r.startedAt))\">\n"
        x += "    <properties>\n"
        for (k, v) in [("run-id", r.runId), ("environment", r.environment), ("exit-code", "\(r.exitCode)"), ("status", r.status)]
            + r.overrides.map({ ("set", $0) }) + properties {
            x += "      <property name=\"\(esc(k))\" value=\"\(esc(SecretMasker.mask(v)))\"/>\n"
        }
        x += "    </properties>\n"
        for v in vs {
            let res = v.result
            let head = "    <testcase classname=\"faultline.\(esc(r.scenario.name))\" name=\"\(esc(v.id))\""
            let detail = ([v.title] + [res.measured.map { "measured: \($0)" }, res.target.map { "target: ≤ \($0)" }].compactMap { $0 }
                          + v.notes + (v.items.isEmpty ? [] : ["items: " + v.items.joined(separator: ", ")])).joined(separator: "\n")
            switch res.status {
            case .passed:
                x += head + ">\n      <system-out>\(esc(detail))</system-out>\n    </testcase>\n"
            case .failed:
                x += head + ">\n      <failure type=\"target-failed\" message=\"\(esc(SecretMasker.mask(res.message ?? "")))\">\(esc(detail))</failure>\n    </testcase>\n"
            case .skipped:
                x += head + ">\n      <skipped message=\"\(esc(res.message ?? ""))\"/>\n    </testcase>\n"
            case .error:
                x += head + ">\n      <error type=\"harness-error\" message=\"\(esc(SecretMasker.mask(res.message ?? "")))\">\(esc(detail))</error>\n    </testcase>\n"
            case .aborted:
                // JUnit has no abort: a failure of its own type (a harness error stays an <error>, never this).
                x += head + ">\n      <failure type=\"aborted\" message=\"\(esc(SecretMasker.mask(res.message ?? "")))\">\(esc(detail))</failure>\n    </testcase>\n"
            }
        }
        for (n, message) in errors {
            x += "    <testcase classname=\"faultline.\(esc(r.scenario.name))\" name=\"\(esc(n))\">\n"
            x += "      <error type=\"harness-error\" message=\"\(esc(SecretMasker.mask(message)))\"/>\n    </testcase>\n"
        }
        x += "  </testsuite>\n"
        return x
    }

    static func seconds(_ ms: Int) -> String {
        "\(ms / 1_000).\(String(repeating: "0", count: 3 - String(ms % 1_000).count))\(ms % 1_000)"
    }

    /// Escapes text for XML attributes and content; drops characters XML 1.0 forbids.
    static func esc(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t", "\r": out.unicodeScalars.append(u)
            default: if u.value >= 0x20 { out.unicodeScalars.append(u) }
            }
        }
        return out
    }
}
