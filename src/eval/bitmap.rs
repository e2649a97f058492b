//! A dense bitset over the rows of one entity: the currency of the evaluator.
//!
//! Segments select large fractions of a table, so a plain `Vec<u64>` of words
//! beats compressed sets here: `and`/`or`/`not` are straight loops the compiler
//! vectorizes, and building a set from a column packs 64 comparisons per word.
//! Invariant: bits at positions `>= len` are always zero, so `count` and
//! `not` need no special casing elsewhere.

use super::threads;

/// A fixed-length set of row indexes `0..len`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitmap {
    words: Vec<u64>,
    len: usize,
}

/// Packs 64 bytes, each 0 or 1, into a word (byte `i` → bit `i`).
fn pack(bytes: &[u8; 64]) -> u64 {
    // Multiplying eight 0/1 bytes by this constant gathers byte k's low bit
    // into bit 56 + k of the product.
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let mut w = 0u64;
    for (k, eight) in bytes.chunks_exact(8).enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(eight);
        w |= (u64::from_le_bytes(b).wrapping_mul(GATHER) >> 56) << (8 * k);
    }
    w
}

/// The fewest rows [`Bitmap::from_slice`] gives a thread of its own: a
/// scan of 1M rows takes from a few hundred microseconds (a comparison) to
/// a few milliseconds (a look-up per row), against tens of microseconds to
/// start a thread.
const PARALLEL_ROWS: usize = 1 << 20;

/// Packs `pred` of each of `data` into `words` (one bit per element, 64
/// per word, the last word's unused bits left zero). Always inlined: as a
/// call, the predicate stops being inlined into the loop and the packing
/// runs several times slower.
#[inline(always)]
fn pack_into<T: Copy>(data: &[T], pred: &impl Fn(T) -> bool, words: &mut [u64]) {
    let chunks = data.chunks_exact(64);
    let rest = chunks.remainder();
    let mut out = words.iter_mut();
    for (chunk, word) in chunks.zip(&mut out) {
        // First one byte per row (a loop the compiler vectorizes), then
        // eight bytes of 0/1 into eight bits at a time by a multiply.
        let mut bytes = [0u8; 64];
        for (b, &x) in bytes.iter_mut().zip(chunk) {
            *b = pred(x) as u8;
        }
        *word = pack(&bytes);
    }
    if let Some(word) = out.next() {
        let mut w = 0u64;
        for (i, &x) in rest.iter().enumerate() {
            w |= (pred(x) as u64) << i;
        }
        *word = w;
    }
}

/// ANDs `pred` of each of `data` into `words` (element `i` → bit `i % 64`
/// of word `i / 64`), leaving the words that are zero already untouched;
/// `data` ends within the last word or at its end. Always inlined, as
/// [`pack_into`] is, whose loop it repeats: one helper packing a word for
/// both measured slower (benches/README.md, "Field tests fused into one
/// pass over row ranges").
#[inline(always)]
pub(crate) fn and_packed<T: Copy>(data: &[T], pred: &impl Fn(T) -> bool, words: &mut [u64]) {
    let chunks = data.chunks_exact(64);
    let rest = chunks.remainder();
    let mut out = words.iter_mut();
    for (chunk, word) in chunks.zip(&mut out) {
        if *word == 0 {
            continue;
        }
        let mut bytes = [0u8; 64];
        for (b, &x) in bytes.iter_mut().zip(chunk) {
            *b = pred(x) as u8;
        }
        *word &= pack(&bytes);
    }
    if let Some(word) = out.next() {
        let mut w = 0u64;
        for (i, &x) in rest.iter().enumerate() {
            w |= (pred(x) as u64) << i;
        }
        *word &= w;
    }
}

