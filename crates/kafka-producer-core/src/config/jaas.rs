//! Java's `sasl.jaas.config`: one JAAS login module entry, parsed and understood.
//!
//! Java clients configure SASL credentials with a JAAS entry in a property:
//!
//! ```text
//! org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s\"cret";
//! └──────────────── login module class ──────────────────┘ └─flag─┘ └─────────── options ──────────────┘
//! ```
//!
//! The grammar, as Java's `JaasConfig` reads it for a single entry:
//!
//! * a login module class name (letters, digits, `_`, `$`, `.`);
//! * a control flag: `required`, `requisite`, `sufficient` or `optional` (any
//!   case; with one module there is nothing for the flag to choose between, so
//!   it is kept but has no effect);
//! * options `name=value`, where the value is either quoted (`"..."`, with `\"`
//!   for a quote and `\\` for a backslash; any other `\c` stands for `c`) or a
//!   run of characters up to whitespace or `;`;
//! * a `;`, after which only whitespace may follow (Kafka allows exactly one
//!   login module in `sasl.jaas.config`).
//!
//! [`parse_jaas`] reads that syntax into a [`JaasConfig`]; [`JaasConfig::login`]
//! then says what it means for this producer ([`JaasLogin`]): the username and
//! password of `PlainLoginModule` and `ScramLoginModule`, or the unsecured-token
//! and extension options of `OAuthBearerLoginModule`. Values are often
//! passwords, so neither [`JaasError`] nor any `Debug` here ever shows one; only
//! option names and module class names appear in messages.

use std::collections::BTreeMap;
use std::fmt;

/// The control flag of a JAAS login module entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ControlFlag {
    /// `required`.
    Required,
    /// `requisite`.
    Requisite,
    /// `sufficient`.
    Sufficient,
    /// `optional`.
    Optional,
}

impl ControlFlag {
    /// The flag as written in JAAS: `required`, `requisite`, `sufficient` or `optional`.
    pub fn name(self) -> &'static str {
        match self {
            ControlFlag::Required => "required",
            ControlFlag::Requisite => "requisite",
            ControlFlag::Sufficient => "sufficient",
            ControlFlag::Optional => "optional",
        }
    }
}

