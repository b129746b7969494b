//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), client side.
//!
//! Two round trips:
//!
//! ```text
//! client-first   n,,n=<user>,r=<client nonce>
//! server-first   r=<client nonce + server nonce>,s=<salt, base64>,i=<iterations>
//! client-final   c=biws,r=<full nonce>,p=<ClientProof, base64>
//! server-final   v=<ServerSignature, base64>      (or e=<error>)
//! ```
//!
//! Both sides derive `SaltedPassword = PBKDF2-HMAC(password, salt, i)`. The
//! client proves it knows it with `ClientProof = ClientKey XOR
//! HMAC(H(ClientKey), AuthMessage)`, where `AuthMessage` is the three
//! messages before the proof joined by commas; the server proves it back
//! with `ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"),
//! AuthMessage)`. `c=biws` is the base64 of the GS2 header `n,,` (no channel
//! binding, no authorization identity).
//!
//! The client does not trust the server-first message: the nonce must
//! extend the client's (or a replayed conversation could be accepted), the
//! iteration count must be at least [`MIN_SCRAM_ITERATIONS`] (RFC 7677) and
//! at most [`MAX_SCRAM_ITERATIONS`] (or a server could make the client spin),
//! the salt must be non-empty base64, and the reserved `m=` extension fails
//! the exchange as RFC 5802 requires. The ServerSignature is compared in
//! constant time, and a server-final without one fails: a client that
//! accepted success without it would authenticate to anyone (the class of
//! CVE-2024-56128).
//!
//! The username and password go through SASLprep (RFC 4013). Kafka's own
//! client and broker do not normalize, so the two agree exactly when
//! SASLprep leaves the strings unchanged, which it does for printable ASCII;
//! a string SASLprep refuses (control characters, for one) is a
//! [`CredentialProblem::SaslPrep`]. In the username `=` and `,` are then
//! escaped as `=3D` and `=2C`.
//!
//! The types are a typestate: [`ScramClientFirst`] becomes
//! [`ScramClientFinal`] on a good server-first message, so the messages
//! cannot be handled out of order.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{bounded, CredentialProblem, ScramFailure, MAX_SERVER_TEXT};
use crate::sasl::Secret;

/// The lowest iteration count accepted: RFC 7677 says 4096 at least, and
/// Kafka refuses to create credentials with fewer.
pub const MIN_SCRAM_ITERATIONS: u32 = 4096;

/// The highest iteration count accepted.
///
/// Kafka creates credentials with at most 16384 iterations, but a server
/// managed by other tools may use more; 1,000,000 leaves room for
/// credentials hardened well beyond today's recommendations (OWASP suggests
/// 600,000 for PBKDF2-HMAC-SHA256) while bounding what a hostile server can
/// make the client compute: about a second of one core in an optimized
/// build, where `i=4294967295` would be over an hour.
pub const MAX_SCRAM_ITERATIONS: u32 = 1_000_000;

/// The fewest random bytes the caller must give for the client nonce
/// (144 bits; base64 makes them 24 printable characters).
pub const MIN_NONCE_BYTES: usize = 18;

/// The base64 of the GS2 header `n,,`.
const CHANNEL_BINDING: &str = "biws";

/// Which SCRAM hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScramMechanism {
    /// `SCRAM-SHA-256`.
    Sha256,
    /// `SCRAM-SHA-512`.
    Sha512,
}

impl ScramMechanism {
    /// The mechanism's name as Kafka spells it.
    pub fn name(self) -> &'static str {
        match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
        }
    }

    /// The mechanism called `name` (ASCII case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        [ScramMechanism::Sha256, ScramMechanism::Sha512]
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// `Hi(password, salt, i)`: PBKDF2 with HMAC of this hash.
    pub(crate) fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(match self {
            ScramMechanism::Sha256 => vec![0; 32],
            ScramMechanism::Sha512 => vec![0; 64],
        });
        match self {
            ScramMechanism::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
            ScramMechanism::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out),
        }
        out
    }

    pub(crate) fn hmac(self, key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
        match self {
            ScramMechanism::Sha256 => mac::<Hmac<Sha256>>(key, data),
            ScramMechanism::Sha512 => mac::<Hmac<Sha512>>(key, data),
        }
    }

    pub(crate) fn hash(self, data: &[u8]) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            ScramMechanism::Sha256 => Sha256::digest(data).to_vec(),
            ScramMechanism::Sha512 => Sha512::digest(data).to_vec(),
        })
    }
}

fn mac<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut m = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    m.update(data);
    Zeroizing::new(m.finalize().into_bytes().to_vec())
}

/// A parsed server-first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFirst {
    /// The full nonce (client nonce followed by the server's part).
    pub nonce: String,
    /// The salt, decoded.
    pub salt: Vec<u8>,
    /// The iteration count, within the bounds.
    pub iterations: u32,
}

