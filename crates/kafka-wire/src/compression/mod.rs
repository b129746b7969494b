//! Record batch compression: gzip, snappy, lz4 and zstd as Kafka writes them.
//!
//! A v2 record batch stores its codec in bits 0-2 of the batch attributes
//! ([`Compression::attribute_bits`]) and, when compressed, replaces the
//! concatenated encoded records with one compressed blob. [`compress`] makes
//! that blob, [`decompress`] opens it again.
//!
//! | codec  | bytes on the wire                                                        |
//! |--------|--------------------------------------------------------------------------|
//! | gzip   | a gzip (RFC 1952) stream; several concatenated members are read too      |
//! | snappy | snappy-java ("xerial") framing of 32 KiB raw snappy blocks; a bare raw snappy block is read too |
//! | lz4    | one LZ4 frame (magic `0x184D2204`), independent 64 KiB blocks, no checksums |
//! | zstd   | one zstd frame with its content size                                     |
//!
//! Decompression never panics and never produces (or allocates for output)
//! more than the caller's `max_output` bytes: that bound is the guard against
//! compression bombs.
//!
//! The functions here create their codec state per call. A reusable
//! `Compressor`/`Decompressor` holding the zstd contexts, the snappy encoder
//! and the lz4 scratch buffers can be added later on top of the per-codec
//! modules without changing the wire format.

use std::fmt;
use std::io::Read;
use std::ops::RangeInclusive;
use std::str::FromStr;

mod gzip;
mod lz4;
mod snappy;
mod zstd;

/// Compression codec of a record batch (attributes bits 0-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Compression {
    /// No compression (attribute bits 0).
    #[default]
    None,
    /// gzip, RFC 1952 (attribute bits 1).
    Gzip,
    /// snappy in snappy-java's framing (attribute bits 2).
    Snappy,
    /// LZ4 frame format (attribute bits 3).
    Lz4,
    /// Zstandard (attribute bits 4). Needs produce request v7 or later.
    Zstd,
}

impl Compression {
    /// Every codec, in attribute-bits order.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The value of the codec in bits 0-2 of the record batch attributes (0..=4).
    pub const fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The codec named by record batch attributes: only bits 0-2 are looked at,
    /// the other bits (timestamp type, transactional, control, ...) are ignored.
    ///
    /// # Errors
    ///
    /// [`CompressionError::UnknownCodec`] for codec bits 5, 6 and 7.
    pub fn from_attribute_bits(bits: i16) -> Result<Self, CompressionError> {
        match bits & 0x07 {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(CompressionError::UnknownCodec(other)),
        }
    }

    /// The codec's name as Kafka's `compression.type` spells it:
    /// `"none"`, `"gzip"`, `"snappy"`, `"lz4"` or `"zstd"`.
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// The level [`compress`] uses, or `None` for codecs without levels
    /// (none, snappy).
    ///
    /// These are Kafka's defaults (KIP-390): gzip 6 (what Java's
    /// `Deflater.DEFAULT_COMPRESSION`, -1, means in zlib), lz4 9 and zstd 3.
    /// Note that the lz4 level is accepted but has no effect, see
    /// [`compress_with_level`].
    pub const fn default_level(self) -> Option<i32> {
        match self {
            Compression::Gzip => Some(gzip::DEFAULT_LEVEL),
            Compression::Lz4 => Some(lz4::DEFAULT_LEVEL),
            Compression::Zstd => Some(zstd::DEFAULT_LEVEL),
            Compression::None | Compression::Snappy => None,
        }
    }