/// What is wrong with a `sasl.jaas.config` value. Messages name options and
/// login modules but never repeat a value, which may be a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JaasError {
    /// The text is empty or only whitespace.
    #[error("empty: expected `<LoginModule> required name=\"value\" ...;`")]
    Empty,
    /// The text does not start with a login module class name.
    #[error("expected a login module class name first (such as org.apache.kafka.common.security.plain.PlainLoginModule)")]
    InvalidModuleName,
    /// No control flag after the login module.
    #[error("expected a control flag (`required`) after the login module")]
    MissingControlFlag,
    /// A word after the login module that is not a control flag.
    #[error(
        "unknown control flag: expected required, requisite, sufficient or optional after the login module"
    )]
    UnknownControlFlag,
    /// Something other than an option name where one should start.
    #[error("expected an option name (letters, digits, `_`, `.`, `-`) at byte {position}")]
    InvalidOptionName {
        /// The byte offset in the text.
        position: usize,
    },
    /// An option name not followed by `=`.
    #[error("expected `=` after the option `{option}`")]
    MissingEquals {
        /// The option's name.
        option: String,
    },
    /// `name=` with nothing after it.
    #[error("the option `{option}` has no value (quote an empty one: `{option}=\"\"`)")]
    MissingValue {
        /// The option's name.
        option: String,
    },
    /// A quoted value without its closing quote.
    #[error("the value of `{option}` has no closing quote")]
    UnterminatedQuote {
        /// The option's name.
        option: String,
    },
    /// The same option twice.
    #[error("the option `{option}` is given more than once")]
    DuplicateOption {
        /// The option's name.
        option: String,
    },
    /// The entry does not end with `;`.
    #[error("expected `;` at the end of the login module entry")]
    MissingSemicolon,
    /// Text after the `;`: a second login module, which Kafka does not allow.
    #[error("text after `;`: sasl.jaas.config holds exactly one login module entry")]
    TrailingText,
    /// A login module this producer has no use for.
    #[error(
        "the login module {module} is not supported: use PlainLoginModule, ScramLoginModule or OAuthBearerLoginModule"
    )]
    UnsupportedModule {
        /// The class name as written.
        module: String,
    },
    /// A login module without an option it needs.
    #[error("{module} needs the option `{option}`")]
    MissingOption {
        /// The module's short name (`PlainLoginModule`, ...).
        module: &'static str,
        /// The option's name.
        option: &'static str,
    },
    /// An option this producer cannot honour; `why` says what to do instead.
    #[error("the option `{option}` is not supported: {why}")]
    UnsupportedOption {
        /// The option's name.
        option: String,
        /// Why, and what to use instead.
        why: &'static str,
    },
    /// An option whose value is not what it should be (the value is not shown).
    #[error("the option `{option}`: {expected}")]
    InvalidOption {
        /// The option's name.
        option: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// One parsed JAAS login module entry. `Debug` shows option names only.
#[derive(Clone, PartialEq, Eq)]
pub struct JaasConfig {
    module: String,
    flag: ControlFlag,
    options: Vec<(String, String)>,
}

impl JaasConfig {
    /// The login module class name, as written.
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The class name's last segment (`PlainLoginModule` for
    /// `org.apache.kafka.common.security.plain.PlainLoginModule`).
    pub fn module_short_name(&self) -> &str {
        self.module.rsplit('.').next().unwrap_or(&self.module)
    }

    /// The control flag.
    pub fn flag(&self) -> ControlFlag {
        self.flag
    }

    /// The value of the option `name`, unescaped.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every option as `(name, value)`, in the order written. Values may be secrets.
    pub fn options(&self) -> impl Iterator<Item = (&str, &str)> {
        self.options.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// What the entry means for this producer.
    ///
    /// * `PlainLoginModule` and `ScramLoginModule` need `username` and
    ///   `password`; other options are ignored, as Java does, except SCRAM's
    ///   `tokenauth=true` (delegation tokens), which is refused.
    /// * `OAuthBearerLoginModule` takes `unsecuredLoginStringClaim_sub` (the
    ///   principal of Kafka's unsecured test token), `unsecuredLoginLifetimeSeconds`,
    ///   and SASL extensions (KIP-342) as `extension_<key>` (Kafka's OIDC handler's
    ///   spelling) or `unsecuredLoginExtension_<key>` (the unsecured handler's).
    ///   With none of them the token comes from a provider given in code. Its
    ///   other options (the OIDC client-credentials `clientId`, `clientSecret`,
    ///   `scope`, other unsecured claims) are refused rather than ignored: the
    ///   token they describe would not be the one sent.
    ///
    /// # Errors
    ///
    /// [`JaasError::UnsupportedModule`], [`JaasError::MissingOption`],
    /// [`JaasError::UnsupportedOption`] or [`JaasError::InvalidOption`].
    pub fn login(&self) -> Result<JaasLogin, JaasError> {
        match self.module_short_name() {
            "PlainLoginModule" => {
                let (username, password) = self.username_password("PlainLoginModule")?;
                Ok(JaasLogin::Plain { username, password })
            }
            "ScramLoginModule" => {
                if let Some(value) = self.option("tokenauth") {
                    if !value.eq_ignore_ascii_case("false") {
                        return Err(JaasError::UnsupportedOption {
                            option: "tokenauth".to_owned(),
                            why: "delegation-token authentication is not supported; use a SCRAM user",
                        });
                    }
                }
                let (username, password) = self.username_password("ScramLoginModule")?;
                Ok(JaasLogin::Scram { username, password })
            }
            "OAuthBearerLoginModule" => self.oauthbearer().map(JaasLogin::OAuthBearer),
            _ => Err(JaasError::UnsupportedModule {
                module: self.module.clone(),
            }),
        }
    }

    fn username_password(&self, module: &'static str) -> Result<(String, String), JaasError> {
        let get = |option: &'static str| {
            self.option(option)
                .map(str::to_owned)
                .ok_or(JaasError::MissingOption { module, option })
        };
        Ok((get("username")?, get("password")?))
    }

    fn oauthbearer(&self) -> Result<OAuthBearerLogin, JaasError> {
        let mut login = OAuthBearerLogin::default();
        for (name, value) in self.options() {
            if name == "unsecuredLoginStringClaim_sub" {
                login.unsecured_principal = Some(value.to_owned());
            } else if name == "unsecuredLoginLifetimeSeconds" {
                let seconds: u64 = value.trim().parse().map_err(|_| JaasError::InvalidOption {
                    option: name.to_owned(),
                    expected: "expected a whole number of seconds",
                })?;
                login.unsecured_lifetime_ms =
                    Some(seconds.checked_mul(1000).ok_or(JaasError::InvalidOption {
                        option: name.to_owned(),
                        expected: "too large",
                    })?);
            } else if let Some(key) = name
                .strip_prefix("extension_")
                .or_else(|| name.strip_prefix("unsecuredLoginExtension_"))
            {
                if login
                    .extensions
                    .insert(key.to_owned(), value.to_owned())
                    .is_some()
                {
                    return Err(JaasError::DuplicateOption {
                        option: name.to_owned(),
                    });
                }
            } else {
                let why = if ["clientId", "clientSecret", "scope"].contains(&name) {
                    "the OIDC client-credentials flow is not built in: give a token provider in code, \
                     or sasl_oauthbearer_token"
                } else if name.starts_with("unsecuredLogin") {
                    "of the unsecured-token options only unsecuredLoginStringClaim_sub, \
                     unsecuredLoginLifetimeSeconds and unsecuredLoginExtension_<key> are supported"
                } else {
                    "OAuthBearerLoginModule takes unsecuredLoginStringClaim_sub, unsecuredLoginLifetimeSeconds \
                     and extension_<key> here"
                };
                return Err(JaasError::UnsupportedOption {
                    option: name.to_owned(),
                    why,
                });
            }
        }
        Ok(login)
    }
}

impl fmt::Debug for JaasConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted<'a>(&'a [(String, String)]);
        impl fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(n, _)| (n, format_args!("<redacted>"))))
                    .finish()
            }
        }
        f.debug_struct("JaasConfig")
            .field("module", &self.module)
            .field("flag", &self.flag)
            .field("options", &Redacted(&self.options))
            .finish()
    }
}

