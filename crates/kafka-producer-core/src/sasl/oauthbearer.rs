//! `OAUTHBEARER` (RFC 7628, KIP-255, with KIP-342's extensions), client side.
//!
//! The client sends one message, a GS2 header without authorization
//! identity followed by `\x01`-separated key/value pairs and a closing
//! `\x01\x01`:
//!
//! ```text
//! n,,\x01auth=Bearer <token>\x01<key>=<value>\x01...\x01\x01
//! ```
//!
//! The server answers with an empty token on success. On failure it answers
//! with an RFC 7628 error (JSON such as `{"status":"invalid_token"}`); the
//! client must then send a single `\x01` to end the conversation, and the
//! broker follows with `SASL_AUTHENTICATION_FAILED`.
//!
//! Kafka checks extension keys against `[A-Za-z]+` (and reserves `auth`)
//! and values against RFC 7628's grammar (printable ASCII, space, tab, CR,
//! LF); the client checks the same before sending, so a typo is a clear
//! local error rather than a broker rejection. The token must be an RFC 6750
//! `b64token`, which every JWT is.
//!
//! [`unsecured_jwt`] builds the unsigned token that Kafka's
//! `OAuthBearerUnsecuredValidatorCallbackHandler` accepts, for test brokers.

use std::fmt::Write as _;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::{bounded, server_text, CredentialProblem, OAuthBearerFailure};
use crate::sasl::Secret;

/// The mechanism's name.
pub const MECHANISM: &str = "OAUTHBEARER";

/// What the client sends after a server error, to end the conversation.
pub const ERROR_ACKNOWLEDGEMENT: &[u8] = b"\x01";

const SEPARATOR: char = '\x01';

/// The client's message carrying `token` and `extensions`. Zeroed on drop.
pub fn initial_response(
    token: &Secret,
    extensions: &[(String, String)],
) -> Result<Zeroizing<Vec<u8>>, CredentialProblem> {
    check_token(token.expose())?;
    for (n, (key, value)) in extensions.iter().enumerate() {
        let valid_key = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphabetic());
        let duplicate = extensions[..n].iter().any(|(k, _)| k == key);
        if !valid_key || key == "auth" || duplicate {
            return Err(CredentialProblem::BadExtensionKey {
                key: bounded(key, 64),
            });
        }
        let valid_value = !value.is_empty()
            && value
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) || matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        if !valid_value {
            return Err(CredentialProblem::BadExtensionValue { key: key.clone() });
        }
    }
    let mut message = Zeroizing::new(String::new());
    message.push_str("n,,");
    message.push(SEPARATOR);
    message.push_str("auth=Bearer ");
    message.push_str(token.expose());
    for (key, value) in extensions {
        message.push(SEPARATOR);
        message.push_str(key);
        message.push('=');
        message.push_str(value);
    }
    message.push(SEPARATOR);
    message.push(SEPARATOR);
    Ok(Zeroizing::new(message.as_bytes().to_vec()))
}

/// RFC 6750: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn check_token(token: &str) -> Result<(), CredentialProblem> {
    if token.is_empty() {
        return Err(CredentialProblem::Empty { field: "token" });
    }
    let body = token.trim_end_matches('=');
    let ok = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CredentialProblem::BadToken)
    }
}

/// What the server's answer to the initial response means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerReply {
    /// Empty: the token was accepted.
    Accepted,
    /// An error: send [`ERROR_ACKNOWLEDGEMENT`], then report this failure.
    Refused(OAuthBearerFailure),
}

/// Reads the server's answer to the initial response.
pub fn parse_server_reply(reply: &[u8]) -> ServerReply {
    if reply.is_empty() {
        ServerReply::Accepted
    } else {
        ServerReply::Refused(OAuthBearerFailure::ServerError {
            status: server_text(reply),
        })
    }
}

