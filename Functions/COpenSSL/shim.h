#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <string.h>

/* HMAC-SHA256 with the key's inner and outer hash states computed once per key.
 *
 * OpenSSL 3's HMAC() and EVP_MAC fetch an implementation and allocate a context per call; for a webhook
 * secret used for every request that is most of the cost of verifying a small body. The low-level SHA256
 * API is deprecated for new code but remains exported; it is used only here. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"

typedef struct {
    SHA256_CTX inner;
    SHA256_CTX outer;
} clerk_hmac_sha256_key;

static inline void clerk_hmac_sha256_key_init(clerk_hmac_sha256_key *k, const unsigned char *key, size_t len) {
    unsigned char block[64];
    unsigned char pad[64];
    memset(block, 0, sizeof block);
    if (len > 64) {
        SHA256(key, len, block);
    } else if (len > 0) {
        memcpy(block, key, len);
    }
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&k->inner);
    SHA256_Update(&k->inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&k->outer);
    SHA256_Update(&k->outer, pad, 64);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
}

/* MAC over the concatenation of up to 5 parts (id "." timestamp "." body) without copying them. */
static inline void clerk_hmac_sha256_parts(const clerk_hmac_sha256_key *k,
                                           const void *p0, size_t l0, const void *p1, size_t l1,
                                           const void *p2, size_t l2, const void *p3, size_t l3,
                                           const void *p4, size_t l4, unsigned char out[32]) {
    SHA256_CTX c = k->inner;
    unsigned char inner[32];
    if (l0) SHA256_Update(&c, p0, l0);
    if (l1) SHA256_Update(&c, p1, l1);
    if (l2) SHA256_Update(&c, p2, l2);
    if (l3) SHA256_Update(&c, p3, l3);
    if (l4) SHA256_Update(&c, p4, l4);
    SHA256_Final(inner, &c);
    c = k->outer;
    SHA256_Update(&c, inner, 32);
    SHA256_Final(out, &c);
}

static inline void clerk_sha256(const void *data, size_t len, unsigned char out[32]) {
    SHA256((const unsigned char *)data, len, out);
}

#pragma clang diagnostic pop
#endif
