//! The PostgreSQL driver (the `postgres` crate), over the [`sql::Postgres`]
//! dialect.
//!
//! Compiled queries bind their parameters with their own PostgreSQL types.
//! Data-changing statements receive every value as text and cast it in the
//! statement ([`Dialect::text_param`]), which keeps us independent of
//! optional type features of the crate and lets the server convert to
//! whatever column type it has. Transactions set `lock_timeout` to
//! [`LOCK_WAIT`] and lock the tables they change against other writers.

use std::borrow::BorrowMut;

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{Client, GenericClient};
use uuid::Uuid;

use super::layout::{self, CatalogColumn};
use super::{Access, Backend, Driver, Param, Relation, TableIndex, Transaction, LOCK_WAIT};
use crate::error::{Error, Result};
use crate::eval::Store;
use crate::plan::Plan;
use crate::plan::RecordValues;
use crate::schema::{Entity, Field, FieldType, Schema};
use crate::sql::{self, root_or_counts, Dialect, RootOrCounts, SqlOptions, SqlParam, SqlQuery};

pub(super) const DRIVER: Driver = Driver {
    name: "postgres",
    dialect: &sql::Postgres,
    schemes: &["postgresql://", "postgres://"],
    open,
};

/// A PostgreSQL database: an owned [`Client`] or a borrowed one
/// (`PostgresBackend::new(&mut client)`).
pub struct PostgresBackend<C: BorrowMut<Client> = Client> {
    client: C,
}

impl<C: BorrowMut<Client>> PostgresBackend<C> {
    pub fn new(client: C) -> Self {
        PostgresBackend { client }
    }

    /// The client.
    pub fn client(&mut self) -> &mut Client {
        self.client.borrow_mut()
    }

    /// How the counted `has` under `plan`'s root `or` (if any) are best
    /// tested on this database's data, at reference time `now` (see
    /// [`sql::root_or_counts`]): the groups, unless the catalog's sizes
    /// make their hash dear and a count of the records that reach them
    /// (over a sample of a large table) finds those few enough to count
    /// per row. A table without
    /// statistics (never `ANALYZE`d) keeps the groups, the form `compile`
    /// writes.
    pub fn root_or_counts(
        &mut self,
        schema: &Schema,
        plan: &Plan,
        now: DateTime<Utc>,
    ) -> Result<RootOrCounts> {
        let Some(question) = root_or_counts::question(plan, schema, &sql::Postgres)? else {
            return Ok(RootOrCounts::Groups);
        };
        let tables: Vec<&str> = std::iter::once(&question.root_table)
            .chain(&question.child_tables)
            .map(String::as_str)
            .collect();
        let Some(rows) = self.estimated_rows(&tables)? else {
            return Ok(RootOrCounts::Groups);
        };
        let (root_rows, child_rows) = (rows[0], &rows[1..]);
        if !root_or_counts::worth_counting(root_rows, child_rows) {
            return Ok(RootOrCounts::Groups);
        }
        let reaching = match &question.reach {
            None => root_rows,
            Some(reach) => {
                let percent = root_or_counts::sample_percent(root_rows);
                let query = root_or_counts::reach_query(reach, schema, now, percent)?;
                root_or_counts::estimate(self.query_count(&query)?, percent)
            }
        };
        Ok(root_or_counts::choose(reaching, child_rows))
    }

    /// The catalog's estimates of the rows of `tables` (`pg_class.reltuples`,
    /// as `ANALYZE` and `VACUUM` leave them), in one round trip; `None` where
    /// one has none: never analyzed, empty, or not found on the search path
    /// ([`PostgresBackend::root_or_counts`] reads them).
    pub fn estimated_rows(&mut self, tables: &[&str]) -> Result<Option<Vec<f64>>> {
        let rows = self
            .client()
            .query(
                "SELECT (SELECT reltuples::float8 FROM pg_catalog.pg_class \
                 WHERE oid = to_regclass(quote_ident(t.name))) \
                 FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) ORDER BY t.n",
                &[&tables],
            )
            .map_err(error)?;
        rows.iter()
            .map(|row| {
                let rows: Option<f64> = row.try_get(0).map_err(error)?;
                Ok(rows.filter(|rows| *rows > 0.0))
            })
            .collect::<Result<Option<Vec<f64>>>>()
    }
}

