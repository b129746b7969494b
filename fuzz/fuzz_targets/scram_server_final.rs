//! SCRAM server-final parser and ServerSignature check: the input is the
//! server-final message, handed both to `sasl::scram::parse_server_final`
//! and to a client that has completed the first round trip (set up once).
#![no_main]

use std::sync::OnceLock;

use kafka_producer_core::error::ScramFailure;
use kafka_producer_core::sasl::scram::{parse_server_final, ScramClientFinal, ScramClientFirst};
use kafka_producer_core::sasl::{ScramMechanism, Secret};
use kafka_wire_fuzz as _; // the allocation guard
use libfuzzer_sys::fuzz_target;

fn client() -> &'static ScramClientFinal {
    static CLIENT: OnceLock<ScramClientFinal> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let first = ScramClientFirst::new(
            ScramMechanism::Sha256,
            "user",
            &Secret::new("pencil"),
            &[0x5a; 18],
        )
        .expect("valid credentials");
        let server_first = format!("r={}srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", first.client_nonce());
        first
            .handle_server_first(server_first.as_bytes())
            .expect("valid server-first")
    })
}

fuzz_target!(|data: &[u8]| {
    let parsed = parse_server_final(data);
    if let Ok(signature) = &parsed {
        assert!(data.starts_with(b"v="));
        assert!(!signature.is_empty());
    }
    let verified = client().clone().handle_server_final(data);
    match (&parsed, &verified) {
        // Only a parsed signature can verify; a parse error is the verdict.
        (Err(e), Err(v)) => assert_eq!(e, v),
        (Ok(_), Ok(())) | (Ok(_), Err(ScramFailure::WrongServerSignature)) => {}
        other => panic!("parser and verifier disagree: {other:?}"),
    }
});
