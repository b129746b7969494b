//! An honest SCRAM server (RFC 5802, RFC 7677) for the fake broker, written
//! from the RFC independently of the client in `kafka-producer-core`.
//!
//! It knows one user and password. For each connection it answers the
//! client-first message with a server-first (the client's nonce extended
//! with its own, the salt, the iteration count), then checks the client's
//! proof and answers with the ServerSignature, or fails the authentication
//! with `SASL_AUTHENTICATION_FAILED` and Kafka's message, as a broker does
//! for a wrong password or an unknown user:
//!
//! ```text
//! SaltedPassword  = Hi(password, salt, i)            (PBKDF2-HMAC)
//! StoredKey       = H(HMAC(SaltedPassword, "Client Key"))
//! AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
//! ClientKey       = ClientProof XOR HMAC(StoredKey, AuthMessage)   -> H(ClientKey) must be StoredKey
//! ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage)
//! ```
//!
//! ```no_run
//! use actix_kafka_integration::fake_broker::scram::{ScramHash, ScramServer};
//! use actix_kafka_integration::fake_broker::{FakeCluster, FakeConfig};
//! let server = ScramServer::new(ScramHash::Sha512, "alice", "alice-secret");
//! let cluster = FakeCluster::start(FakeConfig::with_brokers(1).sasl(&["SCRAM-SHA-512"], server.into_fn()));
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::{codes, SaslAnswer, SaslTurn};

/// The hash of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    /// `SCRAM-SHA-256`.
    Sha256,
    /// `SCRAM-SHA-512`.
    Sha512,
}

