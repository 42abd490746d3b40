#include <libpq-fe.h>
#include <openssl/crypto.h>

/// Keeps OpenSSL from freeing its global state in an atexit handler (OPENSSL_cleanup). libpq uses libcrypto on
/// whatever thread connects (SCRAM and MD5 hash through EVP); a thread still connecting while the process exits then
/// takes a lock that handler has already freed, and the process dies with SIGSEGV instead of its exit code. Must run
/// before libpq first touches OpenSSL; later calls change nothing. Returns 1 on success.
static inline int faultline_openssl_no_atexit(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}
