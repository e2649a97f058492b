//! Arithmetic that rounds once: the exact sum of doubles and the quotient of
//! an exact integer sum by a count, each rounded to the nearest double
//! (SPEC §2.5: PostgreSQL sums decimals over `numeric`, and every engine must
//! give the same value).
//!
//! The kernels sum decimals with a compensated sum that proves itself exact
//! in all but odd cases ([`super::reduce`]); [`exact_sum`] is what they fall
//! back on then.

/// Adds `x` to the running sum `s` without losing anything: the rounded sum
/// and the exact rounding error (Fast2Sum with the operands ordered, as in
/// Neumaier's summation). Exact unless the sum overflows.
#[inline(always)]
pub(crate) fn two_sum(s: f64, x: f64) -> (f64, f64) {
    let t = s + x;
    let e = if s.abs() >= x.abs() {
        (s - t) + x
    } else {
        (x - t) + s
    };
    (t, e)
}

/// The double nearest the exact sum of `values` (Shewchuk's algorithm with
/// the final half-way correction, as Python's `math.fsum`). Keeps a list of
/// non-overlapping partial sums whose total is the exact sum so far; its
/// length stays small (at most about 40 for doubles). A sum beyond the
/// range of doubles gives an infinity or NaN.
pub(crate) fn exact_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for mut x in values {
        let mut kept = 0;
        for j in 0..partials.len() {
            let (hi, lo) = two_sum(x, partials[j]);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    // Add the partials from the largest down until the sum is inexact; the
    // rest decides only a half-way case, which the next partial settles.
    let Some(mut hi) = partials.pop() else {
        return 0.0;
    };
    let mut lo = 0.0;
    while let Some(y) = partials.pop() {
        let x = hi;
        hi = x + y;
        lo = y - (hi - x);
        if lo != 0.0 {
            break;
        }
    }
    if let Some(&next) = partials.last() {
        if (lo < 0.0 && next < 0.0) || (lo > 0.0 && next > 0.0) {
            // `hi + lo` is a tie rounded to even, but the partials below
            // push the exact sum past it: round the other way.
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
    }
    hi
}

/// The double nearest `num / den` (`den > 0`), rounded once: the average of
/// integers whose exact sum is `num`.
pub(crate) fn div_round(num: i128, den: u64) -> f64 {
    const EXACT: i128 = 1 << 53;
    if (-EXACT..=EXACT).contains(&num) && den <= 1 << 53 {
        // Both exact as doubles: IEEE division rounds once. (Through i64:
        // converting an i128 to a double is a slow library call.)
        return num as i64 as f64 / den as f64;
    }
    // Shift the dividend up to 127 bits so the integer quotient has at least
    // 63 significant bits, ten more than a double holds; a nonzero remainder
    // becomes a sticky lowest bit, so converting the quotient rounds as the
    // exact one would. Scaling back by a power of two is exact.
    let a = num.unsigned_abs();
    let d = den as u128;
    let k = a.leading_zeros().saturating_sub(1);
    let scaled = a << k;
    let q = (scaled / d) | u128::from(!scaled.is_multiple_of(d));
    let q = q as f64 * f64::from_bits(u64::from(1023 - k) << 52);
    if num < 0 {
        -q
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_rounds_the_exact_total_once() {
        assert_eq!(exact_sum([1e16, 1.0, -1e16]), 1.0);
        assert_eq!(exact_sum([1e300, 1e200, 1.0, -1e300, -1e200]), 1.0);
        assert_eq!(exact_sum([0.1; 10]), 1.0);
        assert_eq!(exact_sum([]), 0.0);
        // 2^53 + 1 + 2^-60: a tie at 2^53 + 1 broken upwards by the tail.
        let two53 = 9_007_199_254_740_992.0;
        assert_eq!(exact_sum([two53, 1.0, 2f64.powi(-60)]), two53 + 2.0);
        assert_eq!(exact_sum([two53, 1.0]), two53);
        assert_eq!(exact_sum([two53, 1.0, -(2f64.powi(-60))]), two53);
    }

    #[test]
    fn integer_averages_round_once() {
        assert_eq!(div_round(7, 2), 3.5);
        assert_eq!(div_round(-7, 2), -3.5);
        assert_eq!(div_round(1, 3), 1.0 / 3.0);
        assert_eq!(div_round(0, 5), 0.0);
        // i64::MAX + i64::MAX - 1 over 2: the exact average is i64::MAX - 0.5,
        // which rounds to 2^63; dividing a rounded sum would round twice.
        let sum = i64::MAX as i128 * 2 - 1;
        assert_eq!(div_round(sum, 2), 9_223_372_036_854_775_808.0);
        // 2^53 + 1 over 1 is a tie that rounds to even; over 3 it is not.
        let n = (1i128 << 53) + 1;
        assert_eq!(div_round(n, 1), 9_007_199_254_740_992.0);
        assert_eq!(div_round(3 * n + 1, 3), 9_007_199_254_740_994.0);
        assert_eq!(div_round(i64::MIN as i128 * 3, 3), i64::MIN as f64);
        assert_eq!(div_round(i128::MIN, 1), -(2f64.powi(127)));
    }
}