impl ScramHash {
    /// The mechanism's name, as Kafka spells it.
    pub fn mechanism(self) -> &'static str {
        match self {
            ScramHash::Sha256 => "SCRAM-SHA-256",
            ScramHash::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail.
        match self {
            ScramHash::Sha256 => {
                let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            ScramHash::Sha512 => {
                let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("any key length");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
        }
    }

    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => {
                let mut out = vec![0; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out
            }
            ScramHash::Sha512 => {
                let mut out = vec![0; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out);
                out
            }
        }
    }
}

/// What Kafka answers to a wrong password or an unknown user.
fn invalid_credentials(hash: ScramHash) -> SaslAnswer {
    SaslAnswer::error(
        codes::SASL_AUTHENTICATION_FAILED,
        &format!(
            "Authentication failed during authentication due to invalid credentials with SASL mechanism {}",
            hash.mechanism()
        ),
    )
}

/// A conversation between its two steps.
#[derive(Debug)]
struct Pending {
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

/// An honest SCRAM server for one user. See the module documentation.
#[derive(Debug)]
pub struct ScramServer {
    hash: ScramHash,
    username: String,
    password: String,
    salt: Vec<u8>,
    iterations: u32,
    /// Conversations waiting for their client-final, by (node, connection).
    pending: Mutex<HashMap<(i32, usize), Pending>>,
}

impl ScramServer {
    /// A server for `username` / `password`, with a fixed salt and 4096
    /// iterations (Kafka's default).
    pub fn new(hash: ScramHash, username: &str, password: &str) -> ScramServer {
        ScramServer {
            hash,
            username: username.to_string(),
            password: password.to_string(),
            salt: b"fake-broker-salt".to_vec(),
            iterations: 4096,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Uses `iterations` instead of 4096.
    pub fn iterations(mut self, iterations: u32) -> ScramServer {
        self.iterations = iterations;
        self
    }

    /// The server as the closure [`FakeConfig::sasl`](super::FakeConfig::sasl) takes.
    pub fn into_fn(self) -> impl Fn(SaslTurn) -> SaslAnswer + Send + Sync + 'static {
        move |turn| self.answer(&turn)
    }

    /// Answers one client message.
    pub fn answer(&self, turn: &SaslTurn) -> SaslAnswer {
        let key = (turn.node, turn.connection);
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match turn.step {
            0 => match self.server_first(&turn.client_message, turn.connection) {
                Ok(conversation) => {
                    let answer = SaslAnswer::challenge(conversation.server_first.clone());
                    pending.insert(key, conversation);
                    answer
                }
                Err(answer) => answer,
            },
            1 => match pending.remove(&key) {
                Some(conversation) => self.server_final(&conversation, &turn.client_message),
                None => SaslAnswer::error(codes::ILLEGAL_SASL_STATE, "no SCRAM conversation in progress"),
            },
            _ => SaslAnswer::error(codes::ILLEGAL_SASL_STATE, "SCRAM has only two client messages"),
        }
    }

    fn server_first(&self, message: &[u8], connection: usize) -> Result<Pending, SaslAnswer> {
        let malformed = || {
            SaslAnswer::error(
                codes::SASL_AUTHENTICATION_FAILED,
                "malformed client-first message",
            )
        };
        let text = std::str::from_utf8(message).map_err(|_| malformed())?;
        // No channel binding and no authorization identity: `n,,`.
        let bare = text.strip_prefix("n,,").ok_or_else(malformed)?;
        let mut parts = bare.split(',');
        let name = parts
            .next()
            .and_then(|p| p.strip_prefix("n="))
            .ok_or_else(malformed)?;
        let client_nonce = parts
            .next()
            .and_then(|p| p.strip_prefix("r="))
            .ok_or_else(malformed)?;
        if client_nonce.is_empty() {
            return Err(malformed());
        }
        // RFC 5802 §5.1: `,` and `=` travel as `=2C` and `=3D`.
        let name = name.replace("=2C", ",").replace("=3D", "=");
        if name != self.username {
            return Err(invalid_credentials(self.hash));
        }
        let nonce = format!("{client_nonce}fake{connection:08}");
        let server_first = format!("r={nonce},s={},i={}", BASE64.encode(&self.salt), self.iterations);
        Ok(Pending {
            client_first_bare: bare.to_string(),
            server_first,
            nonce,
        })
    }

    fn server_final(&self, conversation: &Pending, message: &[u8]) -> SaslAnswer {
        let malformed = || {
            SaslAnswer::error(
                codes::SASL_AUTHENTICATION_FAILED,
                "malformed client-final message",
            )
        };
        let Ok(text) = std::str::from_utf8(message) else {
            return malformed();
        };
        let Some((without_proof, proof)) = text.rsplit_once(",p=") else {
            return malformed();
        };
        let Some(nonce) = without_proof.strip_prefix("c=biws,r=") else {
            return malformed();
        };
        if nonce != conversation.nonce {
            return malformed();
        }
        let Ok(proof) = BASE64.decode(proof) else {
            return malformed();
        };
        let auth_message = format!(
            "{},{},{without_proof}",
            conversation.client_first_bare, conversation.server_first
        );
        let h = self.hash;
        let salted = h.salted_password(self.password.as_bytes(), &self.salt, self.iterations);
        let stored_key = h.hash(&h.hmac(&salted, b"Client Key"));
        let client_signature = h.hmac(&stored_key, auth_message.as_bytes());
        if proof.len() != client_signature.len() {
            return invalid_credentials(h);
        }
        let client_key: Vec<u8> = proof.iter().zip(&client_signature).map(|(p, s)| p ^ s).collect();
        if h.hash(&client_key) != stored_key {
            return invalid_credentials(h);
        }
        let server_signature = h.hmac(&h.hmac(&salted, b"Server Key"), auth_message.as_bytes());
        SaslAnswer::success(format!("v={}", BASE64.encode(server_signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(step: usize, message: &str) -> SaslTurn {
        SaslTurn {
            node: 0,
            connection: 1,
            step,
            mechanism: "SCRAM-SHA-256".into(),
            client_message: message.as_bytes().to_vec(),
        }
    }

    /// RFC 7677's SCRAM-SHA-256 example, with the server's nonce, salt and
    /// iteration count of the example.
    #[test]
    fn rfc_7677_example_verifies_and_signs() {
        let server = ScramServer {
            hash: ScramHash::Sha256,
            username: "user".into(),
            password: "pencil".into(),
            salt: BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap(),
            iterations: 4096,
            pending: Mutex::new(HashMap::new()),
        };
        let conversation = Pending {
            client_first_bare: "n=user,r=rOprNGfwEbeRWgbNEkqO".into(),
            server_first:
                "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
                    .into(),
            nonce: "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into(),
        };
        let client_final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let answer = server.server_final(&conversation, client_final.as_bytes());
        assert_eq!(answer.error_code, codes::NONE, "{answer:?}");
        assert!(answer.complete);
        assert_eq!(
            answer.auth_bytes,
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );

        let tampered = client_final.replace("p=dHz", "p=eHz");
        let answer = server.server_final(&conversation, tampered.as_bytes());
        assert_eq!(answer.error_code, codes::SASL_AUTHENTICATION_FAILED);
    }

    #[test]
    fn server_first_extends_the_nonce_and_unknown_users_fail() {
        let server = ScramServer::new(ScramHash::Sha256, "a,b=c", "pw");
        let answer = server.answer(&turn(0, "n,,n=a=2Cb=3Dc,r=abcdef"));
        let text = String::from_utf8(answer.auth_bytes).unwrap();
        assert!(
            text.starts_with("r=abcdef") && text.len() > "r=abcdef".len(),
            "{text}"
        );
        assert!(text.ends_with(",i=4096"), "{text}");
        assert!(!answer.complete && answer.error_code == codes::NONE);

        let answer = server.answer(&turn(0, "n,,n=mallory,r=abcdef"));
        assert_eq!(answer.error_code, codes::SASL_AUTHENTICATION_FAILED);
        let mut other_connection = turn(1, "c=biws,r=x,p=AAAA");
        other_connection.connection = 2;
        let answer = server.answer(&other_connection);
        assert_eq!(
            answer.error_code,
            codes::ILLEGAL_SASL_STATE,
            "no conversation for this connection"
        );
        // Connection 1's conversation is still there: a bad proof fails it.
        let answer = server.answer(&turn(1, "c=biws,r=x,p=AAAA"));
        assert_eq!(answer.error_code, codes::SASL_AUTHENTICATION_FAILED);
    }
}
