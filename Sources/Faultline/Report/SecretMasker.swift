/// Masks secrets in free text (commands, errors): `password=...`, `PGPASSWORD=...`, `token: ...`, `"password": "..."`,
/// `--password ...`, and the password in `postgres://user:pass@host`. Values become `***`.
public enum SecretMasker {
    nonisolated(unsafe) static let assignment = try! Regex(
        #"(?i)\b([A-Z0-9_]*(?:PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY)[A-Z0-9_]*)("?\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s'"&;,}]+)"#)
    nonisolated(unsafe) static let flag = try! Regex(#"(?i)(--(?:password|token|secret)(?:\s+|=))('[^']*'|"[^"]*"|\S+)"#)
    nonisolated(unsafe) static let url = try! Regex(#"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]+:)([^@\s]+)(@)"#)

    public static func mask(_ text: String) -> String {
        var s = text.replacing(url) { m in "\(m.output[1].substring ?? "")***\(m.output[3].substring ?? "")" }
        s = s.replacing(assignment) { m in "\(m.output[1].substring ?? "")\(m.output[2].substring ?? "")***" }
        s = s.replacing(flag) { m in "\(m.output[1].substring ?? "")***" }
        return s
    }
}