impl Bitmap {
    /// The empty set over `len` rows.
    pub fn zeros(len: usize) -> Bitmap {
        Bitmap {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// The full set over `len` rows.
    pub fn ones(len: usize) -> Bitmap {
        let mut b = Bitmap {
            words: vec![u64::MAX; len.div_ceil(64)],
            len,
        };
        b.clear_tail();
        b
    }

    /// Packs `pred(i)` for every row `i`, 64 rows per word.
    pub fn from_fn(len: usize, mut pred: impl FnMut(usize) -> bool) -> Bitmap {
        let mut words = Vec::with_capacity(len.div_ceil(64));
        let mut base = 0;
        while base < len {
            let end = (base + 64).min(len);
            let mut w = 0u64;
            for i in base..end {
                w |= (pred(i) as u64) << (i - base);
            }
            words.push(w);
            base = end;
        }
        Bitmap { words, len }
    }

    /// Packs `pred(x)` for every element of `data`; the row is the position.
    /// Kept separate from [`Bitmap::from_fn`] because fixed 64-element chunks
    /// let the compiler unroll and vectorize the comparisons. Long columns
    /// are cut into row ranges (whole words each), packed on every core:
    /// the pass is bound by memory bandwidth, which one core does not fill.
    pub fn from_slice<T: Copy + Sync>(data: &[T], pred: impl Fn(T) -> bool + Sync) -> Bitmap {
        let threads = threads::for_items(data.len(), PARALLEL_ROWS);
        Self::from_slice_on(threads, data, pred)
    }

    /// [`Bitmap::from_slice`] on `threads` threads.
    fn from_slice_on<T: Copy + Sync>(
        threads: usize,
        data: &[T],
        pred: impl Fn(T) -> bool + Sync,
    ) -> Bitmap {
        let mut words = vec![0u64; data.len().div_ceil(64)];
        if threads < 2 || data.len() <= 64 {
            pack_into(data, &pred, &mut words);
        } else {
            let per_thread = data.len().div_ceil(threads).next_multiple_of(64);
            let mut parts = data
                .chunks(per_thread)
                .zip(words.chunks_mut(per_thread / 64));
            let here = parts.next();
            std::thread::scope(|scope| {
                for (part, out) in parts {
                    let pred = &pred;
                    scope.spawn(move || pack_into(part, pred, out));
                }
                if let Some((part, out)) = here {
                    pack_into(part, &pred, out);
                }
            });
        }
        Bitmap {
            words,
            len: data.len(),
        }
    }

    /// The set over `len` rows whose members are the bits of `words` (bit
    /// `i % 64` of word `i / 64`), as [`Bitmap::words`] gives them; `None`
    /// when the words do not fit `len` rows (a wrong count, or bits set past
    /// `len`).
    pub(crate) fn from_words(words: Vec<u64>, len: usize) -> Option<Bitmap> {
        let b = Bitmap { words, len };
        let mut tail = b.clone();
        tail.clear_tail();
        (b.words.len() == len.div_ceil(64) && tail.words == b.words).then_some(b)
    }

    /// The words holding the members, 64 rows each.
    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    /// Number of rows the set ranges over (not the number of members).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, i: usize) -> bool {
        i < self.len && (self.words[i / 64] >> (i % 64)) & 1 == 1
    }

    pub fn set(&mut self, i: usize) {
        if i < self.len {
            self.words[i / 64] |= 1 << (i % 64);
        }
    }

    pub fn clear(&mut self, i: usize) {
        if i < self.len {
            self.words[i / 64] &= !(1 << (i % 64));
        }
    }

    /// Number of members.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether no row is a member.
    pub fn none(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// Whether every row is a member.
    pub fn all(&self) -> bool {
        self.count() == self.len
    }

    pub fn and_with(&mut self, other: &Bitmap) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
        }
    }

    pub fn or_with(&mut self, other: &Bitmap) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    /// Complement within `0..len`.
    pub fn negate(&mut self) {
        for w in &mut self.words {
            *w = !*w;
        }
        self.clear_tail();
    }

    /// The member rows in ascending order.
    pub fn iter_ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(wi * 64 + bit)
            })
        })
    }

    /// Calls `f` on every member row in ascending order: the loop behind
    /// [`Bitmap::iter_ones`], written out for kernels that run once per
    /// member of a large set.
    pub fn for_each_one(&self, mut f: impl FnMut(usize)) {
        for (wi, &w) in self.words.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                f(wi * 64 + w.trailing_zeros() as usize);
                w &= w - 1;
            }
        }
    }

    fn clear_tail(&mut self) {
        let rem = self.len % 64;
        if rem != 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= (1u64 << rem) - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_keeps_the_tail_clear() {
        let mut b = Bitmap::zeros(70);
        b.set(3);
        b.negate();
        assert_eq!(b.count(), 69);
        assert!(!b.get(3));
        assert!(!b.get(70));
        assert_eq!(Bitmap::ones(70).count(), 70);
    }

    #[test]
    fn packs_bytes_into_bits() {
        let mut bytes = [0u8; 64];
        for i in [0, 1, 7, 8, 30, 63] {
            bytes[i] = 1;
        }
        assert_eq!(
            pack(&bytes),
            (1 << 0) | (1 << 1) | (1 << 7) | (1 << 8) | (1 << 30) | (1 << 63)
        );
    }

    #[test]
    fn row_ranges_on_several_threads_pack_what_one_thread_does() {
        let data: Vec<u32> = (0..64 * 40 + 37u32)
            .map(|i| i.wrapping_mul(2_654_435_761) % 1000)
            .collect();
        let pred = |x: u32| x < 300;
        let one = Bitmap::from_slice_on(1, &data, pred);
        assert_eq!(one.count(), data.iter().filter(|&&x| pred(x)).count());
        for threads in [2, 3, 4, 7, 64] {
            assert_eq!(
                Bitmap::from_slice_on(threads, &data, pred),
                one,
                "{threads}"
            );
        }
        for len in [0, 1, 63, 64, 65, 128, 129] {
            let short = &data[..len];
            assert_eq!(
                Bitmap::from_slice_on(3, short, pred),
                Bitmap::from_slice_on(1, short, pred),
                "{len}"
            );
        }
    }

    #[test]
    fn builds_and_iterates() {
        let data: Vec<i64> = (0..200).collect();
        let b = Bitmap::from_slice(&data, |x| x % 7 == 0);
        let ones: Vec<usize> = b.iter_ones().collect();
        let want: Vec<usize> = (0..200).filter(|x| x % 7 == 0).collect();
        assert_eq!(ones, want);
        assert_eq!(b, Bitmap::from_fn(200, |i| i % 7 == 0));
        let mut c = b.clone();
        c.and_with(&Bitmap::from_fn(200, |i| i % 2 == 0));
        assert_eq!(c.count(), (0..200).filter(|x| x % 14 == 0).count());
    }
}
