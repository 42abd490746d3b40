import CLibPQ
import FaultlinePG
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A process that exits while other threads are inside libpq's OpenSSL calls must still exit with its own status.
/// OpenSSL's default atexit cleanup frees the locks those threads take: without `LibPQ.prepare()` this child process
/// died with SIGSEGV, SIGBUS or SIGABRT in 72 of 100 runs of the same race in C (the integration run's crash at exit).
@Suite struct LibPQExitTests {
    /// Three children, so that a regression fails this test with near certainty rather than by chance.
    @Test(arguments: 1...3) func aProcessExitingWhileThreadsHashThroughLibPQExitsWithItsStatus(_ attempt: Int) async {
        await #expect(processExitsWith: .exitCode(7)) {
            LibPQ.prepare()
            for _ in 0..<4 {
                var thread = pthread_t()
                // PQencryptPassword hashes through OpenSSL's EVP, as SCRAM and MD5 authentication do when connecting.
                pthread_create(&thread, nil, { _ in
                    while true { if let p = PQencryptPassword("secret", "user") { PQfreemem(p) } }
                }, nil)
            }
            usleep(20_000)
            exit(7)
        }
    }
}