/// Parses and checks a server-first message against the client nonce that
/// was sent. See the module documentation for what is refused.
pub fn parse_server_first(message: &[u8], client_nonce: &str) -> Result<ServerFirst, ScramFailure> {
    let text = std::str::from_utf8(message).map_err(|_| ScramFailure::Malformed {
        reason: "server-first message is not UTF-8",
    })?;
    if let Some(error) = text.strip_prefix("e=") {
        // Not in RFC 5802's grammar here, but some servers report early
        // failures this way; it is more useful than "missing r".
        return Err(server_error(error));
    }
    if text.starts_with("m=") {
        return Err(ScramFailure::UnexpectedExtension);
    }
    let mut parts = text.split(',');
    let nonce = attribute(parts.next(), 'r')?;
    let salt = attribute(parts.next(), 's')?;
    let iterations = attribute(parts.next(), 'i')?;
    for extension in parts {
        // Optional extensions after `i` are allowed by the grammar and
        // ignored, but must at least look like `x=...`.
        let b = extension.as_bytes();
        if b.len() < 2 || !b[0].is_ascii_alphabetic() || b[1] != b'=' {
            return Err(ScramFailure::Malformed {
                reason: "server-first extension is not attr=value",
            });
        }
    }

    if !nonce.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(ScramFailure::Malformed {
            reason: "nonce has non-printable characters",
        });
    }
    if nonce.len() <= client_nonce.len() || !nonce.starts_with(client_nonce) {
        return Err(ScramFailure::NonceNotExtended);
    }

    if salt.is_empty() {
        return Err(ScramFailure::EmptySalt);
    }
    let salt = BASE64
        .decode(salt)
        .map_err(|_| ScramFailure::BadBase64 { field: "s" })?;
    if salt.is_empty() {
        return Err(ScramFailure::EmptySalt);
    }

    let iterations = parse_iterations(iterations)?;
    Ok(ServerFirst {
        nonce: nonce.to_owned(),
        salt,
        iterations,
    })
}

fn parse_iterations(text: &str) -> Result<u32, ScramFailure> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScramFailure::Malformed {
            reason: "iteration count is not a decimal number",
        });
    }
    let got = text.bytes().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    if got < u64::from(MIN_SCRAM_ITERATIONS) {
        return Err(ScramFailure::IterationsTooLow {
            got,
            min: MIN_SCRAM_ITERATIONS,
        });
    }
    if got > u64::from(MAX_SCRAM_ITERATIONS) {
        return Err(ScramFailure::IterationsTooHigh {
            got,
            max: MAX_SCRAM_ITERATIONS,
        });
    }
    Ok(got as u32)
}

/// The value of `part` if it is `<name>=value`.
fn attribute(part: Option<&str>, name: char) -> Result<&str, ScramFailure> {
    part.and_then(|p| p.strip_prefix(name))
        .and_then(|p| p.strip_prefix('='))
        .ok_or(ScramFailure::MissingAttribute { name })
}

fn server_error(value: &str) -> ScramFailure {
    ScramFailure::ServerError {
        message: bounded(value, MAX_SERVER_TEXT),
    }
}

/// Parses a server-final message: the decoded ServerSignature, or the
/// server's `e=` error, or [`ScramFailure::MissingServerSignature`].
pub fn parse_server_final(message: &[u8]) -> Result<Vec<u8>, ScramFailure> {
    // Only the first attribute matters; extensions after it are ignored.
    let end = message.iter().position(|&b| b == b',').unwrap_or(message.len());
    let first = &message[..end];
    if let Some(error) = first.strip_prefix(b"e=") {
        let text = String::from_utf8_lossy(&error[..error.len().min(MAX_SERVER_TEXT * 4)]);
        return Err(server_error(&text));
    }
    let Some(signature) = first.strip_prefix(b"v=") else {
        return Err(ScramFailure::MissingServerSignature);
    };
    if signature.is_empty() {
        return Err(ScramFailure::MissingServerSignature);
    }
    BASE64
        .decode(signature)
        .map_err(|_| ScramFailure::BadBase64 { field: "v" })
}

/// The username as it goes into `n=`: SASLprep, then `=` → `=3D` and
/// `,` → `=2C`.
fn sasl_name(username: &str) -> Result<String, CredentialProblem> {
    if username.is_empty() {
        return Err(CredentialProblem::Empty { field: "username" });
    }
    let prepped =
        stringprep::saslprep(username).map_err(|_| CredentialProblem::SaslPrep { field: "username" })?;
    if prepped.is_empty() {
        return Err(CredentialProblem::Empty { field: "username" });
    }
    Ok(prepped.replace('=', "=3D").replace(',', "=2C"))
}

