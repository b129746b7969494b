//! lz4: the standard LZ4 frame format (magic `0x184D2204`).
//!
//! Kafka's Java client (`Lz4BlockOutputStream`, formerly
//! `KafkaLZ4BlockOutputStream`) writes one frame with FLG = `0x60` (version 1,
//! independent blocks, no block checksums, no content size, no content
//! checksum) and BD = `0x40` (64 KiB blocks). For record batch v2 the header
//! checksum is the correct one (only magic v0 message sets used a broken one).
//! [`compress`] writes exactly that frame layout with lz4_flex's encoder.
//!
//! Reading is done here, frame by frame, with lz4_flex's block decoder,
//! because lz4_flex's `FrameDecoder` (0.11) takes a stream cut at a block
//! boundary, a frame without end mark, a block that decodes to nothing, and
//! trailing bytes as a clean end of data. This reader accepts any valid
//! frame (linked blocks, block and content checksums, content size, several
//! frames, skippable frames) and rejects everything else.

use std::hash::Hasher as _;
use std::io::Write;
use std::ops::RangeInclusive;

use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};
use twox_hash::XxHash32;

use super::{Compression, CompressionError};

/// Kafka's default `compression.lz4.level`. Accepted but without effect.
pub(super) const DEFAULT_LEVEL: i32 = 9;
/// Kafka's `compression.lz4.level` range (lz4-java's high-compression levels).
pub(super) const LEVELS: RangeInclusive<i32> = 1..=17;

const CODEC: Compression = Compression::Lz4;
const MAGIC: u32 = 0x184D_2204;
const SKIPPABLE_MAGIC: RangeInclusive<u32> = 0x184D_2A50..=0x184D_2A5F;
const LEGACY_MAGIC: u32 = 0x184C_2102;

const FLG_VERSION_MASK: u8 = 0b1100_0000;
const FLG_VERSION_1: u8 = 0b0100_0000;
const FLG_INDEPENDENT_BLOCKS: u8 = 0b0010_0000;
const FLG_BLOCK_CHECKSUMS: u8 = 0b0001_0000;
const FLG_CONTENT_SIZE: u8 = 0b0000_1000;
const FLG_CONTENT_CHECKSUM: u8 = 0b0000_0100;
const FLG_RESERVED: u8 = 0b0000_0010;
const FLG_DICTIONARY_ID: u8 = 0b0000_0001;
const BD_RESERVED: u8 = 0b1000_1111;
const BLOCK_UNCOMPRESSED: u32 = 0x8000_0000;
/// How far back a match in a linked block may reach.
const WINDOW: usize = 64 * 1024;

/// Appends one LZ4 frame holding `input` to `out`, laid out as Kafka's Java
/// client writes it: independent 64 KiB blocks, no checksums, no content size.
pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let info = FrameInfo::new()
        .block_size(BlockSize::Max64KB)
        .block_mode(BlockMode::Independent)
        .block_checksums(false)
        .content_checksum(false)
        .content_size(None);
    let mut encoder = FrameEncoder::with_frame_info(info, out);
    encoder
        .write_all(input)
        .map_err(|e| CompressionError::codec(CODEC, e))?;
    encoder.finish().map_err(|e| CompressionError::codec(CODEC, e))?;
    Ok(())
}

/// Appends the content of the LZ4 frame(s) in `input` to `out`, at most
/// `max_output` bytes.
pub(super) fn decompress(input: &[u8], max_output: usize, out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let mut input = Input(input);
    let mut decoder = FrameDecoder {
        start: out.len(),
        max_output,
        scratch: Vec::new(),
    };
    let mut frames = 0usize;
    while !input.0.is_empty() {
        match input.u32_le("frame magic")? {
            MAGIC => {
                decoder.frame(&mut input, out)?;
                frames += 1;
            }
            magic if SKIPPABLE_MAGIC.contains(&magic) => {
                let length = input.u32_le("skippable frame length")?;
                input.bytes(usize::try_from(length).unwrap_or(usize::MAX), "skippable frame")?;
            }
            LEGACY_MAGIC => return Err(corrupt("legacy LZ4 frames are not supported")),
            magic => return Err(corrupt(format!("bad LZ4 frame magic {magic:#010x}"))),
        }
    }
    if frames == 0 {
        return Err(corrupt("no LZ4 frame"));
    }
    Ok(())
}

