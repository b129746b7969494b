//! snappy: raw snappy blocks in snappy-java's ("xerial") stream framing.
//!
//! Kafka's Java client compresses with snappy-java's `SnappyOutputStream`,
//! which writes
//!
//! ```text
//! header: 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00   magic, 8 bytes
//!         version: i32 BE = 1
//!         compatible version: i32 BE = 1
//! then, per block of at most 32 KiB of input:
//!         length: i32 BE, then that many bytes of one raw snappy block
//! ```
//!
//! with no end marker. This is *not* the official snappy framing format
//! (`snap::read::FrameDecoder`), which Kafka does not use.
//!
//! Reading accepts that framing (also several framed streams one after the
//! other, as snappy-java does) and, when the input does not start with the
//! magic, one raw snappy block: librdkafka may write that, and snappy-java's
//! `SnappyInputStream` falls back to it the same way. The version fields are
//! not checked; the block format has never changed.

use super::{Compression, CompressionError};

/// The xerial magic: the first 8 bytes of a framed stream.
pub(super) const MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// The full 16-byte stream header: magic, version 1, compatible version 1.
pub(super) const HEADER: [u8; 16] = [
    0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
];
/// snappy-java's `SnappyOutputStream` default block size: input per block.
pub(super) const BLOCK_SIZE: usize = 32 * 1024;

/// No valid raw snappy block expands more than this: the best element, a
/// copy with a 2-byte offset, turns 3 bytes into 64. A block whose header
/// claims more is rejected before anything is allocated for it.
const MAX_EXPANSION: usize = 32;

const CODEC: Compression = Compression::Snappy;

/// Appends `input` to `out` in xerial framing: the header, then one
/// length-prefixed raw block per 32 KiB of input (none for empty input).
pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    out.reserve(HEADER.len() + snap::raw::max_compress_len(input.len().min(BLOCK_SIZE)) + 4);
    out.extend_from_slice(&HEADER);
    let mut encoder = snap::raw::Encoder::new();
    for chunk in input.chunks(BLOCK_SIZE) {
        let length_at = out.len();
        let data_at = length_at + 4;
        out.resize(data_at + snap::raw::max_compress_len(chunk.len()), 0);
        let written = encoder
            .compress(chunk, &mut out[data_at..])
            .map_err(|e| CompressionError::codec(CODEC, e))?;
        out.truncate(data_at + written);
        let length = i32::try_from(written)
            .map_err(|_| CompressionError::codec(CODEC, "compressed block too large"))?;
        out[length_at..data_at].copy_from_slice(&length.to_be_bytes());
    }
    Ok(())
}

/// Appends the content of a xerial-framed stream, or of one raw snappy block,
/// to `out`, at most `max_output` bytes.
pub(super) fn decompress(input: &[u8], max_output: usize, out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let mut decoder = snap::raw::Decoder::new();
    if !input.starts_with(&MAGIC) {
        return decompress_block(&mut decoder, input, max_output, out);
    }
    let start = out.len();
    let mut rest = input;
    while !rest.is_empty() {
        if rest.starts_with(&MAGIC) {
            // A stream header: at the start, or that of a concatenated stream.
            // (A block length never starts with 0x82: it would be negative.)
            rest = rest
                .get(HEADER.len()..)
                .ok_or_else(|| CompressionError::corrupt(CODEC, "truncated snappy-java header"))?;
            continue;
        }
        let (length, tail) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| CompressionError::corrupt(CODEC, "truncated block length"))?;
        let length = usize::try_from(i32::from_be_bytes(*length))
            .map_err(|_| CompressionError::corrupt(CODEC, "negative block length"))?;
        if length > tail.len() {
            return Err(CompressionError::corrupt(
                CODEC,
                format!("block of {length} bytes but only {} bytes left", tail.len()),
            ));
        }
        let (block, tail) = tail.split_at(length);
        let budget = max_output - (out.len() - start);
        decompress_block(&mut decoder, block, budget, out)?;
        rest = tail;
    }
    Ok(())
}