    /// The levels [`compress_with_level`] accepts for this codec, or `None` for
    /// codecs without levels (none, snappy).
    ///
    /// Kafka's ranges (KIP-390): gzip 1..=9 (-1 is also accepted and means
    /// the default), lz4 1..=17, zstd as the linked libzstd reports it
    /// (-131072..=22 for zstd 1.5).
    pub fn level_range(self) -> Option<RangeInclusive<i32>> {
        match self {
            Compression::Gzip => Some(gzip::LEVELS),
            Compression::Lz4 => Some(lz4::LEVELS),
            Compression::Zstd => Some(zstd::levels()),
            Compression::None | Compression::Snappy => None,
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compression {
    type Err = CompressionError;

    /// Parses a codec name (`none`, `gzip`, `snappy`, `lz4`, `zstd`), ignoring
    /// ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Compression::ALL
            .into_iter()
            .find(|codec| codec.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| CompressionError::UnknownName(s.to_owned()))
    }
}

/// What can go wrong choosing a codec, compressing or decompressing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompressionError {
    /// The codec bits (0-2) of record batch attributes hold 5, 6 or 7, which
    /// name no codec. The field is the codec value.
    #[error("unknown compression codec {0} in record batch attributes")]
    UnknownCodec(i16),
    /// A codec name that is none of `none`, `gzip`, `snappy`, `lz4`, `zstd`.
    #[error("unknown compression codec name {0:?} (expected none, gzip, snappy, lz4 or zstd)")]
    UnknownName(String),
    /// A compression level outside [`Compression::level_range`], or any level
    /// for a codec that has none (none, snappy).
    #[error("compression level {level} is not valid for {codec}")]
    InvalidLevel {
        /// The codec the level was given for.
        codec: Compression,
        /// The rejected level.
        level: i32,
    },
    /// Decompressing would produce more than the allowed number of bytes
    /// (compression bomb guard). Nothing is appended to the output.
    #[error("decompressed {codec} data exceeds the limit of {limit} bytes")]
    OutputTooLarge {
        /// The codec of the input.
        codec: Compression,
        /// The `max_output` the caller allowed.
        limit: usize,
    },
    /// The input is not valid data of the codec: bad magic or header,
    /// truncated, a failed checksum, a malformed block, trailing garbage.
    #[error("corrupt {codec} data: {reason}")]
    Corrupt {
        /// The codec the input was decoded as.
        codec: Compression,
        /// What was wrong, for humans.
        reason: String,
    },
    /// The codec library failed for a reason that is not bad input, such as
    /// failing to set up its context while compressing.
    #[error("{codec} codec failed: {reason}")]
    Codec {
        /// The codec that failed.
        codec: Compression,
        /// The library's error, for humans.
        reason: String,
    },
}

impl CompressionError {
    pub(crate) fn corrupt(codec: Compression, reason: impl fmt::Display) -> Self {
        CompressionError::Corrupt {
            codec,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn codec(codec: Compression, reason: impl fmt::Display) -> Self {
        CompressionError::Codec {
            codec,
            reason: reason.to_string(),
        }
    }
}

/// Compresses `input` (the concatenated encoded records of a batch) with
/// `codec` at its default level and appends the result to `out`.
///
/// Same as [`compress_with_level`] with `None`.
///
/// # Errors
///
/// [`CompressionError::Codec`] if the codec library fails (not expected for
/// in-memory data). On error `out` is left as it was.
pub fn compress(codec: Compression, input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    compress_with_level(codec, None, input, out)
}

/// Compresses `input` with `codec` at `level` (`None`: the codec's
/// [default](Compression::default_level)) and appends the result to `out`.
///
/// Levels follow Kafka's `compression.<codec>.level` settings (KIP-390):
///
/// * gzip: 1 (fastest) ..= 9 (smallest); -1 means the default, 6.
/// * lz4: 1..=17, default 9, **accepted and ignored**: Kafka's Java client
///   uses lz4-java's high-compression compressor at that level, lz4_flex only
///   has the fast compressor. The output is a valid LZ4 frame either way, just
///   larger than Java's at high levels.
/// * zstd: the libzstd range, default 3 (libzstd's own default and Kafka's);
///   0 also means libzstd's default.
/// * none, snappy: no levels; `Some(_)` is rejected.
///
/// # Errors
///
/// [`CompressionError::InvalidLevel`] for a level the codec does not accept,
/// [`CompressionError::Codec`] if the codec library fails. On error `out` is
/// left as it was.
pub fn compress_with_level(
    codec: Compression,
    level: Option<i32>,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    if let Some(level) = level {
        let valid = match codec.level_range() {
            Some(range) => range.contains(&level) || (codec == Compression::Gzip && level == -1),
            None => false,
        };
        if !valid {
            return Err(CompressionError::InvalidLevel { codec, level });
        }
    }
    let start = out.len();
    let result = match codec {
        Compression::None => {
            out.extend_from_slice(input);
            Ok(())
        }
        Compression::Gzip => gzip::compress(level, input, out),
        Compression::Snappy => snappy::compress(input, out),
        Compression::Lz4 => lz4::compress(input, out),
        Compression::Zstd => zstd::compress(level, input, out),
    };
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Decompresses `input` (the records section of a batch compressed with
/// `codec`) and appends the result to `out`, producing at most `max_output`
/// bytes.
///
/// Accepted input, beyond what [`compress`] writes:
///
/// * gzip: several concatenated members (as Java's `GZIPInputStream` does).
///   Trailing bytes that are not a gzip member are an error (Java ignores them).
/// * snappy: snappy-java framing (also concatenated framed streams), or one
///   raw snappy block without framing (as librdkafka may write).
/// * lz4: one or more LZ4 frames, skippable frames, linked blocks, block and
///   content checksums (checked), a content size (checked). Legacy frames and
///   dictionaries are rejected.
/// * zstd: one or more zstd frames, skippable frames. The decoder accepts
///   windows up to libzstd's default limit (2^27 bytes), so one call may
///   allocate up to 128 MiB of window for a hostile frame even when
///   `max_output` is small.
///
/// Compressed input is never empty: an empty `input` is an error for every
/// codec but [`Compression::None`].
///
/// # Errors
///
/// [`CompressionError::OutputTooLarge`] if the data would decompress to more
/// than `max_output` bytes, [`CompressionError::Corrupt`] for invalid input,
/// [`CompressionError::Codec`] if the codec library fails otherwise. On error
/// `out` is left as it was.
pub fn decompress(
    codec: Compression,
    input: &[u8],
    max_output: usize,
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    if codec != Compression::None && input.is_empty() {
        return Err(CompressionError::corrupt(codec, "empty input"));
    }
    let start = out.len();
    let result = match codec {
        Compression::None => {
            if input.len() > max_output {
                Err(CompressionError::OutputTooLarge {
                    codec,
                    limit: max_output,
                })
            } else {
                out.extend_from_slice(input);
                Ok(())
            }
        }
        Compression::Gzip => gzip::decompress(input, max_output, out),
        Compression::Snappy => snappy::decompress(input, max_output, out),
        Compression::Lz4 => lz4::decompress(input, max_output, out),
        Compression::Zstd => zstd::decompress(input, max_output, out),
    };
    match result {
        Ok(()) if out.len() - start > max_output => {
            // Each codec enforces the bound itself; this is a backstop.
            out.truncate(start);
            Err(CompressionError::OutputTooLarge {
                codec,
                limit: max_output,
            })
        }
        Ok(()) => Ok(()),
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// Reads all of `reader` into `out`, but no more than `max_output` bytes:
/// reading stops one byte past the limit, so a bomb never makes the output
/// grow much beyond it. Read errors are corrupt input (the readers here only
/// read from in-memory slices).
fn read_bounded<R: Read>(
    codec: Compression,
    reader: R,
    max_output: usize,
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    let limit = u64::try_from(max_output).unwrap_or(u64::MAX).saturating_add(1);
    let read = reader
        .take(limit)
        .read_to_end(out)
        .map_err(|e| CompressionError::corrupt(codec, e))?;
    if read > max_output {
        return Err(CompressionError::OutputTooLarge {
            codec,
            limit: max_output,
        });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Deterministic test data, shared by the codec modules' tests.

    /// A xorshift64 generator: enough randomness for tests, no dependency.
    pub(crate) struct XorShift(u64);

    impl XorShift {
        pub(crate) fn new(seed: u64) -> Self {
            XorShift(seed | 1)
        }

        pub(crate) fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        /// A value in `0..bound` (`bound` > 0).
        pub(crate) fn below(&mut self, bound: usize) -> usize {
            (self.next_u64() % bound as u64) as usize
        }

        pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next_u64() as u8).collect()
        }
    }

    /// `len` bytes of text-like, compressible data (repeated record-ish lines).
    pub(crate) fn compressible(len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 64);
        let mut i = 0u64;
        while out.len() < len {
            out.extend_from_slice(
                format!(
                    "key-{:05} value={} topic=orders partition=3;",
                    i % 997,
                    i * 31 % 1013
                )
                .as_bytes(),
            );
            i += 1;
        }
        out.truncate(len);
        out
    }

    /// `len` random bytes (incompressible).
    pub(crate) fn random(len: usize, seed: u64) -> Vec<u8> {
        XorShift::new(seed).bytes(len)
    }

    /// The inputs every codec must round-trip.
    pub(crate) fn samples() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("empty", Vec::new()),
            ("one byte", vec![42]),
            ("small", b"hello, kafka! hello, kafka! hello, kafka!".to_vec()),
            ("1 MiB compressible", compressible(1 << 20)),
            ("200 KiB random", random(200 * 1024, 0x5eed)),
            ("100 KiB compressible", compressible(100 * 1024)),
            ("exactly 32 KiB", compressible(32 * 1024)),
            ("exactly 64 KiB random", random(64 * 1024, 7)),
            ("64 KiB + 1 random", random(64 * 1024 + 1, 8)),
        ]
    }

    /// The bytes 0, 1, ..., 255.
    pub(crate) fn ascending() -> Vec<u8> {
        (0..=255u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{ascending, compressible, random, samples, XorShift};
    use super::*;

    const COMPRESSED: [Compression; 4] = [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn roundtrip(codec: Compression, level: Option<i32>, data: &[u8]) {
        let mut compressed = Vec::new();
        compress_with_level(codec, level, data, &mut compressed).unwrap();
        let mut back = Vec::new();
        decompress(codec, &compressed, data.len(), &mut back)
            .unwrap_or_else(|e| panic!("{codec} level {level:?}, {} bytes: {e}", data.len()));
        assert!(back == data, "{codec} round trip of {} bytes differs", data.len());
    }

    #[test]
    fn compression_attribute_bits_round_trip() {
        for codec in Compression::ALL {
            assert_eq!(
                Compression::from_attribute_bits(codec.attribute_bits()).unwrap(),
                codec
            );
        }
        assert_eq!(Compression::Zstd.attribute_bits(), 4);
        // Only bits 0-2 count: 0x0013 is lz4 with bits 4 (transactional) set.
        assert_eq!(
            Compression::from_attribute_bits(0x0013).unwrap(),
            Compression::Lz4
        );
        assert_eq!(Compression::from_attribute_bits(-8).unwrap(), Compression::None);
        for bits in 5..=7 {
            assert!(matches!(
                Compression::from_attribute_bits(bits | 0x20),
                Err(CompressionError::UnknownCodec(b)) if b == bits
            ));
        }
        assert_eq!(Compression::default(), Compression::None);
    }

    #[test]
    fn compression_names() {
        for codec in Compression::ALL {
            assert_eq!(codec.name().parse::<Compression>().unwrap(), codec);
            assert_eq!(codec.name().to_uppercase().parse::<Compression>().unwrap(), codec);
            assert_eq!(codec.to_string(), codec.name());
        }
        assert_eq!("ZsTd".parse::<Compression>().unwrap(), Compression::Zstd);
        for bad in ["", "lz4 ", "brotli", "gz", "producer"] {
            assert!(matches!(
                bad.parse::<Compression>(),
                Err(CompressionError::UnknownName(_))
            ));
        }
    }

    #[test]
    fn compression_round_trip_all_codecs() {
        for (name, data) in samples() {
            for codec in Compression::ALL {
                let mut compressed = Vec::new();
                compress(codec, &data, &mut compressed).unwrap();
                let mut back = Vec::new();
                decompress(codec, &compressed, data.len(), &mut back)
                    .unwrap_or_else(|e| panic!("{codec} {name}: {e}"));
                assert!(back == data, "{codec} {name}: round trip differs");
            }
        }
    }

    #[test]
    fn compression_actually_compresses() {
        let data = compressible(1 << 20);
        for codec in COMPRESSED {
            let mut compressed = Vec::new();
            compress(codec, &data, &mut compressed).unwrap();
            assert!(
                compressed.len() < data.len() / 4,
                "{codec}: {} bytes",
                compressed.len()
            );
        }
    }

    #[test]
    fn compression_levels() {
        let data = compressible(300 * 1024);
        for codec in COMPRESSED {
            let Some(range) = codec.level_range() else {
                assert_eq!(codec, Compression::Snappy);
                assert!(codec.default_level().is_none());
                continue;
            };
            assert!(range.contains(&codec.default_level().unwrap()));
            let levels = if codec == Compression::Zstd {
                vec![-5, 0, 1, 3, 19]
            } else {
                vec![*range.start(), codec.default_level().unwrap(), *range.end()]
            };
            for level in levels {
                roundtrip(codec, Some(level), &data);
            }
            for bad in [*range.start() - 1, *range.end() + 1] {
                if codec == Compression::Gzip && bad == 0 {
                    // 0 (stored) is outside Kafka's range, -1 is the default.
                    roundtrip(codec, Some(-1), &data);
                }
                let mut out = vec![1, 2, 3];
                let err = compress_with_level(codec, Some(bad), &data, &mut out).unwrap_err();
                assert!(matches!(err, CompressionError::InvalidLevel { level, .. } if level == bad));
                assert_eq!(out, [1, 2, 3]);
            }
        }
        assert_eq!(Compression::Gzip.default_level(), Some(6));
        assert_eq!(Compression::Lz4.default_level(), Some(9));
        assert_eq!(Compression::Zstd.default_level(), Some(3));
        assert_eq!(Compression::Gzip.level_range(), Some(1..=9));
        assert_eq!(Compression::Lz4.level_range(), Some(1..=17));
        assert_eq!(*Compression::Zstd.level_range().unwrap().end(), 22);
        for codec in [Compression::None, Compression::Snappy] {
            assert!(matches!(
                compress_with_level(codec, Some(1), b"x", &mut Vec::new()),
                Err(CompressionError::InvalidLevel { .. })
            ));
            roundtrip(codec, None, &data);
        }
        // gzip -2 and 0 are rejected (Kafka accepts 1..=9 and -1).
        for bad in [-2, 0, 10] {
            assert!(compress_with_level(Compression::Gzip, Some(bad), b"x", &mut Vec::new()).is_err());
        }
        // A higher level helps on compressible data.
        let mut fast = Vec::new();
        let mut small = Vec::new();
        compress_with_level(Compression::Zstd, Some(1), &data, &mut fast).unwrap();
        compress_with_level(Compression::Zstd, Some(19), &data, &mut small).unwrap();
        assert!(small.len() <= fast.len());
    }

    #[test]
    fn compression_appends_and_restores_on_error() {
        let data = compressible(50_000);
        for codec in Compression::ALL {
            let mut compressed = b"prefix".to_vec();
            compress(codec, &data, &mut compressed).unwrap();
            assert_eq!(&compressed[..6], b"prefix");
            let mut out = b"already here".to_vec();
            decompress(codec, &compressed[6..], data.len(), &mut out).unwrap();
            assert_eq!(&out[..12], b"already here");
            assert!(out[12..] == data[..]);

            let mut out = b"already here".to_vec();
            let err = decompress(codec, &compressed[6..], 1000, &mut out).unwrap_err();
            assert!(
                matches!(err, CompressionError::OutputTooLarge { limit: 1000, .. }),
                "{codec}: {err}"
            );
            assert_eq!(out, b"already here");
        }
    }

    #[test]
    fn compression_max_output_enforced() {
        let zeros = vec![0u8; 1 << 20];
        for codec in Compression::ALL {
            let mut compressed = Vec::new();
            compress(codec, &zeros, &mut compressed).unwrap();
            let mut out = Vec::new();
            let err = decompress(codec, &compressed, 1000, &mut out).unwrap_err();
            assert!(
                matches!(err, CompressionError::OutputTooLarge { codec: c, limit: 1000 } if c == codec),
                "{codec}: {err}"
            );
            assert!(out.is_empty());
            // The bound is inclusive.
            let err = decompress(codec, &compressed, zeros.len() - 1, &mut out).unwrap_err();
            assert!(
                matches!(err, CompressionError::OutputTooLarge { .. }),
                "{codec}: {err}"
            );
            decompress(codec, &compressed, zeros.len(), &mut out).unwrap();
            assert_eq!(out.len(), zeros.len());
            out.clear();
            decompress(codec, &compressed, usize::MAX, &mut out).unwrap();
            assert_eq!(out.len(), zeros.len());
            // Limit 0 only lets empty data through.
            assert!(decompress(codec, &compressed, 0, &mut Vec::new()).is_err());
            let mut empty = Vec::new();
            compress(codec, b"", &mut empty).unwrap();
            decompress(codec, &empty, 0, &mut out).unwrap();
        }
    }

    #[test]
    fn compression_empty_input_is_an_error() {
        for codec in COMPRESSED {
            assert!(matches!(
                decompress(codec, b"", 1000, &mut Vec::new()),
                Err(CompressionError::Corrupt { .. })
            ));
        }
        decompress(Compression::None, b"", 0, &mut Vec::new()).unwrap();
    }

    #[test]
    fn compression_garbage_is_rejected() {
        let mut rng = XorShift::new(99);
        let mut inputs = vec![ascending(), random(4096, 3), vec![0xff; 100], vec![0; 100]];
        inputs.extend((0..20).map(|_| {
            let len = 1 + rng.below(500);
            rng.bytes(len)
        }));
        for codec in COMPRESSED {
            for input in &inputs {
                let mut out = Vec::new();
                let result = decompress(codec, input, 1 << 20, &mut out);
                assert!(result.is_err(), "{codec} accepted {} garbage bytes", input.len());
                assert!(out.is_empty());
            }
        }
    }

    #[test]
    fn compression_truncated_input_is_rejected() {
        let data = compressible(10_000);
        for codec in COMPRESSED {
            let mut compressed = Vec::new();
            compress(codec, &data, &mut compressed).unwrap();
            for cut in 0..compressed.len() {
                let result = decompress(codec, &compressed[..cut], data.len(), &mut Vec::new());
                // A snappy-java stream cut right after its 16-byte header is a
                // valid empty stream: the framing has no end marker.
                if codec == Compression::Snappy && cut == 16 {
                    continue;
                }
                assert!(
                    result.is_err(),
                    "{codec}: prefix of {cut}/{} accepted",
                    compressed.len()
                );
            }
        }
    }

    /// Random slices and mutated valid streams: decoding must not panic, and
    /// whatever it returns stays within the limit.
    #[test]
    fn compression_fuzz_does_not_panic() {
        let mut rng = XorShift::new(0xf022);
        let sample = compressible(20_000);
        for codec in COMPRESSED {
            let mut valid = Vec::new();
            compress(codec, &sample, &mut valid).unwrap();
            for i in 0..3000 {
                let input = match i % 3 {
                    0 => {
                        let len = rng.below(600);
                        rng.bytes(len)
                    }
                    1 => {
                        // A valid stream with a few bytes changed.
                        let mut v = valid.clone();
                        for _ in 0..1 + rng.below(4) {
                            let at = rng.below(v.len());
                            v[at] = rng.next_u64() as u8;
                        }
                        v
                    }
                    _ => {
                        // A valid header followed by noise, or a cut stream.
                        let keep = rng.below(valid.len().min(64));
                        let mut v = valid[..keep].to_vec();
                        let noise = rng.below(300);
                        v.extend(rng.bytes(noise));
                        v
                    }
                };
                let max = [0, 100, 30_000][rng.below(3)];
                let mut out = Vec::new();
                if decompress(codec, &input, max, &mut out).is_ok() {
                    assert!(out.len() <= max);
                } else {
                    assert!(out.is_empty());
                }
            }
        }
    }

    #[test]
    fn compression_error_messages() {
        let err = decompress(Compression::Lz4, &[1, 2, 3, 4, 5], 10, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().starts_with("corrupt lz4 data"), "{err}");
        let err = Compression::from_attribute_bits(6).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown compression codec 6 in record batch attributes"
        );
        let err = CompressionError::OutputTooLarge {
            codec: Compression::Zstd,
            limit: 5,
        };
        assert_eq!(
            err.to_string(),
            "decompressed zstd data exceeds the limit of 5 bytes"
        );
    }
}
