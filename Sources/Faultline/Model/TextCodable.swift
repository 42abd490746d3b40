/// A value whose JSON form is its text form (`description`), parsed back by `init?(text:)`:
/// role selectors, peer groups, packet peers. Unparseable text is a decoding error naming the kind.
public protocol TextCodable: Codable, CustomStringConvertible {
    init?(text: String)
    /// What the value is, for the decoding error ("role selector").
    static var textKind: String { get }
}

extension TextCodable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad \(Self.textKind) \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