fn corrupt(reason: impl std::fmt::Display) -> CompressionError {
    CompressionError::corrupt(CODEC, reason)
}

/// The unread part of the input.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], CompressionError> {
        if n > self.0.len() {
            return Err(corrupt(format!(
                "truncated: {what} needs {n} bytes, {} left",
                self.0.len()
            )));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], CompressionError> {
        let mut array = [0; N];
        array.copy_from_slice(self.bytes(N, what)?);
        Ok(array)
    }

    fn u8(&mut self, what: &str) -> Result<u8, CompressionError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32_le(&mut self, what: &str) -> Result<u32, CompressionError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
}

struct FrameDecoder {
    /// Length of the output before the first frame: the limit counts from here.
    start: usize,
    max_output: usize,
    /// Decoded block, before it is checked against the limit.
    scratch: Vec<u8>,
}

impl FrameDecoder {
    /// Decodes one frame, its magic already read, appending to `out`.
    fn frame(&mut self, input: &mut Input<'_>, out: &mut Vec<u8>) -> Result<(), CompressionError> {
        let descriptor_start = input.0;
        let flg = input.u8("frame descriptor")?;
        let bd = input.u8("frame descriptor")?;
        if flg & FLG_VERSION_MASK != FLG_VERSION_1 {
            return Err(corrupt(format!(
                "unsupported LZ4 frame version in FLG {flg:#04x}"
            )));
        }
        if flg & FLG_RESERVED != 0 || bd & BD_RESERVED != 0 {
            return Err(corrupt("reserved bits set in the frame descriptor"));
        }
        if flg & FLG_DICTIONARY_ID != 0 {
            return Err(corrupt("LZ4 dictionaries are not supported"));
        }
        let max_block = match (bd >> 4) & 0x07 {
            4 => 64 * 1024,
            5 => 256 * 1024,
            6 => 1024 * 1024,
            7 => 4 * 1024 * 1024,
            id => return Err(corrupt(format!("invalid block size id {id}"))),
        };
        let content_size = if flg & FLG_CONTENT_SIZE != 0 {
            Some(u64::from_le_bytes(input.array("content size")?))
        } else {
            None
        };
        let descriptor_len = descriptor_start.len() - input.0.len();
        let checksum = input.u8("header checksum")?;
        let expected = (XxHash32::oneshot(0, &descriptor_start[..descriptor_len]) >> 8) as u8;
        if checksum != expected {
            return Err(corrupt(format!(
                "header checksum {checksum:#04x}, expected {expected:#04x}"
            )));
        }

        let frame_start = out.len();
        if let Some(size) = content_size {
            if size > (self.max_output - (frame_start - self.start)) as u64 {
                return Err(self.too_large());
            }
        }
        let linked = flg & FLG_INDEPENDENT_BLOCKS == 0;
        let block_checksums = flg & FLG_BLOCK_CHECKSUMS != 0;
        let mut content_hash = (flg & FLG_CONTENT_CHECKSUM != 0).then(|| XxHash32::with_seed(0));

        loop {
            let word = input.u32_le("block size")?;
            if word == 0 {
                break; // end mark
            }
            let length = (word & !BLOCK_UNCOMPRESSED) as usize;
            if length > max_block {
                return Err(corrupt(format!(
                    "block of {length} bytes exceeds the frame's {max_block}-byte blocks"
                )));
            }
            let data = input.bytes(length, "block")?;
            if block_checksums {
                let expected = input.u32_le("block checksum")?;
                if XxHash32::oneshot(0, data) != expected {
                    return Err(corrupt("block checksum mismatch"));
                }
            }
            let decoded: &[u8] = if word & BLOCK_UNCOMPRESSED != 0 {
                data
            } else {
                self.scratch.resize(max_block, 0);
                let dictionary = if linked {
                    &out[frame_start.max(out.len().saturating_sub(WINDOW))..]
                } else {
                    &[]
                };
                let n = lz4_flex::block::decompress_into_with_dict(data, &mut self.scratch, dictionary)
                    .map_err(|e| corrupt(format!("bad block: {e}")))?;
                &self.scratch[..n]
            };
            if decoded.len() > self.max_output - (out.len() - self.start) {
                return Err(self.too_large());
            }
            if let Some(hash) = &mut content_hash {
                hash.write(decoded);
            }
            out.extend_from_slice(decoded);
        }

        if let Some(hash) = content_hash {
            let expected = input.u32_le("content checksum")?;
            if hash.finish_32() != expected {
                return Err(corrupt("content checksum mismatch"));
            }
        }
        if let Some(size) = content_size {
            let actual = (out.len() - frame_start) as u64;
            if actual != size {
                return Err(corrupt(format!(
                    "frame holds {actual} bytes, its header says {size}"
                )));
            }
        }
        Ok(())
    }

