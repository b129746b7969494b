//! Decoding of primitive types from a borrowed slice.

use super::DecodeError;

/// A cursor over bytes received from the wire.
///
/// Every read checks the remaining length first, so a truncated or hostile
/// input yields a [`DecodeError`], never a panic. Counts read from the wire are
/// checked against the remaining bytes before anything is allocated for them.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    flexible: bool,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`; `flexible` selects compact lengths and tagged fields.
    pub fn new(buf: &'a [u8], flexible: bool) -> Self {
        Reader { buf, flexible }
    }

    /// Whether this reader decodes the flexible (KIP-482) forms.
    pub fn is_flexible(&self) -> bool {
        self.flexible
    }

    /// Switches between flexible and classic forms (request header v2 mixes them).
    pub fn set_flexible(&mut self, flexible: bool) {
        self.flexible = flexible;
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless everything was read.
    pub fn expect_end(&self) -> Result<(), DecodeError> {
        match self.buf.len() {
            0 => Ok(()),
            remaining => Err(DecodeError::TrailingBytes { remaining }),
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::UnexpectedEof {
                needed: n,
                remaining: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A signed 8-bit integer.
    pub fn i8(&mut self) -> Result<i8, DecodeError> {
        Ok(i8::from_be_bytes(self.fixed()?))
    }

    /// A signed 16-bit big-endian integer.
    pub fn i16(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.fixed()?))
    }

    /// An unsigned 16-bit big-endian integer.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.fixed()?))
    }

    /// A signed 32-bit big-endian integer.
    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.fixed()?))
    }

    /// An unsigned 32-bit big-endian integer.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.fixed()?))
    }

    /// A signed 64-bit big-endian integer.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.fixed()?))
    }

    /// A boolean (any non-zero byte is true, as Kafka reads it).
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        Ok(self.i8()? != 0)
    }

    /// A 16-byte UUID.
    pub fn uuid(&mut self) -> Result<[u8; 16], DecodeError> {
        self.fixed()
    }

    /// An unsigned varint of at most 5 bytes (32 bits).
    pub fn uvarint(&mut self) -> Result<u32, DecodeError> {
        let value = self.uvarlong_limited(5)?;
        u32::try_from(value).map_err(|_| DecodeError::VarintTooLong { max_bytes: 5 })
    }

    /// An unsigned varint of at most 10 bytes (64 bits).
    pub fn uvarlong(&mut self) -> Result<u64, DecodeError> {
        self.uvarlong_limited(10)
    }

    fn uvarlong_limited(&mut self, max_bytes: usize) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for i in 0..max_bytes {
            let byte = self.take(1)?[0];
            let bits = u64::from(byte & 0x7f);
            let shift = 7 * i as u32;
            if shift == 63 && bits > 1 {
                return Err(DecodeError::VarintTooLong { max_bytes });
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::VarintTooLong { max_bytes })
    }

    /// A zigzag-encoded signed varint (32 bits).
    pub fn varint(&mut self) -> Result<i32, DecodeError> {
        let raw = self.uvarint()?;
        Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
    }

    /// A zigzag-encoded signed varlong (64 bits).
    pub fn varlong(&mut self) -> Result<i64, DecodeError> {
        let raw = self.uvarlong()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    /// The length prefix of a string, bytes or array; `None` means null.
    /// Compact forms store `length + 1` as an unsigned varint, classic forms a
    /// signed integer where -1 is null.
    fn length(&mut self, what: &'static str, classic_i16: bool) -> Result<Option<usize>, DecodeError> {
        let length: i64 = if self.flexible {
            i64::from(self.uvarint()?) - 1
        } else if classic_i16 {
            i64::from(self.i16()?)
        } else {
            i64::from(self.i32()?)
        };
        match length {
            -1 => Ok(None),
            n if n < 0 => Err(DecodeError::InvalidLength { what, length: n }),
            n => Ok(Some(n as usize)),
        }
    }

    fn str_of(&mut self, what: &'static str, len: usize) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.take(len)?).map_err(|_| DecodeError::InvalidUtf8 { what })
    }

    /// A nullable string, borrowed from the input.
    pub fn nullable_str(&mut self, what: &'static str) -> Result<Option<&'a str>, DecodeError> {
        match self.length(what, true)? {
            None => Ok(None),
            Some(len) => self.str_of(what, len).map(Some),
        }
    }

    /// A non-null string, borrowed from the input.
    pub fn str(&mut self, what: &'static str) -> Result<&'a str, DecodeError> {
        self.nullable_str(what)?
            .ok_or(DecodeError::UnexpectedNull { what })
    }

    /// A non-null string, owned.
    pub fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        self.str(what).map(str::to_owned)
    }

    /// A nullable string, owned.
    pub fn nullable_string(&mut self, what: &'static str) -> Result<Option<String>, DecodeError> {
        Ok(self.nullable_str(what)?.map(str::to_owned))
    }

    /// Nullable bytes, borrowed from the input.
    pub fn nullable_bytes(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, DecodeError> {
        match self.length(what, false)? {
            None => Ok(None),
            Some(len) => self.take(len).map(Some),
        }
    }

    /// Non-null bytes, borrowed from the input.
    pub fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        self.nullable_bytes(what)?
            .ok_or(DecodeError::UnexpectedNull { what })
    }

    /// The element count of a nullable array, checked so that `count` elements
    /// of at least `min_element_size` bytes fit in what remains.
    pub fn nullable_array_len(
        &mut self,
        what: &'static str,
        min_element_size: usize,
    ) -> Result<Option<usize>, DecodeError> {
        let Some(count) = self.length(what, false)? else {
            return Ok(None);
        };
        let needed = count.saturating_mul(min_element_size.max(1));
        if needed > self.buf.len() {
            return Err(DecodeError::CountExceedsRemaining {
                what,
                count,
                remaining: self.buf.len(),
            });
        }
        Ok(Some(count))
    }

    /// The element count of a non-null array (see [`Reader::nullable_array_len`]).
    pub fn array_len(&mut self, what: &'static str, min_element_size: usize) -> Result<usize, DecodeError> {
        self.nullable_array_len(what, min_element_size)?
            .ok_or(DecodeError::UnexpectedNull { what })
    }

    /// Decodes a non-null array with `element`, allocating only for a count the
    /// remaining bytes can justify.
    pub fn array<T>(
        &mut self,
        what: &'static str,
        min_element_size: usize,
        mut element: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let count = self.array_len(what, min_element_size)?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(element(self)?);
        }
        Ok(out)
    }

    /// Reads the tagged-field section of a flexible structure (nothing in classic
    /// versions). `known` is called with each tag and a reader over its bytes;
    /// tags it does not handle are skipped, as the protocol requires.
    pub fn tagged_fields(
        &mut self,
        mut known: impl FnMut(u32, &mut Reader<'a>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if !self.flexible {
            return Ok(());
        }
        // Each tagged field takes at least two bytes (tag and size).
        let count = self.uvarint()? as usize;
        if count.saturating_mul(2) > self.buf.len() {
            return Err(DecodeError::CountExceedsRemaining {
                what: "tagged fields",
                count,
                remaining: self.buf.len(),
            });
        }
        for _ in 0..count {
            let tag = self.uvarint()?;
            let size = self.uvarint()? as usize;
            let mut field = Reader::new(self.take(size)?, true);
            known(tag, &mut field)?;
        }
        Ok(())
    }

    /// Skips the tagged-field section, handling no tag.
    pub fn skip_tagged_fields(&mut self) -> Result<(), DecodeError> {
        self.tagged_fields(|_, _| Ok(()))
    }
}
