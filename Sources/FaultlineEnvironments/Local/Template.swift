/// Renders `{{NAME}}` placeholders. Pure: no I/O. Refuses to leave a placeholder unresolved.
public struct Template: Sendable {
    public var text: String
    public var name: String

    public init(_ text: String, name: String) {
        self.text = text
        self.name = name
    }

    public enum RenderError: Error, CustomStringConvertible, Equatable {
        case unresolved(template: String, placeholders: [String])
        public var description: String {
            switch self {
            case .unresolved(let t, let p):
                return "template \(t) has unresolved placeholders: \(p.joined(separator: ", "))"
            }
        }
    }

    /// The placeholder names the template uses, outside comment lines, in order of first use.
    public var placeholders: [String] {
        var seen: [String] = []
        for name in Self.scan(body) where !seen.contains(name) { seen.append(name) }
        return seen
    }

    /// The template without its leading comment lines (`#` or `;`), which document placeholders.
    private var body: String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { l in
                let t = l.drop { $0 == " " }
                return !(t.hasPrefix("#") || t.hasPrefix(";"))
            }
            .joined(separator: "\n")
    }

    /// Substitutes every placeholder from `values`; throws if any is missing. Comment lines that
    /// document placeholders are left as they are.
    public func render(_ values: [String: String]) throws(RenderError) -> String {
        let missing = placeholders.filter { values[$0] == nil }
        guard missing.isEmpty else { throw .unresolved(template: name, placeholders: missing) }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let t = line.drop { $0 == " " }
            if t.hasPrefix("#") || t.hasPrefix(";") { return String(line) }
            var out = ""
            var rest = Substring(line)
            while let open = rest.range(of: "{{") {
                out += rest[..<open.lowerBound]
                let after = rest[open.upperBound...]
                guard let close = after.range(of: "}}") else { out += rest[open.lowerBound...]; rest = ""; break }
                let key = String(after[..<close.lowerBound])
                out += values[key] ?? "{{\(key)}}"
                rest = after[close.upperBound...]
            }
            return out + rest
        }.joined(separator: "\n")
    }

    private static func scan(_ s: String) -> [String] {
        var names: [String] = []
        var rest = Substring(s)
        while let open = rest.range(of: "{{") {
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else { break }
            let key = after[..<close.lowerBound]
            if !key.isEmpty, key.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) { names.append(String(key)) }
            rest = after[close.upperBound...]
        }
        return names
    }
}
