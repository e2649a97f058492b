//! How many threads the memory engine's whole-column work may use.
//!
//! One per core, at most [`MAX_THREADS`]; `SEGQL_THREADS` (a positive
//! integer) overrides it, so a run can be measured on one core and on all
//! of them with the same binary. Loading and scanning both ask here.

use std::sync::OnceLock;

/// More threads than this stop paying: the scans are bound by memory
/// bandwidth, which a few cores already fill.
const MAX_THREADS: usize = 4;

/// The number of threads to use, worked out once per process.
pub(crate) fn available() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        from_setting(std::env::var("SEGQL_THREADS").ok().as_deref()).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_THREADS)
        })
    })
}

/// `SEGQL_THREADS`'s value, if it is a positive integer (anything else is
/// ignored: the default stays).
fn from_setting(setting: Option<&str>) -> Option<usize> {
    setting?.trim().parse().ok().filter(|&n: &usize| n >= 1)
}

/// How many threads a pass over `items` items should use, each taking at
/// least `min_per_thread` of them: starting a thread costs tens of
/// microseconds, which a short pass does not win back.
pub(crate) fn for_items(items: usize, min_per_thread: usize) -> usize {
    (items / min_per_thread.max(1)).clamp(1, available())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_takes_positive_integers_only() {
        assert_eq!(from_setting(Some("2")), Some(2));
        assert_eq!(from_setting(Some(" 1 ")), Some(1));
        for ignored in [None, Some("0"), Some("-1"), Some("two"), Some("")] {
            assert_eq!(from_setting(ignored), None, "{ignored:?}");
        }
    }

    #[test]
    fn short_passes_stay_on_one_thread() {
        assert_eq!(for_items(10, 1 << 20), 1);
        assert_eq!(for_items(0, 0), 1);
        assert!(for_items(usize::MAX, 1) <= MAX_THREADS.max(available()));
    }
}
