import Faultline
import FaultlinePG

/// Where in a request a failure happened. It decides between an error and `.indeterminate`.
public enum RequestPhase: String, Sendable {
    /// Opening the connection.
    case connect
    /// Any statement whose failure leaves nothing committed (BEGIN, INSERT, a read...).
    case statement
    /// The COMMIT itself: it was sent, so a failure without a clear server answer is indeterminate.
    case commit
}

/// Maps libpq failures to `Outcome`. Pure.
public enum ErrorClassifier {
    /// Classifies a failure from its kind, SQLSTATE and phase.
    ///
    /// - connect phase: `.tooManyConnections` when the server said it has no free slot (SQLSTATE 53300, or its
    ///   message: see `PGError.connectionLimitPhrases`), else `.connectionRefused` (refused, unreachable, auth, connect timeout,
    ///   no read-write host).
    /// - commit phase: a lost connection, a client timeout, a missing SQLSTATE or a SQLSTATE of class
    ///   57 (operator intervention: shutdown, cancel), 08 (connection), 53 (resources), 58 (system) or XX (internal)
    ///   is `.indeterminate`: the server may have committed before it went away. Other server errors at COMMIT
    ///   (serialization failure, deferred constraint...) mean the transaction rolled back; they are classified as below.
    /// - otherwise: 25006 is `.readOnly`; 57P01-57P05 `.adminShutdown`; 57014 (statement cancelled) `.timeout`;
    ///   class 08 `.connectionLost`; any other SQLSTATE `.otherSQLState`.
    public static func outcome(kind: PGError.Kind, sqlState: String?, phase: RequestPhase, message: String? = nil) -> Outcome {
        if phase == .connect || kind == .connectFailed {
            return PGError.isConnectionLimit(sqlState: sqlState, message: message) ? .tooManyConnections : .connectionRefused
        }
        if phase == .commit {
            switch kind {
            case .connectionLost, .timeout: return .indeterminate
            case .server:
                guard let s = sqlState, s.count == 5 else { return .indeterminate }
                if ["57", "08", "53", "58", "XX"].contains(String(s.prefix(2))) { return .indeterminate }
            case .connectFailed: return .connectionRefused
            }
        }
        if let s = sqlState {
            if s == "25006" { return .readOnly }
            if s.hasPrefix("57P") { return .adminShutdown }
            if s == "57014" { return .timeout }
            if s.hasPrefix("08") { return .connectionLost }
        }
        switch kind {
        case .timeout: return .timeout
        case .connectionLost: return .connectionLost
        case .connectFailed: return .connectionRefused
        case .server: return .otherSQLState
        }
    }

    /// Classifies a `PGError` thrown in `phase`.
    public static func outcome(for error: PGError, phase: RequestPhase) -> Outcome {
        outcome(kind: error.kind, sqlState: error.sqlState, phase: phase, message: error.message)
    }

    /// Whether a worker should drop its connection after this outcome and open a new one.
    /// True for everything that says "this server or session is no longer the right one".
    public static func shouldReconnect(after outcome: Outcome) -> Bool {
        switch outcome {
        case .ok, .otherSQLState: false
        case .connectionRefused, .tooManyConnections, .clientBackoff, .connectionLost, .readOnly, .adminShutdown, .timeout,
             .indeterminate: true
        }
    }
}
