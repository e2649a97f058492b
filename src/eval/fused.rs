//! Conjunctions of field tests on one table, run in one pass over ranges of
//! rows: every test ANDs its rows into the range's words while they are in
//! the first-level cache, the most selective test first so that the others
//! skip the words it emptied, and the finished words go to a consumer (the
//! bitmap of an `and`, or the per-parent counts of a `has`) without a
//! bitmap per test or a pass to combine them.

use super::bitmap::Bitmap;
use super::compile::Node;
use super::kernels::FieldKernel;
use super::threads;

/// Words of a range: 16,384 rows, 2 KiB of words, which stay in the
/// first-level cache while every test runs over the range.
const RANGE_WORDS: usize = 256;

/// The fewest rows a thread of its own takes (as [`Bitmap::from_slice`]).
const PARALLEL_ROWS: usize = 1 << 20;

/// Rows sampled to order the tests.
const SAMPLE_ROWS: usize = 1024;

/// A field test or its negation (`type != "Email Sent"` is `not (type =
/// "Email Sent")`: true on NULL too).
#[derive(Clone, Copy)]
pub(crate) struct Term<'k, 'a> {
    kernel: &'k FieldKernel<'a>,
    negated: bool,
}

impl<'k, 'a> Term<'k, 'a> {
    /// `node` as a term, if it is a field test or its negation.
    pub(crate) fn of(node: &'k Node<'a>) -> Option<Self> {
        let (node, negated) = match node {
            Node::Not(inner) => (&**inner, true),
            _ => (node, false),
        };
        match node {
            Node::Field(kernel) => Some(Term { kernel, negated }),
            _ => None,
        }
    }

    pub(crate) fn test(&self, row: usize) -> bool {
        self.kernel.test(row) != self.negated
    }

    /// ANDs the term into `words` (as [`FieldKernel::and_into`]).
    fn and_into(&self, first_word: usize, words: &mut [u64]) {
        if !self.negated {
            return self.kernel.and_into(first_word, words);
        }
        // The rows still in that pass the test are the ones to take out.
        let mut passing = [0u64; RANGE_WORDS];
        let passing = &mut passing[..words.len()];
        passing.copy_from_slice(words);
        self.kernel.and_into(first_word, passing);
        for (w, p) in words.iter_mut().zip(passing.iter()) {
            *w ^= p;
        }
    }
}

/// The terms among `nodes` (the operands of an `and`).
pub(crate) fn terms<'k, 'a>(nodes: &'k [Node<'a>]) -> Vec<Term<'k, 'a>> {
    nodes.iter().filter_map(Term::of).collect()
}

/// When `filter` is terms only (one, or an `and` of them), their
/// conjunction over the `rows` rows of the table they test.
pub(crate) fn terms_only<'k, 'a>(filter: &'k Node<'a>, rows: usize) -> Option<Conjunction<'k, 'a>> {
    let terms = match filter {
        Node::And(nodes, _) => {
            let terms = terms(nodes);
            (terms.len() == nodes.len()).then_some(terms)?
        }
        node => vec![Term::of(node)?],
    };
    Some(Conjunction::new(terms, rows))
}

/// Terms on one table, all of which a row must pass.
pub(crate) struct Conjunction<'k, 'a> {
    /// Most selective first.
    terms: Vec<Term<'k, 'a>>,
    rows: usize,
    /// Threads to run on, each taking a range of rows.
    threads: usize,
}

impl<'k, 'a> Conjunction<'k, 'a> {
    /// The conjunction of `terms` over a table of `rows` rows, ordered by
    /// how many of a sample of rows each passes (fewest first; the given
    /// order among equals).
    pub(crate) fn new(mut terms: Vec<Term<'k, 'a>>, rows: usize) -> Self {
        if terms.len() > 1 && rows > 0 {
            let step = rows.div_ceil(SAMPLE_ROWS);
            let passed = |t: &Term| (0..rows).step_by(step).filter(|&r| t.test(r)).count();
            terms.sort_by_cached_key(passed);
        }
        Conjunction {
            terms,
            rows,
            threads: threads::for_items(rows, PARALLEL_ROWS),
        }
    }

