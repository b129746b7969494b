//! FrameDecoder fed a byte stream in chunks. Oracle: the frames it returns,
//! each with its size prefix put back, are exactly the start of the stream;
//! what is left buffered is the rest; `check` agrees with `decode`.
#![no_main]

use bytes::BytesMut;
use kafka_wire::frame::{peek_correlation_id, FrameDecoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [max, chunk, stream @ ..] = data else { return };
    let max_frame_size = usize::from(*max) * 4;
    let chunk_size = 1 + usize::from(*chunk % 64);
    let decoder = FrameDecoder::new(max_frame_size);

    let mut buf = BytesMut::new();
    let mut rebuilt = Vec::new(); // size prefix + body of every frame so far
    let mut fed = 0;
    'feed: for piece in stream.chunks(chunk_size) {
        buf.extend_from_slice(piece);
        fed += piece.len();
        loop {
            let checked = decoder.check(&buf);
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert_eq!(checked, Ok(Some(frame.len())));
                    assert!(frame.len() <= max_frame_size);
                    let _ = peek_correlation_id(&frame);
                    rebuilt.extend_from_slice(&(frame.len() as i32).to_be_bytes());
                    rebuilt.extend_from_slice(&frame);
                }
                Ok(None) => {
                    assert_eq!(checked, Ok(None));
                    break;
                }
                Err(e) => {
                    assert_eq!(checked, Err(e));
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(&rebuilt[..], &stream[..rebuilt.len()]);
    assert_eq!(&buf[..], &stream[rebuilt.len()..fed]);
});