    fn too_large(&self) -> CompressionError {
        CompressionError::OutputTooLarge {
            codec: CODEC,
            limit: self.max_output,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{compressible, random, XorShift};
    use super::*;

    fn frame(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compress(data, &mut out).unwrap();
        out
    }

    fn unframe(input: &[u8], max: usize) -> Result<Vec<u8>, CompressionError> {
        let mut out = Vec::new();
        decompress(input, max, &mut out).map(|()| out)
    }

    /// A frame written by lz4_flex's encoder with the given settings.
    fn flex_frame(info: FrameInfo, data: &[u8]) -> Vec<u8> {
        let mut encoder = FrameEncoder::with_frame_info(info, Vec::new());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn lz4_frame_layout_matches_kafka() {
        // The empty frame: magic, FLG 0x60, BD 0x40, header checksum, end mark.
        assert_eq!(frame(b""), [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0, 0, 0, 0]);
        let data = compressible(300 * 1024);
        let stream = frame(&data);
        assert_eq!(stream[..7], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
        assert_eq!(stream[stream.len() - 4..], [0, 0, 0, 0]);
        // Walk the blocks: each holds at most 64 KiB, no checksums follow.
        let mut rest = &stream[7..];
        let mut blocks = 0;
        loop {
            let word = u32::from_le_bytes(rest[..4].try_into().unwrap());
            rest = &rest[4..];
            if word == 0 {
                break;
            }
            let length = (word & !BLOCK_UNCOMPRESSED) as usize;
            assert!(length <= 64 * 1024);
            rest = &rest[length..];
            blocks += 1;
        }
        assert!(rest.is_empty());
        assert_eq!(blocks, 5); // 300 KiB in 64 KiB blocks
    }

    #[test]
    fn lz4_handwritten_frame_decodes() {
        // One uncompressed block "kafka", then one compressed block: the
        // literals "ab", a 10-byte match at offset 2, then the 5 literals
        // "ababa" that must end a block.
        let mut stream = vec![0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82];
        stream.extend_from_slice(&(5 | BLOCK_UNCOMPRESSED).to_le_bytes());
        stream.extend_from_slice(b"kafka");
        let block = [0x26, b'a', b'b', 0x02, 0x00, 0x50, b'a', b'b', b'a', b'b', b'a'];
        stream.extend_from_slice(&(block.len() as u32).to_le_bytes());
        stream.extend_from_slice(&block);
        stream.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(unframe(&stream, 100).unwrap(), b"kafkaababababababababa");
        // The same with a wrong header checksum.
        stream[6] ^= 0xff;
        assert!(matches!(
            unframe(&stream, 100),
            Err(CompressionError::Corrupt { .. })
        ));
    }

    #[test]
    fn lz4_reference_cli_frames_decode() {
        // `printf kafka | lz4 -c` (lz4 CLI 1.9.4): FLG 0x64 (content
        // checksum), one uncompressed block.
        let frame = [
            0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x05, 0x00, 0x00, 0x80, 0x6b, 0x61, 0x66, 0x6b, 0x61,
            0x00, 0x00, 0x00, 0x00, 0xf5, 0xcb, 0x8e, 0xde,
        ];
        assert_eq!(unframe(&frame, 5).unwrap(), b"kafka");
        let mut bad = frame;
        bad[20] ^= 1;
        assert!(unframe(&bad, 5).is_err());
        // `printf 'kafka kafka kafka kafka kafka kafka kafka!' | lz4 -c -BX`:
        // FLG 0x74 (block and content checksums), one compressed block.
        let frame = [
            0x04, 0x22, 0x4d, 0x18, 0x74, 0x40, 0xbd, 0x10, 0x00, 0x00, 0x00, 0x6f, 0x6b, 0x61, 0x66, 0x6b,
            0x61, 0x20, 0x06, 0x00, 0x0c, 0x50, 0x61, 0x66, 0x6b, 0x61, 0x21, 0x54, 0x33, 0xf7, 0x93, 0x00,
            0x00, 0x00, 0x00, 0x61, 0xba, 0x8f, 0x11,
        ];
        assert_eq!(
            unframe(&frame, 100).unwrap(),
            b"kafka kafka kafka kafka kafka kafka kafka!"
        );
    }

    #[test]
    fn lz4_reads_every_frame_option() {
        let data = compressible(200 * 1024);
        let random = random(150 * 1024, 4);
        for size in [
            BlockSize::Max64KB,
            BlockSize::Max256KB,
            BlockSize::Max1MB,
            BlockSize::Max4MB,
        ] {
            for mode in [BlockMode::Independent, BlockMode::Linked] {
                for checksums in [false, true] {
                    for content_size in [false, true] {
                        for input in [&data, &random] {
                            let info = FrameInfo::new()
                                .block_size(size)
                                .block_mode(mode)
                                .block_checksums(checksums)
                                .content_checksum(checksums)
                                .content_size(content_size.then_some(input.len() as u64));
                            let stream = flex_frame(info, input);
                            let out = unframe(&stream, input.len())
                                .unwrap_or_else(|e| panic!("{size:?} {mode:?} {checksums}: {e}"));
                            assert!(out == *input, "{size:?} {mode:?} {checksums} {content_size}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn lz4_linked_blocks_use_previous_output() {
        // Repeated 1000-byte random chunks: linked blocks refer back across
        // block boundaries, which only decodes right with the dictionary.
        let chunk = random(1000, 5);
        let data: Vec<u8> = chunk.iter().copied().cycle().take(200_000).collect();
        let info = FrameInfo::new()
            .block_size(BlockSize::Max64KB)
            .block_mode(BlockMode::Linked);
        let stream = flex_frame(info, &data);
        assert!(stream.len() < 5000, "{}", stream.len());
        assert_eq!(unframe(&stream, data.len()).unwrap(), data);
    }

    #[test]
    fn lz4_checksums_are_checked() {
        let data = compressible(10_000);
        let info = FrameInfo::new().block_checksums(true).content_checksum(true);
        let stream = flex_frame(info, &data);
        // Flip a bit in the block checksum, then in the content checksum.
        let block_checksum_at = stream.len() - 4 - 4 - 4;
        for at in [block_checksum_at, stream.len() - 1] {
            let mut bad = stream.clone();
            bad[at] ^= 0x10;
            assert!(matches!(
                unframe(&bad, data.len()),
                Err(CompressionError::Corrupt { .. })
            ));
        }
        // Content size that does not match.
        let info = FrameInfo::new().content_size(Some(data.len() as u64));
        let mut stream = flex_frame(info, &data);
        assert_eq!(unframe(&stream, data.len()).unwrap(), data);
        assert!(matches!(
            unframe(&stream, data.len() - 1),
            Err(CompressionError::OutputTooLarge { .. })
        ));
        // Claim one byte more (and fix the header checksum).
        stream[6..14].copy_from_slice(&(data.len() as u64 + 1).to_le_bytes());
        stream[14] = (XxHash32::oneshot(0, &stream[4..14]) >> 8) as u8;
        assert!(matches!(
            unframe(&stream, usize::MAX),
            Err(CompressionError::Corrupt { .. })
        ));
    }

    #[test]
    fn lz4_several_and_skippable_frames() {
        let mut stream = frame(b"one ");
        let first = stream.len();
        stream.extend_from_slice(&0x184D_2A5Au32.to_le_bytes());
        stream.extend_from_slice(&3u32.to_le_bytes());
        stream.extend_from_slice(b"xyz");
        stream.extend(frame(b"two"));
        assert_eq!(unframe(&stream, 7).unwrap(), b"one two");
        assert!(matches!(
            unframe(&stream, 6),
            Err(CompressionError::OutputTooLarge { .. })
        ));
        // Only skippable frames is no data.
        assert!(unframe(&stream[first..first + 11], 100).is_err());
    }

    #[test]
    fn lz4_rejects_what_lz4_flex_frame_decoder_lets_through() {
        let data = random(100_000, 6);
        let stream = frame(&data);
        // Cut at the first block boundary, and without the end mark.
        let first = (u32::from_le_bytes(stream[7..11].try_into().unwrap()) & !BLOCK_UNCOMPRESSED) as usize;
        for cut in [7 + 4 + first, stream.len() - 4] {
            assert!(matches!(
                unframe(&stream[..cut], data.len()),
                Err(CompressionError::Corrupt { .. })
            ));
        }
        // Trailing garbage after a frame.
        let mut trailing = stream.clone();
        trailing.extend_from_slice(b"junk");
        assert!(unframe(&trailing, data.len()).is_err());
        // A compressed block that decodes to nothing, mid-frame: fine, the
        // frame goes on.
        let mut empty_block = stream[..7].to_vec();
        empty_block.extend_from_slice(&1u32.to_le_bytes());
        empty_block.push(0x00);
        empty_block.extend_from_slice(&stream[7..]);
        assert_eq!(unframe(&empty_block, data.len()).unwrap(), data);
    }

    #[test]
    fn lz4_rejects_bad_descriptors() {
        let good = frame(b"abc");
        let with_descriptor = |flg: u8, bd: u8| {
            let mut s = good.clone();
            s[4] = flg;
            s[5] = bd;
            s[6] = (XxHash32::oneshot(0, &[flg, bd]) >> 8) as u8;
            s
        };
        assert_eq!(unframe(&with_descriptor(0x60, 0x40), 3).unwrap(), b"abc");
        for (flg, bd) in [
            (0x20, 0x40), // version 0
            (0xa0, 0x40), // version 2
            (0x62, 0x40), // reserved FLG bit
            (0x61, 0x40), // dictionary id
            (0x60, 0x41), // reserved BD bit
            (0x60, 0xc0), // reserved BD bit 7
            (0x60, 0x30), // block size id 3
            (0x60, 0x00), // block size id 0
        ] {
            assert!(
                matches!(
                    unframe(&with_descriptor(flg, bd), 3),
                    Err(CompressionError::Corrupt { .. })
                ),
                "FLG {flg:#x} BD {bd:#x} accepted"
            );
        }
        // A block larger than the frame's block size.
        let mut big = vec![0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82];
        big.extend_from_slice(&(65_537 | BLOCK_UNCOMPRESSED).to_le_bytes());
        big.extend(vec![0; 65_537]);
        big.extend_from_slice(&[0; 4]);
        assert!(matches!(
            unframe(&big, usize::MAX),
            Err(CompressionError::Corrupt { .. })
        ));
        // Legacy frame.
        assert!(unframe(&0x184C_2102u32.to_le_bytes(), 10).is_err());
    }

    #[test]
    fn lz4_bit_flips_never_panic() {
        let data = compressible(70_000);
        let stream = frame(&data);
        let mut rng = XorShift::new(11);
        for _ in 0..2000 {
            let mut bad = stream.clone();
            let at = rng.below(bad.len());
            bad[at] ^= 1 << rng.below(8);
            if let Ok(out) = unframe(&bad, data.len()) {
                assert!(out.len() <= data.len());
            }
        }
    }
}
