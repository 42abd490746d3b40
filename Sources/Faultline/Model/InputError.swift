/// Bad input from the person running faultline (exit code 2). The message is one line and names the culprit.
public struct InputError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
