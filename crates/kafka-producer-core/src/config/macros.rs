//! The `producer_options!` macro: one declaration per option, everything else
//! generated.
//!
//! An option is declared once, in `options.rs`, as
//!
//! ```text
//! /// What it means (becomes the field's rustdoc and the docs table's "meaning").
//! linger_ms: u64 {
//!     aliases: [],                          // optional: more snake_case names (aiokafka's, librdkafka's in snake case)
//!     java: ["linger.ms"],                  // Kafka's Java property names
//!     librdkafka: ["queue.buffering.max.ms"],
//!     value: "ms",                          // the docs table's "type" column
//!     default: 0 => "`0`",                  // the value, and how the docs show it
//!     lists: false,                         // serde may give a list (joined by commas)
//!     redact: false,                        // a secret: `Debug` never prints it
//!     rule: "0 to 31536000000 (one year).", // the docs' validation rule
//!     check: |c| within_ms(c.linger_ms, 0), // the rule itself, for `validate`
//! }
//! ```
//!
//! and the macro turns the list into:
//!
//! * the `ProducerConfig` struct, each field with its rustdoc plus a line naming
//!   every spelling and the default;
//! * `Default` and `Debug` (with secrets redacted);
//! * `OPTIONS`, a table of [`OptionSpec`](super::OptionSpec) that the string and
//!   serde readers, `validate` and the docs generator all walk.
//!
//! Parsing comes from the field's type ([`OptionValue`](super::value::OptionValue)),
//! so the macro never needs to know what a `u64` or an `Acks` looks like.

/// Declares the producer's options; see the module documentation.
macro_rules! producer_options {
    (
        $(#[doc = $struct_doc:literal])*
        pub struct ProducerConfig;
        $(
            $(#[doc = $doc:literal])*
            $field:ident: $ty:ty {
                $(aliases: [$($alias:literal),* $(,)?],)?
                java: [$($java:literal),* $(,)?],
                librdkafka: [$($rdk:literal),* $(,)?],
                value: $value_doc:literal,
                default: $default:expr => $default_doc:literal,
                lists: $lists:literal,
                redact: $redact:literal,
                rule: $rule_doc:literal,
                check: $check:expr $(,)?
            }
        )*
    ) => {
        $(#[doc = $struct_doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct ProducerConfig {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!(
                    "Keys: `", stringify!($field), "`",
                    $($(", `", $alias, "`",)*)?
                    $(", `", $java, "`",)*
                    $(", `", $rdk, "` (librdkafka)",)*
                    ". Default: ", $default_doc, "."
                )]
                pub $field: $ty,
            )*
        }

        impl Default for ProducerConfig {
            /// aiokafka's defaults (see each field).
            fn default() -> Self {
                ProducerConfig {
                    $($field: $default,)*
                }
            }
        }

        impl std::fmt::Debug for ProducerConfig {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("ProducerConfig")
                    $(.field(stringify!($field), &$crate::config::value::Shown {
                        value: &self.$field,
                        redact: $redact,
                    }))*
                    .finish()
            }
        }

        /// Every option, in declaration order (which is also the order in which
        /// `validate` checks them and the docs list them).
        pub(crate) static OPTIONS: &[$crate::config::OptionSpec] = &[
            $($crate::config::OptionSpec {
                name: stringify!($field),
                aliases: &[$($($alias),*)?],
                java: &[$($java),*],
                librdkafka: &[$($rdk),*],
                value_doc: $value_doc,
                default_doc: $default_doc,
                doc: concat!($($doc, "\n"),*),
                rule_doc: $rule_doc,
                lists: $lists,
                redact: $redact,
                set: |config, key, text| {
                    config.$field =
                        <$ty as $crate::config::value::OptionValue>::parse(key, text)?;
                    Ok(())
                },
                reset: |config| config.$field = $default,
                check: $check,
            },)*
        ];
    };
}