    /// The same, run on `threads` threads.
    #[cfg(test)]
    pub(crate) fn on(self, threads: usize) -> Self {
        Conjunction { threads, ..self }
    }

    /// The terms in the order they run.
    #[cfg(test)]
    pub(crate) fn terms(&self) -> &[Term<'k, 'a>] {
        &self.terms
    }

    /// Fills `words`, rows `64 * first_word..` of the table, with the rows
    /// passing every test.
    fn fill(&self, first_word: usize, words: &mut [u64]) {
        words.fill(u64::MAX);
        let end = (first_word + words.len()) * 64;
        if end > self.rows {
            // The last word of the table: no rows past its end.
            let last = words.len() - 1;
            let keep = self.rows - (first_word + last) * 64;
            words[last] = if keep == 0 {
                0
            } else {
                u64::MAX >> (64 - keep)
            };
        }
        for t in &self.terms {
            t.and_into(first_word, words);
        }
    }

    /// The rows passing every test.
    pub(crate) fn bitmap(&self) -> Bitmap {
        let threads = self.threads;
        let mut words = vec![0u64; self.rows.div_ceil(64)];
        let per_thread = words.len().div_ceil(threads.max(1)).max(1);
        let run = |first: usize, part: &mut [u64]| {
            for (i, range) in part.chunks_mut(RANGE_WORDS).enumerate() {
                self.fill(first + i * RANGE_WORDS, range);
            }
        };
        if threads < 2 {
            run(0, &mut words);
        } else {
            std::thread::scope(|scope| {
                let mut parts = words.chunks_mut(per_thread).enumerate();
                let here = parts.next();
                for (i, part) in parts {
                    let run = &run;
                    scope.spawn(move || run(i * per_thread, part));
                }
                if let Some((_, part)) = here {
                    run(0, part);
                }
            });
        }
        Bitmap::from_words(words, self.rows).unwrap_or_else(|| Bitmap::zeros(self.rows))
    }

