//! The sorted keys of an entity and a directory over them, so that both
//! sorting the keys at load time and finding a key (a foreign key's parent
//! row, the record of a single-record check) cost a few memory accesses.
//!
//! Keys are uuids, mostly random ones (v4), whose leading bits are spread
//! evenly. So the keys are sorted by their top bits with a radix sort (ties,
//! rare, sorted on the spot), and the sorted keys get a directory of
//! buckets by their top bits: a key lives in the bucket of its top bits,
//! and only that bucket (a handful of keys) is searched. Keys that are not
//! spread (small integers in tests, time-ordered uuids) share their top
//! bits; then the tie sort and the bucket search are an ordinary sort and
//! binary search, so the results are the same, only slower.

use super::array::Array;

/// Keys in ascending order and the bucket directory over them.
#[derive(Clone, Debug)]
pub(crate) struct KeyIndex {
    keys: Array<u128>,
    /// The keys whose top `bits` bits equal `b` are `keys[dir[b]..dir[b + 1]]`.
    dir: Vec<u32>,
    /// `128 - bits`, the shift that leaves a key's bucket number.
    shift: u32,
}

/// Bucket bits for `n` keys: about four keys per bucket, at most 2^22
/// buckets (16 MiB of directory), at least 2.
fn bucket_bits(n: usize) -> u32 {
    let log2 = usize::BITS - n.leading_zeros();
    log2.saturating_sub(2).clamp(1, 22)
}

impl KeyIndex {
    /// Sorts `keys` (in arrival order) and returns the index with the
    /// permutation that sorts them: sorted row `i` is arrival row `perm[i]`.
    /// Keys must be fewer than `u32::MAX`.
    ///
    /// Three stable byte-wise passes order the rows by the keys' top 24
    /// bits, each pass writing to 256 places at a time (which the caches
    /// keep up with, unlike writes scattered over the whole array); then the
    /// runs of keys sharing those bits (rare when keys are spread) are
    /// sorted by the whole key.
    pub(crate) fn sort(keys: &[u128]) -> (KeyIndex, Vec<u32>) {
        // (top 32 bits, row): eight bytes a pair moves less memory than the
        // whole keys would.
        let mut pairs: Vec<(u32, u32)> = keys
            .iter()
            .zip(0..)
            .map(|(&k, r)| ((k >> 96) as u32, r))
            .collect();
        let mut spare = vec![(0u32, 0u32); keys.len()];
        for shift in [8, 16, 24] {
            let mut starts = [0usize; 256];
            for &(top, _) in &pairs {
                starts[(top >> shift) as usize & 0xff] += 1;
            }
            let mut at = 0;
            for s in starts.iter_mut() {
                let count = *s;
                *s = at;
                at += count;
            }
            for &pair in &pairs {
                let slot = &mut starts[(pair.0 >> shift) as usize & 0xff];
                spare[*slot] = pair;
                *slot += 1;
            }
            std::mem::swap(&mut pairs, &mut spare);
        }
        drop(spare);
        let mut perm: Vec<u32> = pairs.iter().map(|&(_, r)| r).collect();
        // Keys sharing their top 24 bits: a handful at a time when spread.
        let mut i = 0;
        while i < pairs.len() {
            let top = pairs[i].0 >> 8;
            let run = pairs[i..].iter().take_while(|p| p.0 >> 8 == top).count();
            if run > 1 {
                perm[i..i + run].sort_unstable_by_key(|&r| keys[r as usize]);
            }
            i += run;
        }
        drop(pairs);
        let keys: Vec<u128> = perm.iter().map(|&r| keys[r as usize]).collect();
        let (shift, dir) = directory(&keys, bucket_bits(keys.len()));
        (
            KeyIndex {
                keys: keys.into(),
                dir,
                shift,
            },
            perm,
        )
    }

