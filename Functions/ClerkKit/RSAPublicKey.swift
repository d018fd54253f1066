import COpenSSL

/// An RSA public key with one verification context per digest, created on first use and kept, so a
/// cached key verifies tokens without allocating.
public final class RSAPublicKey: @unchecked Sendable {
    private let pkey: OpaquePointer
    private var contexts: [Int: OpaquePointer] = [:]
    /// The modulus size in bits.
    public let bits: Int

    /// Why key material was refused.
    public enum KeyError: Error, Equatable {
        case invalid
        case notRSA
        case tooSmall(bits: Int)
        /// The public exponent is even, or below 3: with `e = 1` the PKCS#1 encoding itself "verifies".
        case weakExponent

        /// The log reason: `key_weak` for keys refused for strength, `key_invalid` otherwise.
        public var reason: String {
            switch self {
            case .invalid, .notRSA: "key_invalid"
            case .tooSmall, .weakExponent: "key_weak"
            }
        }
    }

    private init(_ pkey: OpaquePointer) throws(KeyError) {
        guard clerk_is_rsa(pkey) == 1 else {
            EVP_PKEY_free(pkey)
            throw .notRSA
        }
        bits = Int(EVP_PKEY_get_bits(pkey))
        guard bits >= 2048 else {
            EVP_PKEY_free(pkey)
            throw .tooSmall(bits: bits)
        }
        guard Self.hasStrongExponent(pkey) else {
            EVP_PKEY_free(pkey)
            throw .weakExponent
        }
        self.pkey = pkey
    }

    /// An odd public exponent of at least 3 (read from the key itself, so PEM and JWK keys are held to it alike).
    private static func hasStrongExponent(_ pkey: OpaquePointer) -> Bool {
        var e: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1, let e else { return false }
        defer { BN_free(e) }
        return BN_is_odd(e) == 1 && BN_num_bits(e) >= 2
    }

    /// A key from a JWK's base64url `n` and `e`.
    public convenience init(n: String, e: String) throws(KeyError) {
        guard let nb = Base64.decode(n), let eb = Base64.decode(e), !nb.isEmpty, !eb.isEmpty,
            let pkey = clerk_rsa_public_key(nb, nb.count, eb, eb.count)
        else { throw .invalid }
        try self.init(pkey)
    }

    /// A key from PEM text (`-----BEGIN PUBLIC KEY-----`).
    public convenience init(pem: String) throws(KeyError) {
        var text = pem
        // An empty variable has no base address: refused, not force-unwrapped.
        guard
            let pkey = text.withUTF8({ buffer -> OpaquePointer? in
                guard let base = buffer.baseAddress, buffer.count > 0 else { return nil }
                return clerk_public_key_from_pem(UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), buffer.count)
            })
        else { throw .invalid }
        try self.init(pkey)
    }

    deinit {
        for ctx in contexts.values { EVP_PKEY_CTX_free(ctx) }
        EVP_PKEY_free(pkey)
    }

    /// Whether `signature` signs `input` with RSASSA-PKCS1-v1_5 over SHA-`shaBits` (256, 384, 512).
    /// Not thread-safe: a key serves one invocation at a time, as Lambda runs them.
    public func verify(shaBits: Int, input: UnsafeRawBufferPointer, signature: [UInt8]) -> Bool {
        guard signature.count == bits / 8 else { return false }
        let ctx: OpaquePointer
        if let cached = contexts[shaBits] {
            ctx = cached
        } else {
            guard let made = clerk_rsa_verify_ctx(pkey, Int32(shaBits)) else { return false }
            contexts[shaBits] = made
            ctx = made
        }
        return signature.withUnsafeBufferPointer {
            clerk_rsa_verify(ctx, Int32(shaBits), input.baseAddress, input.count, $0.baseAddress, $0.count) == 1
        }
    }
}