    /// Runs `visit(state, first_row, words)` over the passing rows, a range
    /// of words at a time (bit `i` of word `w` is row `first_row + 64 * w +
    /// i`), with one state per thread made by `start`; returns the states
    /// in row order.
    pub(crate) fn fold<S: Send>(
        &self,
        start: impl Fn() -> S + Sync,
        visit: impl Fn(&mut S, usize, &[u64]) + Sync,
    ) -> Vec<S> {
        let threads = self.threads;
        let words = self.rows.div_ceil(64);
        let per_thread = words.div_ceil(threads.max(1)).max(1);
        let run = |from: usize| {
            let to = (from + per_thread).min(words);
            let mut state = start();
            let mut buffer = [0u64; RANGE_WORDS];
            let mut first = from;
            while first < to {
                let range = &mut buffer[..(to - first).min(RANGE_WORDS)];
                self.fill(first, range);
                visit(&mut state, first * 64, range);
                first += range.len();
            }
            state
        };
        if threads < 2 || words <= per_thread {
            return vec![run(0)];
        }
        std::thread::scope(|scope| {
            let run = &run;
            let others: Vec<_> = (per_thread..words)
                .step_by(per_thread)
                .map(|from| scope.spawn(move || run(from)))
                .collect();
            let mut states = vec![run(0)];
            for other in others {
                match other.join() {
                    Ok(s) => states.push(s),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            states
        })
    }
}

/// Calls `f` on every row of a range's words (`first_row` as
/// [`Conjunction::fold`] gives it), ascending.
#[inline(always)]
pub(crate) fn for_each_row(first_row: usize, words: &[u64], mut f: impl FnMut(usize)) {
    for (i, &w) in words.iter().enumerate() {
        let mut w = w;
        while w != 0 {
            f(first_row + i * 64 + w.trailing_zeros() as usize);
            w &= w - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, TimeZone, Utc};

    use super::*;
    use crate::eval::compile::compile;
    use crate::eval::{Store, StoreBuilder};
    use crate::plan::Value;
    use crate::schema::crm_schema;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
    }

    fn id(n: u128) -> Value {
        Value::Uuid(uuid::Uuid::from_u128(n))
    }

    const CONTACTS: u128 = 3000;
    /// Over four ranges of rows per thread on two threads.
    const INTERACTIONS: u128 = 140_000;

    /// Contacts with from none to hundreds of interactions; some
    /// interactions without a contact or with a missing one, some with
    /// NULL fields, many exactly at or a second either side of `now -
    /// 30d`.
    fn store() -> Store {
        let mut b = StoreBuilder::new(&crm_schema());
        for c in 0..CONTACTS {
            b.insert("contact", [("id", id(0x1000 + c))]).unwrap();
        }
        let edge = now() - Duration::days(30);
        let details = ["webinar", "Spring offer", "newsletter"];
        for i in 0..INTERACTIONS {
            let mut row = vec![("id", id(0x10_0000 + i))];
            // Contact 7 gets a share of every thousand: hundreds of
            // matches, past what a byte counts.
            let contact = match i % 1000 {
                0..=299 => Some(7),
                300 => None,
                301 => Some(CONTACTS + 5),
                _ => Some((i * 7919) % CONTACTS),
            };
            if let Some(c) = contact {
                row.push(("contact_id", id(0x1000 + c)));
            }
            if i % 23 != 0 {
                row.push(("type", Value::Integer((i % 5 + 1) as i64)));
            }
            if i % 29 != 0 {
                let at = match i % 4 {
                    0 => edge + Duration::seconds((i % 3) as i64 - 1),
                    _ => edge + Duration::hours(((i * 31) % 2000) as i64 - 1000),
                };
                row.push(("occurred_on", Value::DateTime(at)));
            }
            if i % 31 != 0 {
                row.push(("detail", Value::Text(details[(i % 3) as usize].into())));
            }
            b.insert("interaction", row).unwrap();
        }
        b.build().unwrap()
    }

    /// `text` (a contact segment) compiled over `store`, unoptimized.
    fn node<'a>(store: &'a Store, text: &str) -> Node<'a> {
        let schema = crm_schema();
        let query = crate::syntax::parse_query(text).expect("parse");
        let plan = crate::check::check(&query, &crate::Options::new(&schema)).expect("check");
        let (table, _) = store.table(&plan.entity).unwrap();
        compile(&plan.filter, store, table, now()).expect("compile")
    }

    /// The rows `node` selects, record by record: the children walked one
    /// at a time, each test on one row.
    fn one_by_one(node: &Node, rows: usize) -> Bitmap {
        Bitmap::from_fn(rows, |r| node.test(r).unwrap())
    }

    const FILTERS: [&str; 6] = [
        r#"type = "Email Opened" and occurred_on >= now - 30d"#,
        r#"occurred_on >= now - 30d and type = "Email Opened""#,
        r#"occurred_on < now - 30d and type in ["Email Sent", "Email Opened"] and detail = "webinar""#,
        r#"detail starts with "SPRING" and occurred_on <= now - 30d and type != "Email Sent" and occurred_on > now - 40d"#,
        r#"type = "Email Opened""#,
        r#"occurred_on between now - 30d and now - 30d"#,
    ];