/// An unsecured JWS (`{"alg":"none"}`, no signature) for `principal`,
/// issued at `issued_at_ms` and valid for `lifetime_ms` (milliseconds since
/// the Unix epoch; claims `sub`, `iat` and `exp` in whole seconds).
///
/// Kafka's `OAuthBearerUnsecuredValidatorCallbackHandler` accepts it; never
/// use it against a broker that validates signatures. The core reads no
/// clock, so the caller passes the issue time.
pub fn unsecured_jwt(principal: &str, issued_at_ms: u64, lifetime_ms: u64) -> String {
    let iat = issued_at_ms / 1000;
    let exp = issued_at_ms.saturating_add(lifetime_ms) / 1000;
    let mut claims = String::from("{\"sub\":");
    json_string(&mut claims, principal);
    let _ = write!(claims, ",\"iat\":{iat},\"exp\":{exp}}}");
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(claims.as_bytes())
    )
}

/// Appends `s` as a JSON string literal.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    #[test]
    fn message_layout() {
        let m = initial_response(&Secret::new("abc.def-_"), &[]).unwrap();
        assert_eq!(&m[..], b"n,,\x01auth=Bearer abc.def-_\x01\x01");
        let m = initial_response(
            &Secret::new("t0k="),
            &ext(&[("logicalCluster", "lkc-1 x"), ("identityPoolId", "pool\t2")]),
        )
        .unwrap();
        assert_eq!(
            &m[..],
            b"n,,\x01auth=Bearer t0k=\x01logicalCluster=lkc-1 x\x01identityPoolId=pool\t2\x01\x01"
        );
    }

    #[test]
    fn bad_tokens_and_extensions_are_refused() {
        let ok = Secret::new("tok");
        assert_eq!(
            initial_response(&Secret::new(""), &[]).unwrap_err(),
            CredentialProblem::Empty { field: "token" }
        );
        for bad in ["a b", "a\x01b", "=", "é", "a,b"] {
            assert_eq!(
                initial_response(&Secret::new(bad), &[]).unwrap_err(),
                CredentialProblem::BadToken,
                "{bad:?}"
            );
        }
        for key in ["auth", "", "a1", "a_b", "ключ"] {
            assert!(
                matches!(
                    initial_response(&ok, &ext(&[(key, "v")])).unwrap_err(),
                    CredentialProblem::BadExtensionKey { .. }
                ),
                "{key:?}"
            );
        }
        assert!(matches!(
            initial_response(&ok, &ext(&[("a", "1"), ("a", "2")])).unwrap_err(),
            CredentialProblem::BadExtensionKey { .. }
        ));
        for value in ["", "a\x01b", "é", "\x7f"] {
            assert_eq!(
                initial_response(&ok, &ext(&[("k", value)])).unwrap_err(),
                CredentialProblem::BadExtensionValue { key: "k".into() },
                "{value:?}"
            );
        }
        // Values are not shown in the error.
        let e = initial_response(&ok, &ext(&[("k", "secret\x01")])).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn server_replies() {
        assert_eq!(parse_server_reply(b""), ServerReply::Accepted);
        let json = br#"{"status":"invalid_token","scope":"","openid-configuration":""}"#;
        assert_eq!(
            parse_server_reply(json),
            ServerReply::Refused(OAuthBearerFailure::ServerError {
                status: String::from_utf8(json.to_vec()).unwrap()
            })
        );
    }

    fn decode_part(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn unsecured_jwt_has_kafkas_shape() {
        let jwt = unsecured_jwt("ali\"ce\\\n", 1_700_000_000_999, 3_600_000);
        assert!(jwt.ends_with('.'), "{jwt}");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], "");
        assert_eq!(parts[0], "eyJhbGciOiJub25lIn0");
        assert_eq!(decode_part(parts[0]), serde_json::json!({"alg": "none"}));
        assert_eq!(
            decode_part(parts[1]),
            serde_json::json!({"sub": "ali\"ce\\\n", "iat": 1_700_000_000u64, "exp": 1_700_003_600u64})
        );
        // It is a valid bearer token.
        initial_response(&Secret::new(jwt), &[]).unwrap();
        // No overflow at the end of time.
        let far = unsecured_jwt("a", u64::MAX, u64::MAX);
        let parts: Vec<&str> = far.split('.').collect();
        assert_eq!(decode_part(parts[1])["exp"], serde_json::json!(u64::MAX / 1000));
    }
}
