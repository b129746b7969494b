//! SCRAM server-first parser (`sasl::scram::parse_server_first`): byte 0 is
//! the length of the client nonce taken from the following bytes, the rest
//! is the server's message.
#![no_main]

use kafka_producer_core::sasl::scram::{parse_server_first, MAX_SCRAM_ITERATIONS, MIN_SCRAM_ITERATIONS};
use kafka_wire_fuzz as _; // the allocation guard
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n).min(rest.len());
    let (nonce, message) = rest.split_at(n);
    let client_nonce = String::from_utf8_lossy(nonce);
    if let Ok(first) = parse_server_first(message, &client_nonce) {
        // What the parser promises the SCRAM client.
        assert!(first.nonce.starts_with(&*client_nonce));
        assert!(first.nonce.len() > client_nonce.len());
        assert!(!first.nonce.contains(','));
        assert!(!first.salt.is_empty());
        assert!((MIN_SCRAM_ITERATIONS..=MAX_SCRAM_ITERATIONS).contains(&first.iterations));
    }
});
