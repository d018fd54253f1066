#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, declared only with CLERK_FUZZ set) with the fuzzer and address
# sanitizers into .build-fuzz/, seeds their corpora from events/ and hand-made samples, and runs each for
# FUZZ_SECONDS (default 60), one after the other, after replaying the committed regression inputs
# (Fuzz/regressions/<target>/). Prints executions per target; exits non-zero when a target crashed (the
# input is kept under .build-fuzz/crashes/<target>/; copied to Fuzz/regressions/<target>/ it is replayed
# by every later run, `make test` included).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"FuzzJSON FuzzToken FuzzWebhook FuzzEvents FuzzHTTPRequest FuzzClerkPayloads FuzzOrgClaims"}
scratch=.build-fuzz
for t in $targets; do
  CLERK_FUZZ=1 swift build -c debug --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address \
    -Xswiftc -parse-as-library -Xswiftc -DFUZZING --product "$t" >"$scratch.build.log" 2>&1 \
    || { tail -40 "$scratch.build.log" >&2; echo "fuzz: building $t failed" >&2; exit 1; }
done
rm -f "$scratch.build.log"

# Seeds: regenerated each run (small; the corpora grow under .build-fuzz/corpus and are never committed).
python3 - "$scratch/corpus" <<'PY'
import base64, glob, hashlib, hmac, json, os, sys
out = sys.argv[1]
def put(target, name, data):
    d = os.path.join(out, target); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f: f.write(data if isinstance(data, bytes) else data.encode())
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
files = sorted(glob.glob("events/*.json") + glob.glob("events/payloads/*.json"))
for p in files:
    data = open(p, "rb").read()
    put("FuzzJSON", os.path.basename(p), data)
    put("FuzzEvents", os.path.basename(p), data)
