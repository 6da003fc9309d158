/* sha256.h: SHA-256 (FIPS 180-4), used to name model files in the rule
 * store by their contents. No linked Debian library exposes it (SQLite's
 * sha3 and OpenSSL are not among nsr's dependencies), so it lives here. */
#ifndef NSR_SHA256_H
#define NSR_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "nsr_core.h"

#define NSR_SHA256_BYTES 32
#define NSR_SHA256_HEX (2 * NSR_SHA256_BYTES + 1)

/* Streaming state: init, update any number of times, final. */
typedef struct nsr_sha256 {
  uint32_t h[8];
  uint64_t length;       /* bytes hashed so far */
  uint8_t block[64];     /* a partial block waiting for more input */
  size_t used;           /* bytes in block */
} nsr_sha256;

void nsr_sha256_init(nsr_sha256 *ctx);
void nsr_sha256_update(nsr_sha256 *ctx, const void *data, size_t len);
/* Writes the digest; ctx must be re-initialised before reuse. */
void nsr_sha256_final(nsr_sha256 *ctx, uint8_t digest[NSR_SHA256_BYTES]);

/* The digest of `len` bytes as 64 lowercase hex digits and a NUL. */
void nsr_sha256_hex(const void *data, size_t len, char hex[NSR_SHA256_HEX]);
/* The digest of the file at `path`, read in blocks (any size), as hex.
 * NSR_ERR_IO naming the file when it cannot be opened or read. */
nsr_code nsr_sha256_file(const char *path, char hex[NSR_SHA256_HEX], nsr_error *err);

#endif
