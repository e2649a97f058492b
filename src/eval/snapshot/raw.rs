//! The two kinds of bytes in a snapshot file: the header's fields, written
//! and read one at a time, and the columns' arrays, as they lie in memory
//! (see `crate::eval::array`). Also the checksum over both.

/// `n` rounded up to a multiple of sixteen: where the next array starts,
/// so that every array is aligned for any of its element types when the
/// file is mapped (at a page boundary).
pub(super) fn align16(n: u64) -> u64 {
    n.div_ceil(16) * 16
}

/// A 64-bit checksum of a byte stream, fed in pieces of any size. It is
/// there to catch damaged files (a torn write, a flipped bit), not forgery:
/// four independent lanes of multiply and rotate over 8-byte words, so it
/// keeps up with reading from the page cache.
#[derive(Clone)]
pub(super) struct Checksum {
    lanes: [u64; 4],
    /// Bytes not yet making a whole block of 32.
    pending: [u8; 32],
    pending_len: usize,
    total: u64,
}

const PRIME: u64 = 0x9e37_79b9_7f4a_7c15;

impl Checksum {
    pub(super) fn new() -> Checksum {
        Checksum {
            lanes: [1, 2, 3, 4],
            pending: [0; 32],
            pending_len: 0,
            total: 0,
        }
    }

    fn block(lanes: &mut [u64; 4], block: &[u8]) {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            *lane = (*lane ^ u64::from_le_bytes(w))
                .wrapping_mul(PRIME)
                .rotate_left(29);
        }
    }

    pub(super) fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.pending_len > 0 {
            let take = (32 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 32 {
                return;
            }
            let block = self.pending;
            Self::block(&mut self.lanes, &block);
            self.pending_len = 0;
        }
        let blocks = data.chunks_exact(32);
        let rest = blocks.remainder();
        for block in blocks {
            Self::block(&mut self.lanes, block);
        }
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    pub(super) fn finish(mut self) -> u64 {
        if self.pending_len > 0 {
            let mut block = [0u8; 32];
            block[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
            Self::block(&mut self.lanes, &block);
        }
        let mut h = self.total.wrapping_mul(PRIME);
        for lane in self.lanes {
            h = (h ^ lane).wrapping_mul(PRIME).rotate_left(31);
        }
        h ^ (h >> 29)
    }
}

/// The checksum of `data` in one piece.
pub(super) fn checksum(data: &[u8]) -> u64 {
    let mut sum = Checksum::new();
    sum.update(data);
    sum.finish()
}

/// FNV-1a, 64 bits: a stable hash for file names and fingerprints.
pub(super) fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Header fields, appended one after another.
#[derive(Default)]
pub(super) struct Fields(pub(super) Vec<u8>);

impl Fields {
    pub(super) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(super) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn str(&mut self, v: &str) {
        self.u64(v.len() as u64);
        self.0.extend_from_slice(v.as_bytes());
    }
}

/// Header fields read back in the order they were written; every read is
/// `None` past the end, so a short or damaged header is refused, not a panic.
pub(super) struct FieldReader<'h> {
    data: &'h [u8],
}

impl<'h> FieldReader<'h> {
    pub(super) fn new(data: &'h [u8]) -> FieldReader<'h> {
        FieldReader { data }
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.data.split_first_chunk::<N>()?;
        self.data = rest;
        Some(*head)
    }

    pub(super) fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    pub(super) fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    pub(super) fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    pub(super) fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_le_bytes)
    }
    /// A count of things each taking at least one byte of the header: at
    /// most what is left, so a damaged count cannot ask for a huge
    /// allocation.
    pub(super) fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n <= self.data.len()).then_some(n)
    }
    /// What is left to read.
    pub(super) fn rest(&self) -> &'h [u8] {
        self.data
    }

    pub(super) fn str(&mut self) -> Option<String> {
        let n = self.count()?;
        let (text, rest) = self.data.split_at(n);
        self.data = rest;
        String::from_utf8(text.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_does_not_depend_on_how_the_stream_is_cut() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = checksum(&data);
        for cut in [1, 5, 31, 32, 33, 100, 999] {
            let mut sum = Checksum::new();
            for piece in data.chunks(cut) {
                sum.update(piece);
            }
            assert_eq!(sum.finish(), whole, "pieces of {cut}");
        }
        let mut changed = data.clone();
        for at in [0, 31, 32, 500, 999] {
            changed[at] ^= 1;
            assert_ne!(checksum(&changed), whole, "byte {at}");
            changed[at] ^= 1;
        }
        assert_ne!(checksum(&data[..999]), whole);
        let mut longer = data.clone();
        longer.push(0);
        assert_ne!(checksum(&longer), whole);
    }

    #[test]
    fn fields_read_back_and_refuse_short_input() {
        let mut f = Fields::default();
        f.u8(7);
        f.u32(70_000);
        f.i64(-5);
        f.str("héllo");
        let mut r = FieldReader::new(&f.0);
        assert_eq!(r.u8(), Some(7));
        assert_eq!(r.u32(), Some(70_000));
        assert_eq!(r.i64(), Some(-5));
        assert_eq!(r.str().as_deref(), Some("héllo"));
        assert_eq!(r.u8(), None);
        let mut short = FieldReader::new(&f.0[..f.0.len() - 1]);
        short.u8();
        short.u32();
        short.i64();
        assert_eq!(short.str(), None);
    }
}
