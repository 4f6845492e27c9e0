/* TLS for `syncrun serve --tls-cert/--tls-key`: one OpenSSL server context shared by the loops
 * (h2o performs the handshake on accept). TLS 1.2 and later; HTTP/1.1 only, as without TLS. */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http/internal.h"
#include "util/log.h"

/* Logs OpenSSL's reason for what failed; returns NULL for the caller to return. */
static SSL_CTX *tls_fail(SSL_CTX *ctx, const char *what, const char *file)
{
    char reason[256] = "unknown error";
    unsigned long e = ERR_peek_last_error();
    if (e != 0)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    log_error("tls: %s file=%s reason=\"%s\"", what, file, reason);
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *http_tls_context(const char *cert_file, const char *key_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return tls_fail(NULL, "cannot create a TLS context", "-");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
        return tls_fail(ctx, "cannot read the certificate (PEM, leaf first, then the chain)", cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
        return tls_fail(ctx, "cannot read the private key (PEM)", key_file);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return tls_fail(ctx, "the private key does not match the certificate", key_file);
    return ctx;
}