# me's request: the authorizer context's userId is read as a UUID (and the bare text is tried as one too).
put("FuzzEvents", "authorizer-uuid", json.dumps({"version": "2.0", "rawPath": "/me", "requestContext": {
    "http": {"method": "GET"}, "authorizer": {"lambda": {"userId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}}}}))
put("FuzzEvents", "uuid", "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0")
# FuzzClerkPayloads: the first byte picks the decoder (0 webhook body, 1 user, 2 users page, 3 organizations
# page, 4 memberships page, 5 JWKS, 6 machine-token verify answer, 7 token type detection, 8 billing items page).
# Clerk Billing's examples too: their decoders are reached through the same registry.
for p in sorted(glob.glob("events/payloads/*.json") + glob.glob("events/payloads/billing/*.json")):
    put("FuzzClerkPayloads", os.path.basename(p), b"\x00" + open(p, "rb").read())
user = {"id": "user_1", "first_name": "Ada", "last_name": None, "username": None, "image_url": "https://img",
        "primary_email_address_id": "idn_1", "email_addresses": [{"id": "idn_1", "email_address": "a@example.com"}],
        "created_at": 1, "updated_at": 2}
org = {"object": "organization", "id": "org_1", "name": "Org", "slug": "org", "public_metadata": {}, "created_at": 1, "updated_at": 2}
member = {"object": "organization_membership", "id": "orgmem_1", "role": "org:admin", "permissions": ["org:x:read"],
          "organization": org, "public_user_data": {"user_id": "user_1"}, "created_at": 1, "updated_at": 2}
put("FuzzClerkPayloads", "user", b"\x01" + json.dumps(user).encode())
put("FuzzClerkPayloads", "users", b"\x02" + json.dumps([user, user]).encode())
put("FuzzClerkPayloads", "orgs", b"\x03" + json.dumps({"data": [org], "total_count": 1}).encode())
put("FuzzClerkPayloads", "members", b"\x04" + json.dumps({"data": [member], "total_count": 1}).encode())
put("FuzzClerkPayloads", "jwks", b"\x05" + json.dumps({"keys": [{"kty": "RSA", "kid": "ins_1", "use": "sig", "alg": "RS256",
    "n": b64u(os.urandom(256)), "e": "AQAB"}]}).encode())
put("FuzzClerkPayloads", "m2m", b"\x06" + json.dumps({"object": "machine_to_machine_token", "id": "mt_1", "subject": "mch_1",
    "scopes": ["mch_2"], "claims": {"k": "v"}, "revoked": False, "expired": False, "expiration": 1700000060000}).encode())
put("FuzzClerkPayloads", "apikey", b"\x06" + json.dumps({"object": "api_key", "id": "ak_1", "subject": "user_1", "scopes": [],
    "revoked": False, "expired": False, "expiration": None}).encode())
put("FuzzClerkPayloads", "type", b"\x07" + b"mt_" + b"a" * 32)
put("FuzzClerkPayloads", "billing-items", b"\x08" + json.dumps({"data": [{"object": "commerce_subscription_item", "id": "csub_item_1",
    "status": "active", "plan": {"slug": "pro", "fee": {"amount": 2000, "currency": "USD"}}, "plan_period": "month",
    "payer": {"user_id": "user_1", "organization_id": None}, "period_start": 1, "period_end": 2, "updated_at": 3}],
    "total_count": 1}).encode())
# FuzzOrgClaims: fea, per and fpm separated by 0xFF; Clerk's fixtures (@clerk/shared jwtPayloadParser.test.ts,
# @clerk/backend authObjects.test.ts, clerk-sdk-python test_org_permissions_v2.py) and wide masks.
wide = ",".join("p%02d" % i for i in range(80))
for i, (fea, per, fpm) in enumerate([
    ("o:repositories,uo:projects,u:goldprofileborder", "read,create,update,delete,revoke", "7,21,0"),
    ("u:impersonation,o:leads", "read,manage", "1,1"), ("ou:memberships,u:impersonation", "read,manage", "3,0"),
    ("o:reservations,u:dashboard,uo:support-chat,o:impersonation", "read,manage", "2,3"),
    ("o:reservations,o:impersonation", "read,manage", "3"), ("o:impersonation,o:memberships,o:feature3", "read,manage", "1,3"),
    ("o:billing,o:email,o:fraud,o:instance,o:staging_plans", "manage,read", "3,3,3,3,1"), ("o:leads", "read,manage", "1,3"),
    ("o:repositories", wide, str((1 << 72) | 1)), ("o:repositories", wide, str((1 << 63) | 1)),
    ("o:repositories", "read,manage", str((1 << 40) | 1)), ("o:repositories", wide, "-9223372036854775807"),
    ("o:dashboard,o:teams", "manage,read", "3,2"), ("u:x, o:a\u00a0", " read\u2028,\u0301w", "\t3\ufeff"),
]):
    put("FuzzOrgClaims", f"clerk{i}", fea.encode() + b"\xff" + per.encode() + b"\xff" + fpm.encode())
for i, doc in enumerate(['{"a":[1,-2.5e3,true,false,null,{"b":"\\u00e9\\ud83d\\ude00"}]}', '[]', '"x"', '0', '{"o":{"id":"org_1"}}',
                          '[' * 512 + ']' * 512, '{"a":' * 511 + '[1]' + '}' * 511]):  # the nesting limit, exactly
    put("FuzzJSON", f"sample{i}", doc)
# FuzzJSON against Foundation: names Swift calls equal but whose bytes differ (composed and decomposed, KELVIN
# SIGN, reordered marks; raw and escaped), in objects small and large and in the Codable shapes' places;
# byte-equal duplicates; the other strict cases; numbers at the integer types' limits.
equivalent = [(r"caf\u00e9", r"cafe\u0301"), ("K", r"\u212a"), (r"\u212b", r"\u00c5"), (r"a\u0301\u0323", r"a\u0323\u0301")]
filler = ",".join(f'"f{k}":{k}' for k in range(20))
for i, (a, b) in enumerate(equivalent):
    raw_a, raw_b = json.loads(f'"{a}"'), json.loads(f'"{b}"')
    for j, doc in enumerate([f'{{"{a}":1,"{b}":2}}', f'{{"{raw_a}":1,"{raw_b}":2}}', f'{{{filler},"{a}":1,"{b}":[2]}}',
                             f'{{"tags":{{"{a}":1,"{b}":2}},"items":[{{"tags":{{"{raw_b}":3,"{raw_a}":"x"}}}}]}}',
                             f'{{"{a}":1,"{a}":2}}', f'{{"{raw_a}":1,"{a}":2}}']):
        put("FuzzJSON", f"equivalent{i}-{j}", doc.encode())
for i, doc in enumerate([b'{"id":"x","n":9223372036854775807,"u":255,"d":-0.0,"b":true,"shape":{"rect":{"_0":1,"_1":2}}}',
                          b'{"shape":{"circle":{"r":1e-5}},"items":[{"n":-9223372036854775808}],"tags":{"a":1,"b":-1}}',
                          b'[9223372036854775807.0,18446744073709551615,1e3,10.0e-1,2.55e2,-0,1e-50,3.4028235e38,1e39,0.1]',
                          b'{"a":01}', b'[1e400]', b'{"a":1,"a":2}', b'\xef\xbb\xbf{"a":1}', b'"\xff"', b'[' * 513 + b']' * 513,
                          rb'{"s":"\ud83d\ude00\u0000\/"}', b'\x00[\x001\x00]',
                          # Foundation's own readings (its findings): a trailing comma, zero with an exponent, a
                          # fraction it reads as an integer through Double, underflow.
                          b'{"a":[1,],}', b'[0e3,0E1,0e10,-0e3]', b'{"n":9007192549740993.5e0,"u":2.55e2}', b'[1.0000000000000001]', b'[1e-400,1e-50,-2e-324]']):
    put("FuzzJSON", f"strict{i}", doc)
now = 1700000000
claims = {"sub": "user_fuzz", "iss": "https://clerk.fuzz.example", "iat": now, "nbf": now - 10, "exp": now + 60,
          "sid": "sess_1", "v": 2, "sts": "active", "azp": "https://app.example", "o": {"id": "org_1", "rol": "admin"}}
header = {"alg": "RS256", "kid": "ins_fuzz", "typ": "JWT", "cat": "cl_B7d4PD111AAA"}
payload = json.dumps(claims, separators=(",", ":"))
put("FuzzToken", "signed", b"\x01" + payload.encode())
put("FuzzToken", "signed-header", b"\x01" + payload.encode() + b"\n" + json.dumps(header).encode())
put("FuzzToken", "signed-v1", b"\x01" + json.dumps({"sub": "user_1", "iss": "https://x", "exp": now + 5, "org_id": "org_1"}).encode())
token = b64u(json.dumps(header).encode()) + "." + b64u(payload.encode()) + "." + b64u(os.urandom(256))
put("FuzzToken", "unsigned", b"\x00" + token.encode())
# FuzzWebhook: two control bytes (clock, whether and where the target signs; see the target), then
# id, timestamp, signatures and body. 0x00 0x40: the clock at the timestamp, the header as given.
secret = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
for p in sorted(glob.glob("events/payloads/*.json"))[:3]:
    body = open(p, "rb").read()
    mid, ts = "msg_" + hashlib.sha1(body).hexdigest()[:20], str(now)
    sig = base64.b64encode(hmac.new(secret, f"{mid}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    put("FuzzWebhook", os.path.basename(p), b"\x00\x40" + f"{mid}\n{ts}\nv1,{'A' * 44} v1,{sig}\n".encode() + body)
    for i, control in enumerate([0x04, 0x15, 0x26, 0x48, 0x6C, 0x9D]):
        put("FuzzWebhook", f"{os.path.basename(p)}-signed{i}", bytes([control, 0x40 | (i & 1) << 7]) + f" {mid}\t\n{ts}\nv2,x\n".encode() + body)
# svix.md's test vector (Svix's Python library), at its own time.
put("FuzzWebhook", "svix-vector", b"\x00\x40msg_p5jXN8AQM9LWM0D4loKWxJek\n1614265330\nv1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n{\"test\": 2432232314}")
for i, req in enumerate([
    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\r\n",
    b"POST /2015-03-31/functions/verifyToken/invocations HTTP/1.1\r\nHost: localhost\r\nContent-Length: 17\r\n\r\n{\"token\":\"abc\"}\r\n",
    b"POST /x HTTP/1.1\r\nHost: [::1]\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
]):
    put("FuzzHTTPRequest", f"req{i}", req)
# At the target's body limit (1024 bytes) and one byte past it, chunked and with Content-Length.
for n in (1024, 1025):
    put("FuzzHTTPRequest", f"chunked{n}", b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" + b"a" * 512
        + b"\r\n" + b"%x\r\n" % (n - 512) + b"b" * (n - 512) + b"\r\n0\r\n\r\n")
    put("FuzzHTTPRequest", f"length{n}", b"POST /x HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % n + b"c" * n)
PY

# Regressions first: every input that once crashed a target or broke its property is committed under
# Fuzz/regressions/<target>/ and replayed, each once (libFuzzer runs files given by name and exits).
for t in $targets; do
  [ -d "Fuzz/regressions/$t" ] || continue
  mapfile -t inputs < <(find "Fuzz/regressions/$t" -type f | sort)
  [ "${#inputs[@]}" -gt 0 ] || continue
  if ! SWIFT_BACKTRACE=enable=no "$scratch/debug/$t" "${inputs[@]}" >"$scratch/$t.regressions.log" 2>&1; then
    grep -m5 -E 'Running:|ERROR|Fatal error|SUMMARY' "$scratch/$t.regressions.log" >&2 || true
    echo "fuzz: $t fails a regression input (Fuzz/regressions/$t/; log $scratch/$t.regressions.log)" >&2
    exit 1
  fi
  echo "fuzz: $t: ${#inputs[@]} regression input(s) pass"
done

status=0
summary=""
for t in $targets; do
  corpus="$scratch/corpus/$t"; crashes="$scratch/crashes/$t"; mkdir -p "$corpus" "$crashes"
  log="$scratch/$t.log"
  set +e
  # The Swift backtracer would wait on a crashed target forever: libFuzzer's own report is what is kept.
  SWIFT_BACKTRACE=enable=no "$scratch/debug/$t" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  line="$t: ${execs:-?} executions in ${seconds} s"
  if [ "$rc" -ne 0 ]; then
    status=1
    line="$line, CRASHED (exit $rc; input in $crashes/, log $log)"
    grep -m5 -E 'ERROR|Fatal error|SUMMARY|panic' "$log" >&2 || true
  fi
  echo "fuzz: $line"
  summary="$summary$line"$'\n'
done
printf '%s' "$summary" >"$scratch/summary.txt"
exit $status