fn prepare_password(password: &Secret) -> Result<Zeroizing<String>, CredentialProblem> {
    if password.is_empty() {
        return Err(CredentialProblem::Empty { field: "password" });
    }
    let prepped = stringprep::saslprep(password.expose())
        .map_err(|_| CredentialProblem::SaslPrep { field: "password" })?;
    let prepped = Zeroizing::new(prepped.into_owned());
    if prepped.is_empty() {
        return Err(CredentialProblem::Empty { field: "password" });
    }
    Ok(prepped)
}

/// The client before the server-first message: holds the client-first
/// message to send.
#[derive(Clone)]
pub struct ScramClientFirst {
    mechanism: ScramMechanism,
    password: Zeroizing<String>,
    nonce: String,
    /// `n=<user>,r=<nonce>`: the part of the first message in AuthMessage.
    bare: String,
}

impl ScramClientFirst {
    /// Starts a conversation. `random` are fresh random bytes from a CSPRNG,
    /// at least [`MIN_NONCE_BYTES`]; their base64 is the client nonce.
    pub fn new(
        mechanism: ScramMechanism,
        username: &str,
        password: &Secret,
        random: &[u8],
    ) -> Result<Self, CredentialProblem> {
        if random.len() < MIN_NONCE_BYTES {
            return Err(CredentialProblem::NonceTooShort {
                got: random.len(),
                min: MIN_NONCE_BYTES,
            });
        }
        Self::with_nonce(mechanism, username, password, BASE64.encode(random))
    }

    /// As [`new`](Self::new), with the nonce text given (for test vectors).
    fn with_nonce(
        mechanism: ScramMechanism,
        username: &str,
        password: &Secret,
        nonce: String,
    ) -> Result<Self, CredentialProblem> {
        let name = sasl_name(username)?;
        let password = prepare_password(password)?;
        Ok(ScramClientFirst {
            mechanism,
            password,
            bare: format!("n={name},r={nonce}"),
            nonce,
        })
    }

    /// The mechanism.
    pub fn mechanism(&self) -> ScramMechanism {
        self.mechanism
    }

    /// The client nonce.
    pub fn client_nonce(&self) -> &str {
        &self.nonce
    }

    /// The client-first message, `n,,n=<user>,r=<nonce>`.
    pub fn message(&self) -> Vec<u8> {
        format!("n,,{}", self.bare).into_bytes()
    }

    /// Checks the server-first message and computes the proof (this runs
    /// PBKDF2). On success the client-final message is ready.
    pub fn handle_server_first(self, message: &[u8]) -> Result<ScramClientFinal, ScramFailure> {
        let first = parse_server_first(message, &self.nonce)?;
        // parse_server_first checked that the message is UTF-8.
        let server_first = String::from_utf8_lossy(message);
        let m = self.mechanism;
        let without_proof = format!("c={CHANNEL_BINDING},r={}", first.nonce);
        let auth_message = format!("{},{server_first},{without_proof}", self.bare);

        let salted = m.salted_password(self.password.as_bytes(), &first.salt, first.iterations);
        let client_key = m.hmac(&salted, b"Client Key");
        let stored_key = m.hash(&client_key);
        let client_signature = m.hmac(&stored_key, auth_message.as_bytes());
        let proof: Zeroizing<Vec<u8>> = Zeroizing::new(
            client_key
                .iter()
                .zip(client_signature.iter())
                .map(|(k, s)| k ^ s)
                .collect(),
        );
        let server_key = m.hmac(&salted, b"Server Key");
        let server_signature = m.hmac(&server_key, auth_message.as_bytes());

        let message = Zeroizing::new(format!("{without_proof},p={}", BASE64.encode(&proof[..])).into_bytes());
        Ok(ScramClientFinal {
            mechanism: m,
            message,
            server_signature,
        })
    }
}

impl fmt::Debug for ScramClientFirst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramClientFirst")
            .field("mechanism", &self.mechanism)
            .field("client_first_bare", &self.bare)
            .finish_non_exhaustive()
    }
}

/// The client after a good server-first message: holds the client-final
/// message to send and the ServerSignature to expect.
#[derive(Clone)]
pub struct ScramClientFinal {
    mechanism: ScramMechanism,
    message: Zeroizing<Vec<u8>>,
    server_signature: Zeroizing<Vec<u8>>,
}

impl ScramClientFinal {
    /// The mechanism.
    pub fn mechanism(&self) -> ScramMechanism {
        self.mechanism
    }

    /// The client-final message, `c=biws,r=<nonce>,p=<proof>`.
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// Checks the server-final message: success only if it carries the
    /// expected ServerSignature (compared in constant time).
    pub fn handle_server_final(self, message: &[u8]) -> Result<(), ScramFailure> {
        let got = parse_server_final(message)?;
        if bool::from(self.server_signature.as_slice().ct_eq(&got)) {
            Ok(())
        } else {
            Err(ScramFailure::WrongServerSignature)
        }
    }
}

impl fmt::Debug for ScramClientFinal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramClientFinal")
            .field("mechanism", &self.mechanism)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "scram_tests.rs"]
mod tests;