/// Connects to the database at the URL `spec` (without TLS). PostgreSQL
/// has no read-only connection; `access` is what the caller will do.
fn open(spec: &str, _access: Access) -> Result<Box<dyn Backend>> {
    let client = Client::connect(spec, postgres::NoTls).map_err(|e| Error::Unavailable {
        message: format!(
            "cannot connect to PostgreSQL at {}: {}",
            redact_password(spec),
            with_causes(&e)
        ),
    })?;
    Ok(Box::new(PostgresBackend::new(client)))
}

/// An error and its chain of causes, `outer: inner: innermost`: the
/// driver's own message ("error connecting to server") says nothing of why
/// (refused, unknown host, bad password), which its sources do.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A connection string fit for an error message: the password of a URL
/// (`postgresql://user:secret@host`) or of a `password=secret` setting
/// replaced by `***`, so messages can be pasted into tickets and logs.
fn redact_password(spec: &str) -> String {
    if let Some(scheme_end) = spec.find("://") {
        let rest = &spec[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                let start = scheme_end + 3 + colon + 1;
                let end = scheme_end + 3 + at;
                return format!("{}***{}", &spec[..start], &spec[end..]);
            }
        }
        return redact_setting(spec);
    }
    redact_setting(spec)
}

/// `password=...` (in a key=value string or a URL's query) as `password=***`.
fn redact_setting(spec: &str) -> String {
    let lower = spec.to_ascii_lowercase();
    match lower.find("password=") {
        Some(i) => {
            let value_start = i + "password=".len();
            let value_end = spec[value_start..]
                .find([' ', '&'])
                .map_or(spec.len(), |end| value_start + end);
            format!("{}***{}", &spec[..value_start], &spec[value_end..])
        }
        None => spec.to_string(),
    }
}