/// Appends the content of one raw snappy block to `out`, if it holds at most
/// `budget` bytes. Nothing is allocated before the block's claimed length has
/// been checked against the budget and against what its size can hold.
fn decompress_block(
    decoder: &mut snap::raw::Decoder,
    block: &[u8],
    budget: usize,
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    let length = snap::raw::decompress_len(block).map_err(|e| CompressionError::corrupt(CODEC, e))?;
    if length > block.len().saturating_mul(MAX_EXPANSION) {
        return Err(CompressionError::corrupt(
            CODEC,
            format!("a {}-byte block cannot hold {length} bytes", block.len()),
        ));
    }
    if length > budget {
        return Err(CompressionError::OutputTooLarge {
            codec: CODEC,
            limit: budget,
        });
    }
    let at = out.len();
    out.resize(at + length, 0);
    let written = decoder
        .decompress(block, &mut out[at..])
        .map_err(|e| CompressionError::corrupt(CODEC, e))?;
    if written != length {
        return Err(CompressionError::corrupt(CODEC, "block length mismatch"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{compressible, random};
    use super::super::{compress as compress_any, decompress as decompress_any};
    use super::*;

    fn framed(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compress(data, &mut out).unwrap();
        out
    }

    fn unframe(input: &[u8], max: usize) -> Result<Vec<u8>, CompressionError> {
        let mut out = Vec::new();
        decompress_any(Compression::Snappy, input, max, &mut out).map(|()| out)
    }

    /// The block lengths of a framed stream (after one header).
    fn block_lengths(stream: &[u8]) -> Vec<usize> {
        let mut lengths = Vec::new();
        let mut at = HEADER.len();
        while at < stream.len() {
            let length = i32::from_be_bytes(stream[at..at + 4].try_into().unwrap()) as usize;
            lengths.push(length);
            at += 4 + length;
        }
        assert_eq!(at, stream.len());
        lengths
    }

    #[test]
    fn snappy_xerial_header_known_answer() {
        assert_eq!(
            framed(b""),
            [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]
        );
        // "hello" is short enough to be one literal: varint length 5, then
        // the literal tag (5 - 1) << 2 and the bytes.
        let mut expected = HEADER.to_vec();
        expected.extend_from_slice(&[0, 0, 0, 7, 0x05, 0x10]);
        expected.extend_from_slice(b"hello");
        assert_eq!(framed(b"hello"), expected);
        assert_eq!(unframe(&expected, 5).unwrap(), b"hello");
    }

    #[test]
    fn snappy_splits_into_32k_blocks() {
        let data = compressible(100 * 1024);
        let stream = framed(&data);
        assert_eq!(block_lengths(&stream).len(), 4); // 32 + 32 + 32 + 4 KiB
        assert_eq!(unframe(&stream, data.len()).unwrap(), data);

        let data = random(BLOCK_SIZE * 2, 1);
        let stream = framed(&data);
        let lengths = block_lengths(&stream);
        assert_eq!(lengths.len(), 2);
        assert!(lengths
            .iter()
            .all(|&l| l >= BLOCK_SIZE && l <= snap::raw::max_compress_len(BLOCK_SIZE)));
        assert_eq!(unframe(&stream, data.len()).unwrap(), data);
        // The limit counts across blocks: the first block fits, the second not.
        assert!(matches!(
            unframe(&stream, BLOCK_SIZE + 10),
            Err(CompressionError::OutputTooLarge { .. })
        ));
    }

    #[test]
    fn snappy_reads_raw_blocks() {
        for data in [
            b"x".to_vec(),
            b"".to_vec(),
            compressible(100_000),
            random(50_000, 2),
        ] {
            let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
            assert!(!raw.starts_with(&MAGIC));
            assert_eq!(unframe(&raw, data.len()).unwrap(), data);
            if !data.is_empty() {
                assert!(matches!(
                    unframe(&raw, data.len() - 1),
                    Err(CompressionError::OutputTooLarge { .. })
                ));
            }
            for cut in 0..raw.len().min(2000) {
                assert!(
                    unframe(&raw[..cut], data.len()).is_err(),
                    "raw prefix {cut} accepted"
                );
            }
        }
    }

    #[test]
    fn snappy_reads_concatenated_streams() {
        let mut both = framed(b"first stream ");
        both.extend(framed(&compressible(40_000)));
        both.extend(framed(b""));
        let out = unframe(&both, 100_000).unwrap();
        assert_eq!(&out[..13], b"first stream ");
        assert_eq!(out[13..], compressible(40_000));
    }

    #[test]
    fn snappy_rejects_truncated_and_bad_framing() {
        let data = compressible(70_000);
        let stream = framed(&data);
        // Cut inside the first block, inside a length, and inside the last block.
        for cut in [HEADER.len() + 2, HEADER.len() + 4 + 100, stream.len() - 1] {
            assert!(matches!(
                unframe(&stream[..cut], data.len()),
                Err(CompressionError::Corrupt { .. })
            ));
        }
        // A cut inside a header.
        assert!(unframe(&stream[..12], data.len()).is_err());
        let mut concatenated = stream.clone();
        concatenated.extend_from_slice(&HEADER[..10]);
        assert!(unframe(&concatenated, data.len()).is_err());

        // Lengths: negative, past the end, and zero (an empty raw block is invalid).
        for length in [-1i32, i32::MIN, 1 << 30, 0] {
            let mut bad = HEADER.to_vec();
            bad.extend_from_slice(&length.to_be_bytes());
            bad.extend_from_slice(&[0x05, 0x10, b'h', b'e', b'l', b'l', b'o']);
            assert!(unframe(&bad, 1000).is_err(), "length {length} accepted");
        }
        // A block whose content is garbage.
        let mut bad = HEADER.to_vec();
        bad.extend_from_slice(&[0, 0, 0, 3, 0x05, 0xff, 0xff]);
        assert!(unframe(&bad, 1000).is_err());
    }

    #[test]
    fn snappy_rejects_impossible_lengths_before_allocating() {
        // A 5-byte raw block claiming 2^32 - 1 bytes.
        let bomb = [0xff, 0xff, 0xff, 0xff, 0x0f];
        assert!(matches!(
            unframe(&bomb, usize::MAX),
            Err(CompressionError::Corrupt { .. })
        ));
        // A framed block that claims 1 MiB in 6 bytes.
        let mut bad = HEADER.to_vec();
        bad.extend_from_slice(&[0, 0, 0, 6, 0x80, 0x80, 0x40, 0x00, 0x00, 0x00]);
        assert!(matches!(
            unframe(&bad, usize::MAX),
            Err(CompressionError::Corrupt { .. })
        ));
    }

    #[test]
    fn snappy_max_expansion_holds_for_zeros() {
        // The densest data there is still stays within MAX_EXPANSION.
        for len in [1, 100, 4096, BLOCK_SIZE, 1 << 20] {
            let raw = snap::raw::Encoder::new().compress_vec(&vec![0; len]).unwrap();
            assert!(len <= raw.len() * MAX_EXPANSION, "{len} -> {}", raw.len());
            assert_eq!(unframe(&raw, len).unwrap().len(), len);
        }
    }

    #[test]
    fn snappy_framed_empty_stream_is_header_only() {
        let mut out = Vec::new();
        compress_any(Compression::Snappy, b"", &mut out).unwrap();
        assert_eq!(out, HEADER);
        assert_eq!(unframe(&out, 0).unwrap(), b"");
    }
}
