#!/usr/bin/env bash
# scripts/certs.sh OUTDIR: the test PKI of the secured Kafka node.
#
# Writes, with openssl (and keytool for the Java truststore), a CA and the
# certificates the TLS tests need (integration/kafka/README.md, "Certificates"):
#   ca.pem / ca-key.pem                 the test CA (10 years)
#   broker.pem / broker-key.pem / broker.p12
#                                       SAN DNS:localhost, IP:127.0.0.1, signed by the CA
#   wrong-name.pem / -key.pem / .p12    SAN DNS:wrong.example.com only, signed by the CA
#   expired.pem / -key.pem / .p12       valid SANs, signed by the CA, expired in 2020
#   client.pem / client-key.pem         CN=alice-client (clientAuth), signed by the CA
#   client-key-encrypted.pem            the same key, PKCS#8 encrypted, password client-key-pass
#   client-chain.pem / client.p12       client cert + CA, and the PKCS12 of key + chain
#   other-ca.pem / other-ca-key.pem     an unrelated CA (nothing is signed by it)
#   truststore.p12                      the CA as a trusted entry, for the broker's mTLS listener
# Unencrypted keys are PKCS#8 ("BEGIN PRIVATE KEY"). Every PKCS12 file has the
# password in STORE_PASS below.
#
# Idempotent: a complete, still valid set is left alone (a marker records the
# layout version); anything else is regenerated as a whole in a temporary
# directory and then moved in, so a reader never sees a half-written set.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
STORE_PASS=test-store-pass
CLIENT_KEY_PASS=client-key-pass
LAYOUT=1 # bump when the set of files or their contents change

log() { echo "certs.sh: $*" >&2; }

complete() {
    [ -f "$OUT/complete" ] && [ "$(cat "$OUT/complete")" = "$LAYOUT" ] &&
        # regenerate well before a "valid" certificate runs out (30 days)
        openssl x509 -checkend 2592000 -noout -in "$OUT/broker.pem" >/dev/null 2>&1 &&
        openssl x509 -checkend 2592000 -noout -in "$OUT/client.pem" >/dev/null 2>&1
}
complete && exit 0

mkdir -p "$(dirname "$OUT")"
TMP=$(mktemp -d "$OUT.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"

key() { # FILE: a 2048-bit RSA key, PKCS#8 unencrypted
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
}

ca() { # NAME SUBJECT
    key "$1-key.pem"
    openssl req -x509 -new -key "$1-key.pem" -subj "$2" -days 3650 -sha256 -out "$1.pem" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash"
}

# Extensions of a leaf certificate; $1 is the SAN list, $2 the extended key usage.
leaf_ext() {
    cat <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$2
subjectAltName=$1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
}

leaf() { # NAME SUBJECT SAN EKU: a key and a certificate signed by the CA, valid 825 days
    key "$1-key.pem"
    openssl req -new -key "$1-key.pem" -subj "$2" -out "$1.csr"
    leaf_ext "$3" "$4" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
        -days 825 -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}

# `openssl x509 -req` (3.0) can only start validity now, so the expired
# certificate goes through `openssl ca`, which takes explicit dates.
expired_leaf() { # NAME SUBJECT SAN
    key "$1-key.pem"
    openssl req -new -key "$1-key.pem" -subj "$2" -out "$1.csr"
    mkdir -p ca-db
    : >ca-db/index.txt
    echo 1000 >ca-db/serial
    cat >ca-db/ca.cnf <<EOF
[ca]
default_ca = test_ca
[test_ca]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
organizationName = optional
[ext]
$(leaf_ext "$3" serverAuth)
EOF
    openssl ca -batch -notext -config ca-db/ca.cnf -cert ca.pem -keyfile ca-key.pem \
        -extensions ext -startdate 20200101000000Z -enddate 20201231235959Z \
        -in "$1.csr" -out "$1.pem" 2>/dev/null
}

p12() { # NAME: key + cert + CA into a PKCS12 keystore
    openssl pkcs12 -export -name "$1" -inkey "$1-key.pem" -in "$1.pem" -certfile ca.pem \
        -passout "pass:$STORE_PASS" -out "$1.p12"
}

ca ca "/O=actix-kafka tests/CN=actix-kafka test CA"
ca other-ca "/O=someone else/CN=unrelated test CA"
leaf broker "/O=actix-kafka tests/CN=localhost" "DNS:localhost,IP:127.0.0.1" serverAuth
leaf wrong-name "/O=actix-kafka tests/CN=wrong.example.com" "DNS:wrong.example.com" serverAuth
expired_leaf expired "/O=actix-kafka tests/CN=localhost" "DNS:localhost,IP:127.0.0.1"
leaf client "/O=actix-kafka tests/CN=alice-client" "DNS:alice-client" clientAuth
for name in broker wrong-name expired client; do p12 "$name"; done
cat client.pem ca.pem >client-chain.pem
openssl pkcs8 -topk8 -v2 aes-256-cbc -in client-key.pem -passout "pass:$CLIENT_KEY_PASS" \
    -out client-key-encrypted.pem
# Java's PKCS12 loader needs its own "trusted certificate" attribute, which
# openssl 3.0 cannot write (-jdktrust came in 3.2): keytool does it.
keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.p12 \
    -storetype PKCS12 -storepass "$STORE_PASS" >/dev/null 2>&1

# Check what the tests rely on, so a broken set fails here and not in a test.
openssl verify -CAfile ca.pem broker.pem wrong-name.pem client.pem >/dev/null
openssl x509 -checkend 0 -noout -in expired.pem >/dev/null && { log "expired.pem is not expired"; exit 1; }
openssl verify -CAfile ca.pem -no_check_time expired.pem >/dev/null

rm -rf ca-db ./*.csr ./*.ext ./*.srl
echo "$LAYOUT" >complete
chmod 600 ./*-key.pem client-key-encrypted.pem
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
log "wrote the test certificates into $OUT"
