//! A decimal `sum` tested against constants, summed as doubles first and
//! exactly only where that cannot decide (dialects with
//! [`Dialect::checks_decimal_sums`]: PostgreSQL).
//!
//! SPEC §2.5 compares the double nearest the exact sum. PostgreSQL gets it
//! by summing every value as `numeric` ([`Dialect::sum_decimals`]), which
//! costs 1.5–1.7× a `SUM` of doubles at 1M contacts: a `numeric` per row,
//! and group states too big for the hash table's memory. Yet the double
//! sum `F` of `n` values is within `(n-1)·2^-53·Σ|x|` of the exact sum `S`,
//! whatever the order of the additions. So where `F` is farther than that
//! (and than an ulp of the constant `c`) from `c`, `S` and its rounding are
//! on the same side of `c` as `F`, and `F` decides the test. Only the groups
//! left in doubt run the exact sum, in a subquery correlated on the group
//! key (an index lookup per such group). The groups' sums are a derived
//! table and the test a `WHERE` over it (see [`CheckedSum`] for why not a
//! `HAVING`):
//!
//! ```sql
//! SELECT c1.grp FROM (
//!   SELECT t1.contact_id AS grp, <F> AS quick, <A> AS size, COUNT(*) AS n
//!   FROM lead AS t1 WHERE ... GROUP BY t1.contact_id
//! ) AS c1
//! WHERE CASE
//!   WHEN <every constant is far from c1.quick>
//!   THEN c1.quick
//!   ELSE (SELECT <exact sum> FROM lead AS t2 WHERE t2.contact_id = c1.grp AND ...)
//! END > $2
//! ```
//!
//! The test, with `A` the double sum of `|x|` and `n` the group's rows:
//! `|F - c| · 2^50 > 2·n·A + |c|`, i.e. `|F - c| > n·A·2^-49 + |c|·2^-50`,
//! sixteen times the error bound (which also covers the rounding of `A`,
//! of `F - c` and of the test itself) plus two ulps of `c`. `A = 0` means
//! every value is zero (or there is none): `F` is exact.
//!
//! PostgreSQL raises an error where a double operation overflows or
//! underflows to zero, never returning infinity, so every term is kept in
//! range: a value of at least [`CLAMP`] in size (or infinite, or NaN)
//! counts as 0 in `F` and as `CLAMP` in `A`, so its group has `A >= CLAMP`
//! and goes to the exact sum; `2·n·A` stays below 2^927, so adding `|c|`
//! rounds to a finite double; `|F - c|` is capped at [`FAR`] before it is
//! scaled up; and nothing is scaled down. Such a query carries
//! `jit = off` ([`Dialect::settings_for_rare_fallbacks`]).

use super::aggregate::Chain;
use super::generator::{Cond, Generator, Scope};
use super::tree::{CheckedSum, SqlExpr, GROUP_KEY};
use crate::error::Result;
use crate::plan::{Aggregate, AggregateFn, ValueType};
use crate::schema::FieldType;

/// 2^800: values at least this large (or infinite, or NaN) leave the quick
/// sum to the exact one.
const CLAMP: f64 = f64::from_bits((1023 + 800) << 52);
/// 2^960: a distance this large decides any test (the bound is below 2^927).
const FAR: f64 = f64::from_bits((1023 + 960) << 52);
/// 2^50, the scale of the distance in the test.
const SCALE: f64 = f64::from_bits((1023 + 50) << 52);

impl Generator<'_> {
    /// The `HAVING` of `agg` over `chain` (written from `written_as`: the
    /// chain and scope it was generated from) tested with `cond`, or its
    /// complement where `negated`, as a [`CheckedSum`]; `None` where `agg`
    /// is not a decimal `sum` of distinct records, the dialect sums exactly
    /// in one pass, or the test is not a comparison with constants.
    pub(super) fn checked_sum(
        &mut self,
        agg: &Aggregate,
        written_as: (&Aggregate, &Scope),
        chain: &Chain,
        cond: &Cond,
        negated: bool,
    ) -> Result<Option<SqlExpr>> {
        let (chain_agg, chain_scope) = written_as;
        let is_decimal_sum = agg.function == AggregateFn::Sum
            && agg.value_type() == ValueType::Decimal
            && !agg.fans_in();
        if !self.dialect.checks_decimal_sums() || !is_decimal_sum {
            return Ok(None);
        }
        let constants = match cond {
            Cond::Cmp(_, c) => vec![self.operand_text(c)],
            Cond::Between(low, high) => vec![self.operand_text(low), self.operand_text(high)],
            _ => return Ok(None),
        };
        // The comparison as the generator writes it on any value: a sum is
        // never missing, so it is `<value> <op> <constants>`.
        const VALUE: &str = "\u{1}value";
        let test = match self.render_cond(cond.clone(), VALUE, VALUE, false, negated) {
            SqlExpr::Atom(written) => match written.of(&self.text).strip_prefix(VALUE) {
                Some(rest) => rest.trim_start().to_string(),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        // The chain again, its tables past the first copy's and its
        // subqueries', for the exact sum of one group.
        let past_first = Scope {
            entity: chain_scope.entity,
            depth: chain_scope.depth,
            next: chain_scope.next + chain_agg.chain.len(),
            joined: chain_scope.joined,
        };
        let Some(mut exact) = self.chain(chain_agg, &past_first)? else {
            return Ok(None);
        };
        // The groups' values are a derived table's columns (see
        // `CheckedSum`), which the exact sum meets by the group key.
        let alias = format!("c{}", chain_scope.next);
        let col = |name: &str| format!("{alias}.{name}");
        exact.rows.correlation = Some(self.written(&[&exact.key, " = ", &col(GROUP_KEY)]));
        let column = self.value_column(agg, &chain.last)?;
        let exact_column = self.value_column(agg, &exact.last)?;
        self.settings
            .extend_from_slice(self.dialect.settings_for_rare_fallbacks());

        let d = self.dialect;
        let double = |x: f64| format!("CAST('{x:?}' AS {})", d.column_type(&FieldType::Decimal));
        let clamp = double(CLAMP);
        // `NOT ... <` is true for NaN too; a NULL stays NULL (`LEAST` would
        // skip it, and make it the bound).
        let huge = format!("NOT ABS({column}) < {clamp}");
        let values = vec![
            (
                format!("COALESCE(SUM(CASE WHEN {huge} THEN 0 ELSE {column} END), 0)"),
                "quick",
            ),
            (
                format!("SUM(CASE WHEN {huge} THEN {clamp} ELSE ABS({column}) END)"),
                "size",
            ),
            ("COUNT(*)".to_string(), "n"),
        ];
        let (quick, size) = (col("quick"), col("size"));
        let rows = format!(
            "CAST({} AS {})",
            col("n"),
            d.column_type(&FieldType::Decimal)
        );
        let (far, scale, two) = (double(FAR), double(SCALE), double(2.0));
        let far_from = |c: &str| {
            format!(
                "LEAST(ABS({quick} - {c}), {far}) * {scale} > {two} * {rows} * {size} + ABS({c})"
            )
        };
        let mut far = vec![format!("{size} < {clamp}")];
        far.extend(constants.iter().map(|c| far_from(c)));
        Ok(Some(SqlExpr::CheckedSum(Box::new(CheckedSum {
            alias,
            values,
            zero: format!("COALESCE({size}, 0) = 0"),
            far,
            quick,
            exact: d.sum_decimals(&exact_column),
            rows: exact.rows,
            test,
        }))))
    }
}
