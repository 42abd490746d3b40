/// Helpers for libpq connection strings.
public enum ConnInfo {
    /// Returns `conninfo` with every password replaced by `***`, safe to print or log.
    ///
    /// Handles keyword strings (`password=secret`, `password = 'it''s secret'`, `password='a\'b'`)
    /// and URIs (`postgresql://user:secret@host/db`, `?password=secret`). `passfile=` is kept: it is a path.
    public static func masked(_ conninfo: String) -> String {
        let trimmed = conninfo.drop(while: { $0 == " " })
        if trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://") {
            return maskURI(conninfo)
        }
        return maskKeywords(conninfo)
    }

    private static func maskKeywords(_ s: String) -> String {
        let chars = Array(s)
        var out = ""
        var i = 0
        while i < chars.count {
            // Copy whitespace between pairs.
            if chars[i].isWhitespace { out.append(chars[i]); i += 1; continue }
            // Keyword.
            var key = ""
            while i < chars.count, chars[i] != "=", !chars[i].isWhitespace { key.append(chars[i]); i += 1 }
            out += key
            var j = i
            while j < chars.count, chars[j].isWhitespace { j += 1 }
            guard j < chars.count, chars[j] == "=" else { out += String(chars[i..<j]); i = j; continue }
            out += String(chars[i...j])  // spaces and '='
            i = j + 1
            while i < chars.count, chars[i].isWhitespace { out.append(chars[i]); i += 1 }
            // Value: quoted ('...' with \' or '' escapes) or bare up to whitespace.
            var value = ""
            if i < chars.count, chars[i] == "'" {
                value.append("'"); i += 1
                while i < chars.count {
                    let c = chars[i]
                    if c == "\\", i + 1 < chars.count { value.append(c); value.append(chars[i + 1]); i += 2; continue }
                    if c == "'" {
                        if i + 1 < chars.count, chars[i + 1] == "'" { value += "''"; i += 2; continue }
                        value.append("'"); i += 1; break
                    }
                    value.append(c); i += 1
                }
            } else {
                while i < chars.count, !chars[i].isWhitespace {
                    if chars[i] == "\\", i + 1 < chars.count { value.append(chars[i]); i += 1 }
                    value.append(chars[i]); i += 1
                }
            }
            out += key.lowercased() == "password" ? "***" : value
        }
        return out
    }

    private static func maskURI(_ s: String) -> String {
        var result = s
        // user:password@ in the authority part.
        if let schemeEnd = result.range(of: "://") {
            let rest = result[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result.replaceSubrange(result.index(after: colon)..<at, with: "***")
            }
        }
        // password=... in the query part.
        if let q = result.firstIndex(of: "?") {
            let query = result[result.index(after: q)...]
            let masked = query.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
                let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if kv.count == 2, kv[0].lowercased() == "password" { return "\(kv[0])=***" }
                return String(part)
            }.joined(separator: "&")
            result = String(result[...q]) + masked
        }
        return result
    }
}