/// What a `sasl.jaas.config` entry asks for. `Debug` never shows a password.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JaasLogin {
    /// `PlainLoginModule`: for `sasl_mechanism=PLAIN`.
    Plain {
        /// `username`.
        username: String,
        /// `password` (a secret).
        password: String,
    },
    /// `ScramLoginModule`: for `SCRAM-SHA-256` and `SCRAM-SHA-512`.
    Scram {
        /// `username`.
        username: String,
        /// `password` (a secret).
        password: String,
    },
    /// `OAuthBearerLoginModule`: for `OAUTHBEARER`.
    OAuthBearer(OAuthBearerLogin),
}

impl fmt::Debug for JaasLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JaasLogin::Plain { username, .. } => f
                .debug_struct("Plain")
                .field("username", username)
                .field("password", &format_args!("<redacted>"))
                .finish(),
            JaasLogin::Scram { username, .. } => f
                .debug_struct("Scram")
                .field("username", username)
                .field("password", &format_args!("<redacted>"))
                .finish(),
            JaasLogin::OAuthBearer(login) => f.debug_tuple("OAuthBearer").field(login).finish(),
        }
    }
}

/// The options of `OAuthBearerLoginModule` that this producer understands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthBearerLogin {
    /// `unsecuredLoginStringClaim_sub`: build Kafka's unsecured JWT for this
    /// principal (test clusters only).
    pub unsecured_principal: Option<String>,
    /// `unsecuredLoginLifetimeSeconds`, in milliseconds.
    pub unsecured_lifetime_ms: Option<u64>,
    /// `extension_<key>` / `unsecuredLoginExtension_<key>`: SASL extensions (KIP-342).
    pub extensions: BTreeMap<String, String>,
}

