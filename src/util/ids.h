/* Identifiers and secrets: UUIDs, API tokens, hashes, opaque cursors. */
#ifndef SYNCRUN_UTIL_IDS_H
#define SYNCRUN_UTIL_IDS_H

#include <stddef.h>
#include <stdint.h>

enum { IDS_UUID_LEN = 37, IDS_SHA256_HEX_LEN = 65, IDS_TOKEN_LEN = 44, IDS_WHSEC_LEN = 51 };

/* Fills buf with n bytes from the kernel's CSPRNG; aborts if that fails. */
void ids_random(void *buf, size_t n);
/* A random (version 4) UUID in lower-case canonical form. */
void ids_uuid_v4(char out[IDS_UUID_LEN]);
/* A time-ordered (version 7, RFC 9562) UUID: 48 bits of Unix milliseconds, then random bits.
 * Ids made one after another sort together, so inserting them touches the end of an index
 * instead of a random page of it. */
void ids_uuid_v7(char out[IDS_UUID_LEN]);
/* 1 when s is a canonical 36-character UUID (any case), else 0. */
int ids_is_uuid(const char *s);
/* The one spelling of a UUID that names something: when s is a UUID (any case), writes it in lower
 * case (as stored) to out and returns 0; otherwise returns -1 and leaves out an empty string. Every
 * place that looks a UUID up from outside input goes through this. */
int ids_uuid_normalize(const char *s, char out[IDS_UUID_LEN]);
/* A new API token: "sr_" followed by 40 base62 characters (about 238 bits). */
void ids_token(char out[IDS_TOKEN_LEN]);
/* A new ping key (a connection's secret for pings): "pk_" followed by 40 base62 characters. */
void ids_ping_key(char out[IDS_TOKEN_LEN]);
/* A new webhook signing secret, as Standard Webhooks writes them: "whsec_" followed by the standard
 * base64 of 32 random bytes. */
void ids_webhook_secret(char out[IDS_WHSEC_LEN]);
/* Standard base64 with padding. encode: out needs 4*ceil(n/3)+1 bytes; returns the length. decode
 * (padding optional): returns the decoded length, or -1 for invalid input or when it does not fit. */
size_t ids_b64_encode(const void *p, size_t n, char *out);
long ids_b64_decode(const char *s, size_t n, void *out, size_t outcap);
/* Lower-case hex SHA-256 of n bytes. */
void ids_sha256_hex(const void *p, size_t n, char out[IDS_SHA256_HEX_LEN]);
/* Base64url without padding. encode: out needs 4*ceil(n/3)+1 bytes. decode: returns the decoded
 * length, or -1 for invalid input or when it does not fit in outcap. */
size_t ids_b64url_encode(const void *p, size_t n, char *out);
long ids_b64url_decode(const char *s, size_t n, void *out, size_t outcap);
/* Parses all of s[0..n) as a decimal integer in [min, max]; 0 on success, -1 otherwise. */
int ids_parse_i64(const char *s, size_t n, int64_t min, int64_t max, int64_t *out);

#endif