impl<C: BorrowMut<Client>> Backend for PostgresBackend<C> {
    fn dialect(&self) -> &'static dyn Dialect {
        &sql::Postgres
    }

    fn verify_layout(&mut self, schema: &Schema, plan: &Plan) -> Result<()> {
        verify_layout(self.client(), schema, plan)
    }

    fn query_ids(&mut self, query: &SqlQuery) -> Result<Vec<Uuid>> {
        let rows = rows_with_settings(self.client(), query)?;
        rows.iter()
            .map(|row| row.try_get::<_, Uuid>(0).map_err(error))
            .collect()
    }

    fn query_values(&mut self, query: &SqlQuery, columns: usize) -> Result<RecordValues> {
        let rows = rows_with_settings(self.client(), query)?;
        let mut out = RecordValues {
            ids: Vec::with_capacity(rows.len()),
            columns: vec![Vec::with_capacity(rows.len()); columns],
        };
        for row in &rows {
            out.ids.push(row.try_get::<_, Uuid>(0).map_err(error)?);
            for (i, column) in out.columns.iter_mut().enumerate() {
                // COUNT is a bigint, a CASE of small literals an integer.
                let value = row
                    .try_get::<_, i64>(i + 1)
                    .or_else(|_| row.try_get::<_, i32>(i + 1).map(i64::from))
                    .map_err(error)?;
                column.push(value);
            }
        }
        Ok(out)
    }

    /// The SQL of [`sql::to_sql`], with the counts under a root `or`
    /// tested as this database's data makes fastest
    /// ([`PostgresBackend::root_or_counts`]).
    fn compile_query(
        &mut self,
        schema: &Schema,
        plan: &Plan,
        mut options: SqlOptions,
    ) -> Result<SqlQuery> {
        options.root_or_counts = self.root_or_counts(schema, plan, options.now)?;
        sql::to_sql(plan, schema, &sql::Postgres, &options)
    }

    fn query_count(&mut self, query: &SqlQuery) -> Result<u64> {
        let rows = rows_with_settings(self.client(), query)?;
        let row = rows.first().ok_or_else(|| Error::Database {
            message: "a count query returned no row".into(),
        })?;
        super::count(row.try_get(0).map_err(error)?)
    }

    fn indexes(&mut self, table: &str) -> Result<Vec<TableIndex>> {
        indexes(self.client(), table)
    }

    /// A table `ANALYZE` (or autovacuum) has gathered statistics on has
    /// rows in `pg_stats`.
    fn has_statistics(&mut self, table: &str) -> Result<bool> {
        let row = self
            .client()
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_stats \
                 WHERE tablename = $1 AND schemaname = ANY (current_schemas(false)))",
                &[&table],
            )
            .map_err(error)?;
        row.try_get(0).map_err(error)
    }

    fn transaction(
        &mut self,
        dry_run: bool,
        work: &mut dyn FnMut(&mut dyn Transaction) -> Result<()>,
    ) -> Result<()> {
        // One snapshot for the whole run (see `Transaction::lock_for_writing`):
        // statements that read the tables it does not lock (scores of several
        // models, the counts of its report) agree with each other.
        let mut tx = self
            .client()
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .start()
            .map_err(error)?;
        tx.batch_execute(&format!(
            "SET LOCAL lock_timeout = '{}ms'",
            LOCK_WAIT.as_millis()
        ))
        .map_err(error)?;
        work(&mut PgTx(&mut tx))?;
        if dry_run {
            tx.rollback().map_err(error)
        } else {
            tx.commit().map_err(error)
        }
    }

    fn execute_batch(&mut self, statements: &str) -> Result<()> {
        let mut tx = self.client().transaction().map_err(error)?;
        tx.batch_execute(statements).map_err(error)?;
        tx.commit().map_err(error)
    }

    fn records(
        &mut self,
        entity: &Entity,
        fields: &[&Field],
        ids: &[Uuid],
    ) -> Result<Vec<Vec<Option<String>>>> {
        let d = &sql::Postgres;
        let key = d.quote_ident(&sql::column(entity, &entity.key)?);
        let columns: Vec<String> = fields
            .iter()
            .map(|f| {
                let column = d.quote_ident(&f.column);
                match f.ty {
                    FieldType::DateTime => {
                        format!(
                            "to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                        )
                    }
                    _ => format!("{column}::text"),
                }
            })
            .collect();
        let text = format!(
            "SELECT {} FROM {} WHERE {key}::text = ANY($1) ORDER BY {key}",
            columns.join(", "),
            d.quote_ident(&entity.table),
        );
        let id_list: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        text_rows(&self.client().query(&text, &[&id_list]).map_err(error)?)
    }

    fn scan(
        &mut self,
        entity: &Entity,
        fields: &[&Field],
        each: &mut dyn FnMut(super::Row<'_>) -> Result<()>,
    ) -> Result<()> {
        super::scan::postgres(self.client(), entity, fields, each)
    }

    fn load_store(&mut self, _schema: &Schema, _plan: Option<&Plan>) -> Result<Store> {
        Err(Error::Unavailable {
            message: "the memory engine loads SQLite databases; use --engine sqlite with a postgresql:// URL".into(),
        })
    }
}

/// Checks that the database (tables on the search path) has every table and
/// column `plan` uses, with the types segql binds (SPEC §3.1).
fn verify_layout(client: &mut impl GenericClient, schema: &Schema, plan: &Plan) -> Result<()> {
    let stmt = client
        .prepare(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_name = $1 AND table_schema = ANY (current_schemas(false))",
        )
        .map_err(error)?;
    layout::verify(schema, plan, &sql::Postgres, catalog_types, |table| {
        let rows = client.query(&stmt, &[&table]).map_err(error)?;
        rows.iter()
            .map(|r| {
                Ok(CatalogColumn {
                    name: r.try_get(0).map_err(error)?,
                    data_type: Some(r.try_get(1).map_err(error)?),
                })
            })
            .collect()
    })
}

/// The indexes of `table` (the first of that name on the `search_path`)
/// without the partial ones, from `pg_index`: the key columns (not those
/// of `INCLUDE`); an expression's column has no name.
fn indexes(client: &mut impl GenericClient, table: &str) -> Result<Vec<TableIndex>> {
    let rows = client
        .query(
            "SELECT i.relname::text, a.attname::text \
             FROM pg_catalog.pg_index x \
             JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid \
             CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) \
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum \
             WHERE x.indrelid = to_regclass(quote_ident($1)) AND x.indpred IS NULL \
               AND k.n <= x.indnkeyatts \
             ORDER BY i.relname, k.n",
            &[&table],
        )
        .map_err(error)?;
    let mut found: Vec<TableIndex> = Vec::new();
    for row in &rows {
        let name: String = row.try_get(0).map_err(error)?;
        let column: Option<String> = row.try_get(1).map_err(error)?;
        match found.last_mut() {
            Some(index) if index.name == name => index.columns.push(column),
            _ => found.push(TableIndex {
                name,
                columns: vec![column],
            }),
        }
    }
    Ok(found)
}

/// The `information_schema` type names whose values segql can bind and read
/// for a field type: the dialect's column type in the catalog's spelling
/// first, then what also works.
fn catalog_types(ty: &FieldType) -> Vec<&'static str> {
    match sql::Postgres.column_type(ty) {
        "timestamptz" => vec!["timestamp with time zone"],
        "text" => vec!["text", "character varying", "character"],
        other => vec![other],
    }
}

