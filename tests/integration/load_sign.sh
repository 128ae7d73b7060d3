# load_sign.sh — the requests brink actually renders (--dry-run) carry correct webhook signatures:
# each scheme's header is recomputed here independently with the openssl command-line tool.
. "$(dirname "$0")/lib.bash"

hmac_b64() { # hex key, message on stdin
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary | base64 -w0
}
hmac_hex() { # hex key, message on stdin
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -r | cut -d' ' -f1
}
hdr() { grep -i "^$1:" "$2" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
body_of() { awk 'f { print } /^\r?$/ { f = 1 }' "$1" | tr -d '\n'; }

BODY='{"type":"order.created","data":{"order_id":"o-{{seq}}"}}'
RENDERED='{"type":"order.created","data":{"order_id":"o-0"}}'

# standard-webhooks with a whsec_ secret: key = base64-decoded remainder
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' >"$TMP/whsec"
"$BRINK" load --dry-run -m POST -b "$BODY" --sign standard-webhooks --secret-file "$TMP/whsec" \
    http://127.0.0.1:9/webhooks >"$TMP/sw.txt"
id=$(hdr webhook-id "$TMP/sw.txt")
ts=$(hdr webhook-timestamp "$TMP/sw.txt")
sig=$(hdr webhook-signature "$TMP/sw.txt")
key=$(printf 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' | base64 -d | od -An -tx1 | tr -d ' \n')
want="v1,$(printf '%s.%s.%s' "$id" "$ts" "$RENDERED" | hmac_b64 "$key")"
check "standard-webhooks: signature of id.timestamp.body verifies" [ "$sig" = "$want" ]
now=$(date +%s)
check "standard-webhooks: timestamp is now (±5 s)" [ $((ts - now)) -le 5 -a $((now - ts)) -le 5 ]
check "standard-webhooks: body rendered" [ "$(body_of "$TMP/sw.txt")" = "$RENDERED" ]
check "standard-webhooks: Content-Length matches" [ "$(hdr content-length "$TMP/sw.txt")" = "${#RENDERED}" ]
"$BRINK" load --dry-run -m POST -b "$BODY" --sign standard-webhooks --secret-file "$TMP/whsec" \
    http://127.0.0.1:9/webhooks >"$TMP/sw2.txt"
check "standard-webhooks: webhook-id differs per request" [ "$(hdr webhook-id "$TMP/sw2.txt")" != "$id" ]

# stripe: t=<ts>,v1=<hex HMAC(secret, ts.body)>, secret from the environment
export BRINK_TEST_STRIPE_SECRET=whsec_stripe_test_secret
"$BRINK" load --dry-run -m POST -b "$BODY" --sign stripe --secret-env BRINK_TEST_STRIPE_SECRET \
    http://127.0.0.1:9/ >"$TMP/st.txt"
h=$(hdr stripe-signature "$TMP/st.txt")
t=${h#t=}
t=${t%%,*}
key=$(printf '%s' "$BRINK_TEST_STRIPE_SECRET" | od -An -tx1 | tr -d ' \n')
want="t=$t,v1=$(printf '%s.%s' "$t" "$RENDERED" | hmac_hex "$key")"
check "stripe: Stripe-Signature verifies" [ "$h" = "$want" ]

# github: sha256=<hex HMAC(secret, body)>
printf "It's a Secret to Everybody\n" >"$TMP/gh"
"$BRINK" load --dry-run -m POST -b 'Hello, World!' --sign github --secret-file "$TMP/gh" \
    http://127.0.0.1:9/ >"$TMP/gh.txt"
check "github: the documented example signature" \
    [ "$(hdr x-hub-signature-256 "$TMP/gh.txt")" = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" ]

# the secret never appears in what brink prints
if grep -q "MfKQ9r8G\|stripe_test_secret\|Secret to Everybody" "$TMP/sw.txt" "$TMP/st.txt" "$TMP/gh.txt"; then
    not_ok "no secret in the rendered requests"
else
    ok "no secret in the rendered requests"
fi

# templates: every placeholder renders
"$BRINK" load --dry-run -H 'X-T: {{seq}}|{{uuid}}|{{rand:5-5}}|{{now_s}}|{{now_ms}}|{{conn}}|{{thread}}' \
    "http://127.0.0.1:9/p/{{seq}}" >"$TMP/t.txt"
x=$(hdr x-t "$TMP/t.txt")
check "templates: all placeholders render ($x)" \
    in_text "$x" '^0\|[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\|5\|[0-9]{10}\|[0-9]{13}\|0\|0$'
check "templates: URL path rendered" grep -q '^GET /p/0 HTTP/1.1' "$TMP/t.txt"