/// Parses one JAAS login module entry (see the module documentation for the
/// grammar). The result is syntax only; [`JaasConfig::login`] interprets it.
///
/// # Errors
///
/// A [`JaasError`] saying what is wrong and, where it helps, at which option;
/// never the value of one.
pub fn parse_jaas(text: &str) -> Result<JaasConfig, JaasError> {
    let mut cursor = Cursor { text, pos: 0 };
    cursor.skip_whitespace();
    if cursor.at_end() {
        return Err(JaasError::Empty);
    }
    let module = cursor.take_while(is_class_char);
    if module.is_empty() || module.starts_with('.') || module.ends_with('.') {
        return Err(JaasError::InvalidModuleName);
    }
    if !cursor.skip_whitespace() && !cursor.at_end() {
        return Err(JaasError::InvalidModuleName);
    }
    let flag_word = cursor.take_while(is_name_char);
    if flag_word.is_empty() {
        return Err(JaasError::MissingControlFlag);
    }
    let flag = [
        ControlFlag::Required,
        ControlFlag::Requisite,
        ControlFlag::Sufficient,
        ControlFlag::Optional,
    ]
    .into_iter()
    .find(|f| f.name().eq_ignore_ascii_case(flag_word));
    let flag = match flag {
        Some(flag) => flag,
        // `Module username="u" ...`: the flag was left out.
        None if cursor.after_whitespace_is('=') => return Err(JaasError::MissingControlFlag),
        None => return Err(JaasError::UnknownControlFlag),
    };
    let mut options: Vec<(String, String)> = Vec::new();
    loop {
        cursor.skip_whitespace();
        match cursor.peek() {
            None => return Err(JaasError::MissingSemicolon),
            Some(';') => {
                cursor.pos += 1;
                cursor.skip_whitespace();
                if !cursor.at_end() {
                    return Err(JaasError::TrailingText);
                }
                return Ok(JaasConfig {
                    module: module.to_owned(),
                    flag,
                    options,
                });
            }
            Some(_) => {}
        }
        let position = cursor.pos;
        let name = cursor.take_while(is_name_char);
        if name.is_empty() {
            return Err(JaasError::InvalidOptionName { position });
        }
        let option = || name.to_owned();
        cursor.skip_whitespace();
        if cursor.peek() != Some('=') {
            return Err(JaasError::MissingEquals { option: option() });
        }
        cursor.pos += 1;
        cursor.skip_whitespace();
        let value = if cursor.peek() == Some('"') {
            cursor.pos += 1;
            cursor
                .quoted()
                .ok_or_else(|| JaasError::UnterminatedQuote { option: option() })?
        } else {
            let value = cursor.take_while(|c| !c.is_whitespace() && c != ';' && c != '"');
            if value.is_empty() {
                return Err(JaasError::MissingValue { option: option() });
            }
            value.to_owned()
        };
        if options.iter().any(|(n, _)| n == name) {
            return Err(JaasError::DuplicateOption { option: option() });
        }
        options.push((name.to_owned(), value));
    }
}

/// Characters of a Java class name (a package path with `.`, nested classes with `$`).
fn is_class_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.')
}

/// Characters of a control flag or an option name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A position in the text. Every delimiter is ASCII, so `pos` always sits on a
/// character boundary.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos == self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips whitespace; whether there was any.
    fn skip_whitespace(&mut self) -> bool {
        !self.take_while(char::is_whitespace).is_empty()
    }

    /// Whether the next character after any whitespace is `c` (without moving).
    fn after_whitespace_is(&self, c: char) -> bool {
        self.rest().trim_start().starts_with(c)
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let end = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        self.pos += end;
        &rest[..end]
    }

    /// Reads a quoted value after its opening quote, through the closing one;
    /// `None` when the quote is never closed.
    fn quoted(&mut self) -> Option<String> {
        let mut value = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.push(chars.next()?.1),
                '"' => {
                    self.pos += i + 1;
                    return Some(value);
                }
                c => value.push(c),
            }
        }
        None
    }
}
