use super::*;
use crate::sasl::tests::TestServer;

const RFC7677_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
const RFC7677_SERVER_FIRST: &str =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const RFC7677_CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
     p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const RFC7677_SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

fn rfc7677_client() -> ScramClientFirst {
    ScramClientFirst::with_nonce(
        ScramMechanism::Sha256,
        "user",
        &Secret::new("pencil"),
        RFC7677_NONCE.to_owned(),
    )
    .unwrap()
}

#[test]
fn rfc7677_sha256_test_vector() {
    let client = rfc7677_client();
    assert_eq!(client.message(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    let last = client
        .handle_server_first(RFC7677_SERVER_FIRST.as_bytes())
        .unwrap();
    assert_eq!(std::str::from_utf8(last.message()).unwrap(), RFC7677_CLIENT_FINAL);
    last.clone()
        .handle_server_final(RFC7677_SERVER_FINAL.as_bytes())
        .unwrap();
    // Extensions after the verifier are ignored.
    last.handle_server_final(format!("{RFC7677_SERVER_FINAL},x=y").as_bytes())
        .unwrap();
}

#[test]
fn a_wrong_missing_or_malformed_server_signature_fails() {
    let last = rfc7677_client()
        .handle_server_first(RFC7677_SERVER_FIRST.as_bytes())
        .unwrap();
    // One bit flipped in the last byte of the signature.
    let wrong = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G8=";
    assert_eq!(
        last.clone().handle_server_final(wrong.as_bytes()),
        Err(ScramFailure::WrongServerSignature)
    );
    // A truncated signature: same prefix, shorter.
    assert_eq!(
        last.clone()
            .handle_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5n"),
        Err(ScramFailure::WrongServerSignature)
    );
    for missing in [&b""[..], b"v=", b"x=abc", b"p=6rri", b",v=6rriTRBi"] {
        assert_eq!(
            last.clone().handle_server_final(missing),
            Err(ScramFailure::MissingServerSignature),
            "{missing:?}"
        );
    }
    assert_eq!(
        last.clone().handle_server_final(b"v=not base64!"),
        Err(ScramFailure::BadBase64 { field: "v" })
    );
    assert_eq!(
        last.handle_server_final(b"e=invalid-proof"),
        Err(ScramFailure::ServerError {
            message: "invalid-proof".into()
        })
    );
}

#[test]
fn server_error_text_is_bounded() {
    let long = format!("e={}", "x".repeat(100_000));
    match parse_server_final(long.as_bytes()) {
        Err(ScramFailure::ServerError { message }) => {
            assert_eq!(message.chars().count(), MAX_SERVER_TEXT + 1)
        }
        other => panic!("{other:?}"),
    }
}

fn first_err(server_first: &str) -> ScramFailure {
    parse_server_first(server_first.as_bytes(), RFC7677_NONCE).unwrap_err()
}

const GOOD_SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";

#[test]
fn server_first_nonce_must_extend_the_client_nonce() {
    assert_eq!(
        first_err(&format!("r=XXXX{RFC7677_NONCE},s={GOOD_SALT},i=4096")),
        ScramFailure::NonceNotExtended
    );
    assert_eq!(
        first_err(&format!("r={RFC7677_NONCE},s={GOOD_SALT},i=4096")),
        ScramFailure::NonceNotExtended,
        "equal to the client nonce is not an extension"
    );
    assert_eq!(
        first_err(&format!("r=rOprNG,s={GOOD_SALT},i=4096")),
        ScramFailure::NonceNotExtended
    );
    assert!(matches!(
        first_err(&format!("r={RFC7677_NONCE}ab\x7f,s={GOOD_SALT},i=4096")),
        ScramFailure::Malformed { .. }
    ));
}

#[test]
fn server_first_iterations_are_bounded() {
    let at = |i: &str| {
        parse_server_first(
            format!("r={RFC7677_NONCE}x,s={GOOD_SALT},i={i}").as_bytes(),
            RFC7677_NONCE,
        )
    };
    assert_eq!(
        at("1").unwrap_err(),
        ScramFailure::IterationsTooLow { got: 1, min: 4096 }
    );
    assert_eq!(
        at("4095").unwrap_err(),
        ScramFailure::IterationsTooLow { got: 4095, min: 4096 }
    );
    assert_eq!(at("4096").unwrap().iterations, 4096);
    assert_eq!(at("1000000").unwrap().iterations, MAX_SCRAM_ITERATIONS);
    assert_eq!(
        at("1000000000").unwrap_err(),
        ScramFailure::IterationsTooHigh {
            got: 1_000_000_000,
            max: MAX_SCRAM_ITERATIONS
        }
    );
    assert_eq!(
        at("99999999999999999999999999").unwrap_err(),
        ScramFailure::IterationsTooHigh {
            got: u64::MAX,
            max: MAX_SCRAM_ITERATIONS
        }
    );
    for bad in ["", "-4096", "+4096", "4096x", "0x1000", " 4096"] {
        assert!(
            matches!(at(bad).unwrap_err(), ScramFailure::Malformed { .. }),
            "{bad:?}"
        );
    }
}

#[test]
fn server_first_salt_must_be_non_empty_base64() {
    let with = |s: &str| first_err(&format!("r={RFC7677_NONCE}x,s={s},i=4096"));
    assert_eq!(with(""), ScramFailure::EmptySalt);
    assert_eq!(with("W22Z*J0S"), ScramFailure::BadBase64 { field: "s" });
    assert_eq!(
        with("W22ZaJ0SNY7soEsUEjb6gQ"),
        ScramFailure::BadBase64 { field: "s" }
    );
}

#[test]
fn server_first_attributes_are_required_in_order() {
    let n = RFC7677_NONCE;
    assert_eq!(first_err(""), ScramFailure::MissingAttribute { name: 'r' });
    assert_eq!(
        first_err(&format!("s={GOOD_SALT},r={n}x,i=4096")),
        ScramFailure::MissingAttribute { name: 'r' }
    );
    assert_eq!(
        first_err(&format!("r={n}x,i=4096")),
        ScramFailure::MissingAttribute { name: 's' }
    );
    assert_eq!(
        first_err(&format!("r={n}x,s={GOOD_SALT}")),
        ScramFailure::MissingAttribute { name: 'i' }
    );
    assert_eq!(
        first_err(&format!("m=ext,r={n}x,s={GOOD_SALT},i=4096")),
        ScramFailure::UnexpectedExtension
    );
    assert_eq!(
        first_err("e=unknown-user"),
        ScramFailure::ServerError {
            message: "unknown-user".into()
        }
    );
    assert!(matches!(
        first_err(&format!("r={n}x,s={GOOD_SALT},i=4096,,")),
        ScramFailure::Malformed { .. }
    ));
    assert!(matches!(
        parse_server_first(&[b'r', b'=', 0xff], n).unwrap_err(),
        ScramFailure::Malformed { .. }
    ));
    // A well-formed extension after `i` is ignored.
    let ok = parse_server_first(format!("r={n}x,s={GOOD_SALT},i=4096,x=1").as_bytes(), n).unwrap();
    assert_eq!(ok.nonce, format!("{n}x"));
}

#[test]
fn usernames_are_escaped_and_saslprepped() {
    let first = |user: &str| {
        ScramClientFirst::with_nonce(ScramMechanism::Sha512, user, &Secret::new("p"), "N".into())
            .map(|c| String::from_utf8(c.message()).unwrap())
    };
    assert_eq!(first("a=b,c").unwrap(), "n,,n=a=3Db=2Cc,r=N");
    assert_eq!(first("==").unwrap(), "n,,n==3D=3D,r=N");
    // SASLprep maps a non-ASCII space to a space and removes a soft hyphen.
    assert_eq!(first("a\u{00A0}b\u{00AD}").unwrap(), "n,,n=a b,r=N");
    assert_eq!(
        first("bad\u{0007}").unwrap_err(),
        CredentialProblem::SaslPrep { field: "username" }
    );
    assert_eq!(
        first("").unwrap_err(),
        CredentialProblem::Empty { field: "username" }
    );
    assert_eq!(
        first("\u{00AD}").unwrap_err(),
        CredentialProblem::Empty { field: "username" }
    );
    let pw = |p: &str| {
        ScramClientFirst::with_nonce(ScramMechanism::Sha512, "u", &Secret::new(p), "N".into()).map(|_| ())
    };
    assert_eq!(
        pw("\u{0000}x"),
        Err(CredentialProblem::SaslPrep { field: "password" })
    );
    assert_eq!(pw(""), Err(CredentialProblem::Empty { field: "password" }));
    assert_eq!(pw("pencil"), Ok(()));
}

#[test]
fn the_nonce_is_the_base64_of_the_callers_random_bytes() {
    let short = ScramClientFirst::new(ScramMechanism::Sha256, "u", &Secret::new("p"), &[7; 17]);
    assert_eq!(
        short.unwrap_err(),
        CredentialProblem::NonceTooShort { got: 17, min: 18 }
    );
    let random: Vec<u8> = (0u8..18).map(|b| b.wrapping_mul(97).wrapping_add(0xf3)).collect();
    let c = ScramClientFirst::new(ScramMechanism::Sha256, "u", &Secret::new("p"), &random).unwrap();
    assert_eq!(c.client_nonce(), BASE64.encode(&random));
    assert_eq!(c.client_nonce().len(), 24);
    assert!(c
        .client_nonce()
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b','));
}

#[test]
fn sha512_round_trip_against_a_server() {
    let server = TestServer::new(ScramMechanism::Sha512, "alice-secret", b"0123456789abcdef", 4096);
    let client = ScramClientFirst::new(
        ScramMechanism::Sha512,
        "alice",
        &Secret::new("alice-secret"),
        &[0x5a; 24],
    )
    .unwrap();
    let (bare, first) = server.server_first(&client.message(), "srv-nonce");
    let last = client.handle_server_first(first.as_bytes()).unwrap();
    let fin = server
        .server_final(&bare, &first, last.message())
        .expect("proof accepted");
    assert_eq!(fin.len(), 2 + 88, "64-byte signature in base64");
    last.handle_server_final(fin.as_bytes()).unwrap();
}

#[test]
fn a_wrong_password_fails_the_servers_check_and_a_fake_server_fails_ours() {
    let server = TestServer::new(ScramMechanism::Sha512, "right", b"salt", 4096);
    let client = ScramClientFirst::new(ScramMechanism::Sha512, "u", &Secret::new("wrong"), &[1; 18]).unwrap();
    let (bare, first) = server.server_first(&client.message(), "s");
    let last = client.handle_server_first(first.as_bytes()).unwrap();
    assert!(server.server_final(&bare, &first, last.message()).is_none());

    // A server that does not know the password (a different one) cannot
    // produce the signature the client expects.
    let impostor = TestServer::new(ScramMechanism::Sha512, "wrong", b"salt", 4096);
    let fake = impostor.server_final(&bare, &first, last.message()).unwrap();
    let honest_client = ScramClientFirst::with_nonce(
        ScramMechanism::Sha512,
        "u",
        &Secret::new("right"),
        last_nonce(&bare),
    )
    .unwrap();
    let last = honest_client.handle_server_first(first.as_bytes()).unwrap();
    assert_eq!(
        last.handle_server_final(fake.as_bytes()),
        Err(ScramFailure::WrongServerSignature)
    );
}

fn last_nonce(bare: &str) -> String {
    bare.split(",r=").nth(1).unwrap().to_owned()
}

#[test]
fn mechanism_names() {
    assert_eq!(
        ScramMechanism::from_name("scram-sha-512"),
        Some(ScramMechanism::Sha512)
    );
    assert_eq!(
        ScramMechanism::from_name("SCRAM-SHA-256"),
        Some(ScramMechanism::Sha256)
    );
    assert_eq!(ScramMechanism::from_name("SCRAM-SHA-1"), None);
    assert_eq!(ScramMechanism::Sha512.name(), "SCRAM-SHA-512");
}

#[test]
fn debug_shows_no_password_proof_or_signature() {
    let client = rfc7677_client();
    let shown = format!("{client:?}");
    assert!(!shown.contains("pencil"), "{shown}");
    let last = client
        .handle_server_first(RFC7677_SERVER_FIRST.as_bytes())
        .unwrap();
    let shown = format!("{last:?}");
    assert!(!shown.contains("dHzbZapW") && !shown.contains("p="), "{shown}");
    assert!(shown.contains("Sha256"), "{shown}");
}

#[test]
fn the_password_is_saslprepped_before_hashing() {
    // SASLprep maps U+00A0 (no-break space) to a space and drops U+00AD
    // (soft hyphen), so both passwords give the same proof.
    let proof = |password: &str| {
        let client = ScramClientFirst::with_nonce(
            ScramMechanism::Sha256,
            "user",
            &Secret::new(password),
            RFC7677_NONCE.to_owned(),
        )
        .unwrap();
        let last = client
            .handle_server_first(RFC7677_SERVER_FIRST.as_bytes())
            .unwrap();
        last.message().to_vec()
    };
    assert_eq!(proof("pen\u{00A0}c\u{00AD}il"), proof("pen cil"));
    assert_ne!(proof("pen cil"), proof("pencil"));
}