    #[test]
    fn has_over_field_tests_counts_what_record_by_record_checks_count() {
        let store = store();
        let contacts = CONTACTS as usize;
        let quantifiers = [
            "has",
            "has no",
            "has at least 1",
            "has at least 3",
            "has at most 2",
            "has exactly 1",
            "has at least 200",
            "has at least 300",
            "has at least 256",
            "has exactly 255",
        ];
        for filter in FILTERS {
            for q in quantifiers {
                let text = format!("contact where {q} interaction({filter})");
                let node = node(&store, &text);
                let want = one_by_one(&node, contacts);
                assert_eq!(node.eval_all().unwrap(), want, "{text}");
                let Node::Related(r) = &node else {
                    panic!("{text} compiles to a has");
                };
                let children = r.link.parent_of.len();
                for threads in [1, 2, 3, 4, 7] {
                    let fields = terms_only(&r.inner, children).expect("field tests only");
                    let got = r.children_passing(&fields.on(threads));
                    assert_eq!(got, want, "{text} on {threads} threads");
                }
            }
        }
    }

    #[test]
    fn and_of_field_tests_selects_what_row_by_row_tests_select() {
        let store = store();
        let schema = crm_schema();
        let (table, t) = store.table("interaction").unwrap();
        for filter in FILTERS {
            let text = format!("interaction where {filter}");
            let query = crate::syntax::parse_query(&text).expect("parse");
            let plan = crate::check::check(&query, &crate::Options::new(&schema)).expect("check");
            let node = compile(&plan.filter, &store, table, now()).unwrap();
            let want = one_by_one(&node, t.rows);
            assert_eq!(node.eval_all().unwrap(), want, "{text}");
            if let Node::And(nodes, _) = &node {
                for threads in [1, 2, 3, 5] {
                    let fields = Conjunction::new(terms(nodes), t.rows).on(threads);
                    assert_eq!(fields.bitmap(), want, "{text} on {threads} threads");
                }
            }
        }
    }

    #[test]
    fn the_most_selective_test_runs_first() {
        let store = store();
        let node = node(
            &store,
            r#"contact where has interaction(type != "Email Sent" and occurred_on = now - 30d and detail = "webinar")"#,
        );
        let Node::Related(r) = &node else {
            panic!("a has");
        };
        let fields = terms_only(&r.inner, r.link.parent_of.len()).unwrap();
        let rows = r.link.parent_of.len();
        let passed: Vec<usize> = fields
            .terms()
            .iter()
            .map(|t| (0..rows).filter(|&row| t.test(row)).count())
            .collect();
        assert!(passed.windows(2).all(|w| w[0] <= w[1]), "{passed:?}");
    }

    #[test]
    fn ranges_end_with_the_table() {
        // Tables of a few rows, shorter than a word, a word and a bit.
        for n in [0u128, 1, 63, 64, 65, 200] {
            let mut b = StoreBuilder::new(&crm_schema());
            b.insert("contact", [("id", id(1))]).unwrap();
            for i in 0..n {
                b.insert(
                    "interaction",
                    [
                        ("id", id(0x100 + i)),
                        ("contact_id", id(1)),
                        ("type", Value::Integer((i % 3) as i64 + 1)),
                        ("occurred_on", Value::DateTime(now())),
                    ],
                )
                .unwrap();
            }
            let store = b.build().unwrap();
            for filter in [
                "type is not null and occurred_on is not null",
                r#"type = "Email Delivered" and occurred_on <= now"#,
            ] {
                let (table, t) = store.table("interaction").unwrap();
                let text = format!("interaction where {filter}");
                let schema = crm_schema();
                let query = crate::syntax::parse_query(&text).unwrap();
                let plan = crate::check::check(&query, &crate::Options::new(&schema)).unwrap();
                let node = compile(&plan.filter, &store, table, now()).unwrap();
                let want = one_by_one(&node, t.rows);
                assert_eq!(node.eval_all().unwrap(), want, "{n} {filter}");
                assert_eq!(want.count(), want.iter_ones().count());
                for q in ["has at least 2", "has exactly 0"] {
                    let text = format!("contact where {q} interaction({filter})");
                    let node = self::node(&store, &text);
                    assert_eq!(node.eval_all().unwrap(), one_by_one(&node, 1), "{n} {text}");
                }
            }
        }
    }
}
