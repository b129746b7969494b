//! `PLAIN` (RFC 4616): one message, `authzid NUL authcid NUL passwd`.
//!
//! Kafka sends an empty authorization identity (the principal is the
//! authenticated user), so the message is `\0user\0password`. The server
//! answers with an empty token on success; a failure arrives as a
//! `SaslAuthenticate` error code. NUL separates the fields, so neither field
//! may contain one, and RFC 4616 requires both to be non-empty. The server
//! normalizes (Kafka's does not), so the client sends the strings as given.

use zeroize::Zeroizing;

use crate::error::CredentialProblem;
use crate::sasl::Secret;

/// The mechanism's name.
pub const MECHANISM: &str = "PLAIN";

/// The single client message, `\0username\0password`. Zeroed on drop.
pub fn initial_response(username: &str, password: &Secret) -> Result<Zeroizing<Vec<u8>>, CredentialProblem> {
    check(username, "username")?;
    check(password.expose(), "password")?;
    let password = password.expose().as_bytes();
    let mut message = Zeroizing::new(Vec::with_capacity(2 + username.len() + password.len()));
    message.push(0);
    message.extend_from_slice(username.as_bytes());
    message.push(0);
    message.extend_from_slice(password);
    Ok(message)
}

fn check(field: &str, name: &'static str) -> Result<(), CredentialProblem> {
    if field.is_empty() {
        return Err(CredentialProblem::Empty { field: name });
    }
    if field.contains('\0') {
        return Err(CredentialProblem::ContainsNul { field: name });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_nul_user_nul_password() {
        let m = initial_response("alice", &Secret::new("pä ss")).unwrap();
        assert_eq!(&m[..], "\0alice\0pä ss".as_bytes());
    }

    #[test]
    fn empty_or_nul_fields_are_refused() {
        assert_eq!(
            initial_response("", &Secret::new("p")).unwrap_err(),
            CredentialProblem::Empty { field: "username" }
        );
        assert_eq!(
            initial_response("a", &Secret::new("")).unwrap_err(),
            CredentialProblem::Empty { field: "password" }
        );
        assert_eq!(
            initial_response("a\0b", &Secret::new("p")).unwrap_err(),
            CredentialProblem::ContainsNul { field: "username" }
        );
        assert_eq!(
            initial_response("a", &Secret::new("p\0")).unwrap_err(),
            CredentialProblem::ContainsNul { field: "password" }
        );
    }
}