/// The rows of `query`, run with its session settings
/// ([`SqlQuery::settings`]) where it has any: `SET LOCAL` in a transaction
/// of its own, so they end with it.
fn rows_with_settings(client: &mut Client, query: &SqlQuery) -> Result<Vec<postgres::Row>> {
    if query.settings.is_empty() {
        return query_rows(client, query);
    }
    // The transaction's end ends the settings: nothing to restore.
    let mut tx = client.transaction().map_err(error)?;
    for (name, value) in &query.settings {
        set_local(&mut tx, name, value)?;
    }
    let rows = query_rows(&mut tx, query)?;
    tx.commit().map_err(error)?;
    Ok(rows)
}

/// `run` with the session settings of `query` in force, inside the open
/// transaction of `client` (a command's, which goes on), and the settings
/// as they were afterwards.
fn with_settings<C: GenericClient, T>(
    client: &mut C,
    query: &SqlQuery,
    run: impl FnOnce(&mut C, &SqlQuery) -> Result<T>,
) -> Result<T> {
    let mut before = Vec::with_capacity(query.settings.len());
    for (name, value) in &query.settings {
        let row = client
            .query_one("SELECT current_setting($1)", &[name])
            .map_err(error)?;
        before.push((*name, row.try_get::<_, String>(0).map_err(error)?));
        set_local(client, name, value)?;
    }
    let out = run(client, query)?;
    for (name, value) in &before {
        set_local(client, name, value)?;
    }
    Ok(out)
}

/// A setting until the end of the transaction.
fn set_local(client: &mut impl GenericClient, name: &str, value: &str) -> Result<()> {
    client
        .execute("SELECT set_config($1, $2, true)", &[&name, &value])
        .map_err(error)?;
    Ok(())
}

fn query_rows(client: &mut impl GenericClient, query: &SqlQuery) -> Result<Vec<postgres::Row>> {
    client
        .query(query.sql.as_str(), &params(query))
        .map_err(|e| super::query_error(&sql::Postgres, query, error(e)))
}

fn params(query: &SqlQuery) -> Vec<&(dyn ToSql + Sync)> {
    query.params.iter().map(param).collect()
}

/// A compiled query's parameter, bound with its own PostgreSQL type.
fn param(p: &SqlParam) -> &(dyn ToSql + Sync) {
    match p {
        SqlParam::Bool(b) => b,
        SqlParam::Integer(i) => i,
        SqlParam::Real(x) => x,
        SqlParam::Text(s) => s,
        SqlParam::Uuid(u) => u,
        SqlParam::Date(d) => d,
        SqlParam::DateTime(t) => t,
    }
}

