//! Renders the option tables of `docs/configuration.md` from the option table,
//! and checks (or, with `UPDATE_CONFIG_DOCS=1`, rewrites) the checked-in copy.
//!
//! The generated part sits between two marker comments; everything else in the
//! file is hand-written prose and is left alone.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::parse::{PROPERTIES, UNSUPPORTED_JAVA_PROPERTIES};
use super::{IGNORED_JAVA_PROPERTIES, OPTIONS};

/// The marker line before the generated tables.
const BEGIN: &str = "<!-- BEGIN GENERATED OPTIONS: edit crates/kafka-producer-core/src/config/options.rs, \
                     then run `UPDATE_CONFIG_DOCS=1 cargo test -p kafka-producer-core config_docs` -->";
/// The marker line after them.
const END: &str = "<!-- END GENERATED OPTIONS -->";

/// The command that rewrites the generated section.
const REGENERATE: &str = "UPDATE_CONFIG_DOCS=1 cargo test -p kafka-producer-core config_docs";

/// One table cell from rustdoc text: lines joined, intra-doc link brackets
/// dropped (`` [`X`] `` becomes `` `X` ``), pipes escaped.
fn cell(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.replace("[`", "`").replace("`]", "`").replace('|', "\\|")
}

/// A list of keys as code spans, or an em dash when there are none.
fn keys(keys: &[&str]) -> String {
    if keys.is_empty() {
        return "—".to_owned();
    }
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The generated section, markers excluded.
pub(crate) fn render() -> String {
    let mut out = String::new();
    out.push_str("### Options\n\n");
    out.push_str("| option | Java property | librdkafka | type | default | meaning |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for option in OPTIONS {
        let name = if option.aliases.is_empty() {
            format!("`{}`", option.name)
        } else {
            format!("`{}` (also {})", option.name, keys(option.aliases))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            name,
            keys(option.java),
            keys(option.librdkafka),
            cell(option.value_doc),
            cell(option.default_doc),
            cell(option.doc),
        );
    }
    out.push_str("\n### Properties without a field\n\n");
    out.push_str("| Java property | librdkafka | meaning |\n|---|---|---|\n");
    for property in PROPERTIES {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            keys(property.java.as_slice()),
            keys(property.librdkafka),
            cell(property.doc),
        );
    }
    out.push_str("\n### Java properties that are ignored or rejected\n\n");
    out.push_str(
        "Accepted and **ignored** (they configure the Java client's serializers; this producer takes bytes): ",
    );
    out.push_str(&keys(IGNORED_JAVA_PROPERTIES));
    out.push_str(
        ".\n\n**Rejected** with a reason, because ignoring them would silently change what the \
                  configuration asks for:\n\n",
    );
    for (name, reason) in UNSUPPORTED_JAVA_PROPERTIES {
        let _ = writeln!(out, "- `{name}`: {}.", cell(reason));
    }
    out.push_str(
        "- any other `ssl.*` or `ssl_*` key: an unknown TLS option (the error points here, so a typo in a \
         TLS key is never ignored).\n\nEvery other unknown key is an error (`unknown option`).\n",
    );
    out.push_str("\n### Validation rules\n\n");
    out.push_str("`ProducerConfig::validate()` checks the options in this order and returns the first problem found:\n\n");
    out.push_str("| option | rule |\n|---|---|\n");
    for option in OPTIONS.iter().filter(|o| !o.rule_doc.is_empty()) {
        let _ = writeln!(out, "| `{}` | {} |", option.name, cell(option.rule_doc));
    }
    out
}

/// `docs/configuration.md`, found from this crate's manifest.
fn docs_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md")
}

/// Splits the docs at the markers: (before and including BEGIN, generated, END and after).
fn split(docs: &str) -> Option<(&str, &str, &str)> {
    let begin = docs.find(BEGIN)? + BEGIN.len();
    let end = begin + docs[begin..].find(END)?;
    Some((&docs[..begin], &docs[begin..end], &docs[end..]))
}

#[test]
fn config_docs_table_is_current() {
    let path = docs_path();
    let docs =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let (before, current, after) = split(&docs).unwrap_or_else(|| {
        panic!(
            "{} lacks the marker lines\n{BEGIN}\n{END}\nPut them where the options tables go, then run\n{REGENERATE}",
            path.display()
        )
    });
    let expected = format!("\n{}\n", render());
    if current == expected {
        return;
    }
    if std::env::var_os("UPDATE_CONFIG_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(&path, format!("{before}{expected}{after}"))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("rewrote the options section of {}", path.display());
        return;
    }
    let first_difference = current
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| current.lines().count().min(expected.lines().count()));
    panic!(
        "the options section of {} is out of date (first difference at line {} of the section:\n  \
         docs: {:?}\n  code: {:?}).\nThe tables are generated from crates/kafka-producer-core/src/config/options.rs; \
         regenerate them with\n  {REGENERATE}",
        path.display(),
        first_difference + 1,
        current.lines().nth(first_difference).unwrap_or(""),
        expected.lines().nth(first_difference).unwrap_or(""),
    );
}
