//! `sasl.jaas.config`: `kafka_producer_core::config::parse_jaas`, then
//! `JaasConfig::login` and `ProducerConfig::set`.
//! Oracles: what parses prints back (module, flag, every option quoted with
//! `\"` and `\\` escaped) to text that parses to the same entry; `Debug` of a
//! parsed entry never shows a value (checked with a marker value spliced in);
//! a `set` that fails leaves the configuration unchanged.
#![no_main]

use kafka_producer_core::config::{parse_jaas, JaasConfig, ProducerConfig};
use libfuzzer_sys::fuzz_target;

/// Writes `jaas` back in JAAS syntax, every value quoted.
fn print(jaas: &JaasConfig) -> String {
    let mut text = format!("{} {}", jaas.module(), jaas.flag().name());
    for (name, value) in jaas.options() {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        text.push_str(&format!(" {name}=\"{escaped}\""));
    }
    text.push(';');
    text
}

const MARKER: &str = "fuzz-secret-marker";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(jaas) = parse_jaas(text) {
        let printed = print(&jaas);
        let again = parse_jaas(&printed).expect("a printed entry parses");
        assert_eq!(again, jaas, "{printed:?}");
        let _ = jaas.login();

        // The same entry with one more option whose value is the marker.
        let mut with_marker = printed.clone();
        with_marker.pop();
        with_marker.push_str(&format!(" fuzzMarkerOption=\"{MARKER}\";"));
        if let Ok(marked) = parse_jaas(&with_marker) {
            let shown = format!("{marked:?}");
            assert!(!shown.contains(MARKER), "{shown}");
        }
    }
    let mut config = ProducerConfig::default();
    if let Err(error) = config.set("sasl.jaas.config", text) {
        assert_eq!(config, ProducerConfig::default(), "{error}");
    }
});