/// A statement's parameter as the text the statement casts.
fn param_text(p: &Param) -> Option<String> {
    match p {
        Param::Null => None,
        Param::Int(i) => Some(i.to_string()),
        // Rust prints the shortest text that reads back as the same f64.
        Param::Real(r) => Some(r.to_string()),
        Param::Bool(b) => Some(b.to_string()),
        Param::Text(t) => Some(t.clone()),
    }
}

/// Rows whose columns are all text (or NULL).
fn text_rows(rows: &[postgres::Row]) -> Result<Vec<Vec<Option<String>>>> {
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| row.try_get::<_, Option<String>>(i).map_err(error))
                .collect()
        })
        .collect()
}

/// A database error from PostgreSQL: the server's own message (with its
/// detail), which says more than the client's summary, and a plain message
/// for a lock timeout.
pub(crate) fn error(e: postgres::Error) -> Error {
    let lock = e
        .code()
        .is_some_and(|c| *c == postgres::error::SqlState::LOCK_NOT_AVAILABLE);
    let message = if lock {
        format!(
            "a table is locked by another writer (waited {} s); nothing was changed; try again once the other writer has finished",
            LOCK_WAIT.as_secs()
        )
    } else {
        match e.as_db_error() {
            Some(db) => match db.detail() {
                Some(detail) => format!("{}: {}", db.message(), detail),
                None => db.message().to_string(),
            },
            None => e.to_string(),
        }
    };
    Error::Database { message }
}

/// PostgreSQL inside an open transaction.
struct PgTx<'a, 'b>(&'a mut postgres::Transaction<'b>);