    /// The index of `keys`, which must ascend strictly; `None` when they do
    /// not (or are too many for row numbers).
    pub(crate) fn from_sorted(keys: Array<u128>) -> Option<KeyIndex> {
        if keys.len() >= u32::MAX as usize || keys.windows(2).any(|w| w[0] >= w[1]) {
            return None;
        }
        let (shift, dir) = directory(&keys, bucket_bits(keys.len()));
        Some(KeyIndex { keys, dir, shift })
    }

    /// The keys, ascending.
    pub(crate) fn keys(&self) -> &[u128] {
        &self.keys
    }

    /// The row holding `key`.
    pub(crate) fn find(&self, key: u128) -> Option<usize> {
        let b = (key >> self.shift) as usize;
        let (lo, hi) = (self.dir[b] as usize, self.dir[b + 1] as usize);
        self.keys[lo..hi].binary_search(&key).ok().map(|i| lo + i)
    }

    /// The row holding each of `keys`, in order, or `missing` where there
    /// is none. Resolving a million foreign keys is a million look-ups in
    /// tables larger than the caches; done a batch at a time, the batch's
    /// directory reads are independent of each other, so the processor
    /// waits for them together instead of one after another.
    pub(crate) fn find_each(&self, keys: &[u128], missing: u32) -> Vec<u32> {
        const BATCH: usize = 16;
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            let mut ranges = [(0u32, 0u32); BATCH];
            for (range, &k) in ranges.iter_mut().zip(chunk) {
                let b = (k >> self.shift) as usize;
                *range = (self.dir[b], self.dir[b + 1]);
            }
            for (&(lo, hi), &k) in ranges.iter().zip(chunk) {
                let bucket = &self.keys[lo as usize..hi as usize];
                out.push(match bucket.binary_search(&k) {
                    Ok(i) => lo + i as u32,
                    Err(_) => missing,
                });
            }
        }
        out
    }

    /// The first pair of equal keys, if any.
    pub(crate) fn duplicate(&self) -> Option<u128> {
        self.keys.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    }
}

/// The shift and bucket directory of sorted `keys` with `2^bits` buckets.
fn directory(keys: &[u128], bits: u32) -> (u32, Vec<u32>) {
    let shift = 128 - bits;
    let mut dir = vec![0u32; (1usize << bits) + 1];
    for &k in keys {
        dir[(k >> shift) as usize + 1] += 1;
    }
    for b in 1..dir.len() {
        dir[b] += dir[b - 1];
    }
    (shift, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(keys: &[u128]) {
        let (index, perm) = KeyIndex::sort(keys);
        let mut want = keys.to_vec();
        want.sort_unstable();
        assert_eq!(index.keys(), want.as_slice());
        for (i, &p) in perm.iter().enumerate() {
            assert_eq!(index.keys()[i], keys[p as usize]);
        }
        for (row, &k) in index.keys().iter().enumerate() {
            assert_eq!(index.keys()[index.find(k).unwrap()], k, "row {row}");
        }
        let probes: Vec<u128> = [0, 1, u128::MAX, u128::MAX / 3, 1 << 127]
            .into_iter()
            .chain(keys.iter().copied())
            .collect();
        let found = index.find_each(&probes, u32::MAX);
        for (&k, &row) in probes.iter().zip(&found) {
            assert_eq!(index.find(k).is_some(), keys.contains(&k), "{k}");
            assert_eq!(index.find(k).map_or(u32::MAX, |r| r as u32), row, "{k}");
        }
    }

    #[test]
    fn sorts_and_finds_spread_and_clustered_keys() {
        check(&[]);
        check(&[7]);
        let spread: Vec<u128> = (0..5000u128)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835))
            .collect();
        check(&spread);
        let small: Vec<u128> = (0..3000u128).rev().collect();
        check(&small);
        let mut both = spread.clone();
        both.extend([u128::MAX, 0, 5, 5 << 120]);
        check(&both);
    }

    #[test]
    fn reports_a_duplicate() {
        let (index, _) = KeyIndex::sort(&[3, 1 << 100, 3]);
        assert_eq!(index.duplicate(), Some(3));
        let (index, _) = KeyIndex::sort(&[3, 1 << 100]);
        assert_eq!(index.duplicate(), None);
    }
}
