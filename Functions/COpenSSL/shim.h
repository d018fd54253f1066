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
#include <stdlib.h>
#include <openssl/bio.h>

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
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

/* RSA for session tokens (RS256/384/512 = RSASSA-PKCS1-v1_5 with SHA-256/384/512). */

static inline const EVP_MD *clerk_sha_md(int bits) {
    return bits == 512 ? EVP_sha512() : bits == 384 ? EVP_sha384() : EVP_sha256();
}

/* A public key from a JWK's big-endian modulus and exponent (OpenSSL 3 key construction). */
static inline EVP_PKEY *clerk_rsa_public_key(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen) {
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (!bn || !be || !bld) goto done;
    if (!OSSL_PARAM_BLD_push_BN(bld, "n", bn) || !OSSL_PARAM_BLD_push_BN(bld, "e", be)) goto done;
    if (!(params = OSSL_PARAM_BLD_to_param(bld))) goto done;
    if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL))) goto done;
    if (EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) pkey = NULL;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

/* A public key from PEM text (SubjectPublicKeyInfo, or a certificate-less "RSA PUBLIC KEY"). */
static inline EVP_PKEY *clerk_public_key_from_pem(const char *pem, size_t len) {
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) return NULL;
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return pkey;
}

static inline EVP_PKEY *clerk_private_key_from_pem(const char *pem, size_t len) {
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) return NULL;
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return pkey;
}

static inline int clerk_is_rsa(const EVP_PKEY *pkey) { return EVP_PKEY_is_a(pkey, "RSA"); }

/* A verification context set up once per key and digest; reused for every token. */
static inline EVP_PKEY_CTX *clerk_rsa_verify_ctx(EVP_PKEY *pkey, int bits) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
    if (!ctx) return NULL;
    if (EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0
        || EVP_PKEY_CTX_set_signature_md(ctx, clerk_sha_md(bits)) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* 1 when sig is a valid signature of data; hashes with a stack buffer, allocates nothing. */
static inline int clerk_rsa_verify(EVP_PKEY_CTX *ctx, int bits, const void *data, size_t len,
                                   const unsigned char *sig, size_t siglen) {
    /* The streaming SHA API: OpenSSL 3's one-shot SHA256() fetches the implementation on every call. */
    unsigned char digest[64];
    size_t dlen;
    if (bits == 512) { SHA512_CTX c; SHA512_Init(&c); SHA512_Update(&c, data, len); SHA512_Final(digest, &c); dlen = 64; }
    else if (bits == 384) { SHA512_CTX c; SHA384_Init(&c); SHA384_Update(&c, data, len); SHA384_Final(digest, &c); dlen = 48; }
    else { SHA256_CTX c; SHA256_Init(&c); SHA256_Update(&c, data, len); SHA256_Final(digest, &c); dlen = 32; }
    int rc = EVP_PKEY_verify(ctx, sig, siglen, digest, dlen);
    ERR_clear_error();
    return rc == 1;
}

/* Development keys and tokens (the sign-token and dev-keys tools, and tests). */
static inline EVP_PKEY *clerk_rsa_generate(int bits) {
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    if (ctx && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) > 0) EVP_PKEY_generate(ctx, &pkey);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static inline int clerk_rsa_sign(EVP_PKEY *pkey, int bits, const void *data, size_t len, unsigned char *sig, size_t *siglen) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, clerk_sha_md(bits), NULL, pkey) > 0
             && EVP_DigestSign(md, sig, siglen, data, len) > 0;
    EVP_MD_CTX_free(md);
    return ok;
}

/* PEM text of a key (private or public), malloc'd; free with free(). */
static inline char *clerk_pem(EVP_PKEY *pkey, int private_key, size_t *len) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return NULL;
    int ok = private_key ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_PUBKEY(bio, pkey);
    char *out = NULL;
    if (ok) {
        char *data;
        long n = BIO_get_mem_data(bio, &data);
        out = malloc((size_t)n + 1);
        if (out) { memcpy(out, data, (size_t)n); out[n] = 0; *len = (size_t)n; }
    }
    BIO_free(bio);
    return out;
}

/* Big-endian bytes of the modulus ("n") or public exponent ("e"); returns the length, 0 on failure. */
static inline int clerk_rsa_component(EVP_PKEY *pkey, const char *name, unsigned char *out, int cap) {
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) <= 0) return 0;
    int n = BN_num_bytes(bn);
    if (n > cap) n = 0; else BN_bn2bin(bn, out);
    BN_free(bn);
    return n;
}

#pragma clang diagnostic pop
#endif