impl Transaction for PgTx<'_, '_> {
    fn dialect(&self) -> &'static dyn Dialect {
        &sql::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let texts: Vec<Option<String>> = params.iter().map(param_text).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            texts.iter().map(|t| t as &(dyn ToSql + Sync)).collect();
        self.0.execute(sql, &refs).map_err(error)
    }

    fn query_text(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Option<String>>>> {
        let texts: Vec<Option<String>> = params.iter().map(param_text).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            texts.iter().map(|t| t as &(dyn ToSql + Sync)).collect();
        text_rows(&self.0.query(sql, &refs).map_err(error)?)
    }

    fn fill_numbered_ids(&mut self, table: &str, ids: &[Uuid]) -> Result<()> {
        self.0
            .batch_execute(&format!(
                "CREATE TEMP TABLE {table} (n bigint PRIMARY KEY, id uuid) ON COMMIT DROP"
            ))
            .map_err(error)?;
        let texts: Vec<String> = ids.iter().map(|u| u.hyphenated().to_string()).collect();
        // One statement for the whole list.
        self.0
            .execute(
                &format!(
                    "INSERT INTO pg_temp.{table} (n, id) \
                     SELECT n, CAST(id AS uuid) FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n)"
                ),
                &[&texts],
            )
            .map_err(error)?;
        Ok(())
    }

    fn query_count(&mut self, query: &SqlQuery) -> Result<u64> {
        let rows = with_settings(self.0, query, query_rows)?;
        let row = rows.first().ok_or_else(|| Error::Database {
            message: "a count query returned no row".into(),
        })?;
        super::count(row.try_get(0).map_err(error)?)
    }

    fn execute_query(&mut self, sql: &str, query: &SqlQuery) -> Result<u64> {
        with_settings(self.0, query, |client, query| {
            client
                .execute(sql, &params(query))
                .map_err(|e| super::query_error(&sql::Postgres, query, error(e)))
        })
    }

    fn fill_ids_from_query(&mut self, table: &str, query: &SqlQuery) -> Result<u64> {
        self.0
            .batch_execute(&format!(
                "CREATE TEMP TABLE {table} (id uuid PRIMARY KEY) ON COMMIT DROP"
            ))
            .map_err(error)?;
        let insert = format!(
            "INSERT INTO pg_temp.{table} (id) SELECT * FROM ({}) AS s",
            query.sql
        );
        let n = with_settings(self.0, query, |client, query| {
            client
                .execute(&insert, &params(query))
                .map_err(|e| super::query_error(&sql::Postgres, query, error(e)))
        })?;
        // Temporary tables are never analyzed automatically.
        self.0
            .batch_execute(&format!("ANALYZE pg_temp.{table}"))
            .map_err(error)?;
        Ok(n)
    }

    fn columns(&mut self, table: &str) -> Result<Option<Vec<String>>> {
        let rows = self.query_text(
            "SELECT CAST(column_name AS text) FROM information_schema.columns \
             WHERE table_name = $1::text AND table_schema = ANY (current_schemas(false))",
            &[Param::Text(table.to_string())],
        )?;
        Ok(super::names(rows))
    }

    fn lock_for_writing(&mut self, tables: &[&str]) -> Result<()> {
        let lock = format!(
            "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
            tables.join(", ")
        );
        self.0.batch_execute(&lock).map_err(|e| {
            if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) {
                let reason = e
                    .as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_string());
                Error::Database {
                    message: format!(
                        "cannot lock {} for writing: {reason}; nothing was changed",
                        tables.join(", ")
                    ),
                }
            } else {
                error(e)
            }
        })
    }

    fn verify_layout(&mut self, schema: &Schema, plan: &Plan) -> Result<()> {
        verify_layout(self.0, schema, plan)
    }

    /// What readers who write the bare name get: the relation the
    /// `search_path` resolves it to (`pg_catalog` and temporary tables
    /// included). A view counts as replaceable only in the schema new views
    /// go to (`current_schema()`); one elsewhere would be hidden or hide.
    fn relation(&mut self, name: &str) -> Result<Option<Relation>> {
        let rows = self.query_text(
            "SELECT CAST(c.relkind AS text), \
                    CAST(n.nspname = current_schema() AS text), \
                    CAST(n.nspname AS text), CAST(current_schema() AS text) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid = to_regclass(quote_ident($1::text))",
            &[Param::Text(name.to_string())],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let (kind, here, schema, current) = (field(0), field(1) == "true", field(2), field(3));
        Ok(Some(match kind.as_str() {
            "r" | "p" | "f" => Relation::Table,
            "v" if here => Relation::View,
            "v" => Relation::Other(format!(
                "view of schema {schema}, which a view made in schema {current} would hide or be hidden by"
            )),
            "m" => Relation::Other("materialized view".into()),
            "i" | "I" => Relation::Other("index".into()),
            "S" => Relation::Other("sequence".into()),
            "c" => Relation::Other("composite type".into()),
            other => Relation::Other(format!("relation of kind '{other}'")),
        }))
    }

    /// PostgreSQL records what each view reads: a view's rewrite rule
    /// depends on every relation its query names.
    fn dependent_views(&mut self, name: &str) -> Result<Vec<String>> {
        let rows = self.query_text(
            "SELECT DISTINCT CAST(CAST(r.ev_class AS regclass) AS text) \
             FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid \
             WHERE d.classid = CAST('pg_rewrite' AS regclass) \
               AND d.refclassid = CAST('pg_class' AS regclass) \
               AND d.refobjid = to_regclass(quote_ident($1::text)) \
               AND r.ev_class <> d.refobjid \
             ORDER BY 1",
            &[Param::Text(name.to_string())],
        )?;
        Ok(super::names(rows).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_never_reach_error_messages() {
        assert_eq!(
            redact_password("postgresql://ann:s3cret@db.example:5432/crm"),
            "postgresql://ann:***@db.example:5432/crm"
        );
        assert_eq!(
            redact_password("postgresql://ann@db/crm?password=s3cret&sslmode=disable"),
            "postgresql://ann@db/crm?password=***&sslmode=disable"
        );
        assert_eq!(
            redact_password("host=db user=ann password=s3cret dbname=crm"),
            "host=db user=ann password=*** dbname=crm"
        );
        assert_eq!(
            redact_password("postgresql://db/crm"),
            "postgresql://db/crm"
        );
    }
}
