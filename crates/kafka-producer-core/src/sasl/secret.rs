//! [`Secret`]: a password or token that never shows itself.

use std::fmt;

use zeroize::Zeroizing;

/// A password, token or key.
///
/// `Debug` and `Display` print `<redacted>`, and the memory is zeroed when the
/// value is dropped (copies the caller made before wrapping it, and the
/// encoded requests that must carry it to the broker, are not covered).
/// Deserializes from a plain string, so configuration structs can hold one.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret itself. Call only where it is sent or hashed.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Into a Zeroizing buffer straight away, so the only plain copy is
        // the deserializer's own.
        String::deserialize(deserializer).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{:#?}", Some(s.clone())), "Some(\n    <redacted>,\n)");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(s, Secret::from("hunter2"));
        assert!(!s.is_empty());
    }

    #[test]
    fn deserializes_from_a_string() {
        let s: Secret = serde_json::from_str("\"p@ss\"").unwrap();
        assert_eq!(s.expose(), "p@ss");
        assert!(serde_json::from_str::<Secret>("3").is_err());
    }
}
