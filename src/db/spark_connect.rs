//! The Spark Connect driver (cargo feature `spark`): segments compiled for
//! the [`sql::Spark`] dialect, run with `spark.sql(sql, args)` through
//! Apache's Rust client (`apache-spark-connect`), which speaks Spark 4's
//! Connect protocol. Read-only: Spark has no transactions, and segql
//! changes no data there.
//!
//! The session is pinned as the dialect requires (time zone UTC, ANSI mode
//! on). The tables are the ones the session's current catalog and database
//! resolve, by the schema's table names: register the directories of
//! `segql export` there (`docs/export.md`).

use std::collections::HashMap;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use spark_connect::expression::{Expression, LiteralExpression};
use spark_connect::row::{Row, Value};
use spark_connect::types::DataType;
use spark_connect::{SparkError, SparkSession};
use spark_connect_core::ChannelBuilder;
use uuid::Uuid;

use super::layout::{self, CatalogColumn};
use super::spark::{read_only, redact_token};
use super::{Backend, Transaction};
use crate::error::{Error, Result};
use crate::eval::Store;
use crate::plan::{Plan, RecordValues};
use crate::schema::{Entity, Field, FieldType, Schema};
use crate::sql::{self, Dialect, SqlParam, SqlQuery};

/// How long opening waits for the server to accept a connection. The
/// client itself retries an unreachable server for minutes (as PySpark
/// does), which a command line should not.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// A Spark Connect session.
pub struct SparkBackend {
    session: SparkSession,
    /// The URL, its token left out, for messages.
    shown: String,
}

impl SparkBackend {
    /// Connects to the Spark Connect server at `spec`
    /// (`sc://HOST:PORT[/;param=value...]`, the URL form every Spark Connect
    /// client takes) and pins the session's time zone and ANSI mode.
    pub fn connect(spec: &str) -> Result<SparkBackend> {
        let shown = redact_token(spec);
        let unavailable = |why: String| Error::Unavailable {
            message: format!("cannot connect to Spark Connect at {shown}: {why}"),
        };
        let channel = ChannelBuilder::parse(spec).map_err(|e| unavailable(first_line(&e)))?;
        reachable(&channel.endpoint()).map_err(unavailable)?;
        let session = SparkSession::builder()
            .remote(spec)
            .get_or_create()
            .map_err(|e| unavailable(first_line(&e)))?;
        let conf = session.conf();
        for (key, value) in [
            ("spark.sql.session.timeZone", "UTC"),
            ("spark.sql.ansi.enabled", "true"),
        ] {
            conf.set(key, value)
                .map_err(|e| unavailable(first_line(&e)))?;
        }
        Ok(SparkBackend { session, shown })
    }

    /// The rows of `sql` with the compiled query's parameters bound.
    fn rows(
        &self,
        sql: &str,
        query: &SqlQuery,
        args: HashMap<String, Expression>,
    ) -> Result<Vec<Row>> {
        self.session
            .sql_with_args(sql, Vec::new(), args)
            .and_then(|frame| frame.collect())
            .map_err(|e| super::query_error(&sql::Spark, query, error(&e)))
    }

    fn query_rows(&self, query: &SqlQuery) -> Result<Vec<Row>> {
        self.rows(&query.sql, query, args(&query.params))
    }

    /// The columns of `table` with their Spark types; none when the
    /// session resolves no such table or view.
    fn columns(&self, table: &str) -> Result<Vec<CatalogColumn>> {
        let probe = format!("SELECT * FROM {}", sql::Spark.quote_ident(table));
        let schema = self.session.sql(&probe).and_then(|frame| frame.schema());
        match schema {
            Ok(DataType::Struct { fields }) => Ok(fields
                .into_iter()
                .map(|f| CatalogColumn {
                    name: f.name,
                    data_type: Some(f.data_type.simple_string()),
                })
                .collect()),
            Ok(other) => Err(Error::Database {
                message: format!("Spark describes the table '{table}' as {other:?}"),
            }),
            Err(e) if e.error_class.starts_with("TABLE_OR_VIEW_NOT_FOUND") => Ok(Vec::new()),
            Err(e) => Err(error(&e)),
        }
    }
}

/// That something accepts TCP connections at `endpoint` (`host:port`).
fn reachable(endpoint: &str) -> std::result::Result<(), String> {
    let addresses: Vec<_> = endpoint
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .collect();
    let mut last = format!("{endpoint} resolves to no address");
    for address in addresses {
        match TcpStream::connect_timeout(&address, CONNECT_WAIT) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("{address}: {e}"),
        }
    }
    Err(format!(
        "{last} (is a Spark Connect server running there? Spark's \
         sbin/start-connect-server.sh starts one, on port 15002 by default)"
    ))
}

impl Backend for SparkBackend {
    fn dialect(&self) -> &'static dyn Dialect {
        &sql::Spark
    }

    fn verify_layout(&mut self, schema: &Schema, plan: &Plan) -> Result<()> {
        layout::verify(schema, plan, &sql::Spark, catalog_types, |table| {
            self.columns(table)
        })
    }

    fn query_ids(&mut self, query: &SqlQuery) -> Result<Vec<Uuid>> {
        self.query_rows(query)?
            .iter()
            .map(|row| uuid_at(row, 0))
            .collect()
    }

    fn query_count(&mut self, query: &SqlQuery) -> Result<u64> {
        let rows = self.query_rows(query)?;
        let row = rows.first().ok_or_else(|| Error::Database {
            message: "a count query returned no row".into(),
        })?;
        super::count(integer_at(row, 0)?)
    }

    fn query_values(&mut self, query: &SqlQuery, columns: usize) -> Result<RecordValues> {
        let rows = self.query_rows(query)?;
        let mut out = RecordValues {
            ids: Vec::with_capacity(rows.len()),
            columns: vec![Vec::with_capacity(rows.len()); columns],
        };
        for row in &rows {
            out.ids.push(uuid_at(row, 0)?);
            for (i, column) in out.columns.iter_mut().enumerate() {
                column.push(integer_at(row, i + 1)?);
            }
        }
        Ok(out)
    }

    fn transaction(
        &mut self,
        _dry_run: bool,
        _work: &mut dyn FnMut(&mut dyn Transaction) -> Result<()>,
    ) -> Result<()> {
        Err(read_only(&self.shown))
    }

    fn execute_batch(&mut self, _statements: &str) -> Result<()> {
        Err(read_only(&self.shown))
    }

    /// One query for all the ids, passed as one parameter.
    fn records(
        &mut self,
        entity: &Entity,
        fields: &[&Field],
        ids: &[Uuid],
    ) -> Result<Vec<Vec<Option<String>>>> {
        if ids.is_empty() || fields.is_empty() {
            return Ok(vec![Vec::new(); ids.len()]);
        }
        let d = &sql::Spark;
        let key = d.quote_ident(&sql::column(entity, &entity.key)?);
        let columns: Vec<String> = fields.iter().map(|f| d.quote_ident(&f.column)).collect();
        let text = format!(
            "SELECT {} FROM {} WHERE {key} IN (SELECT explode(split(:ids, ','))) ORDER BY {key}",
            columns.join(", "),
            d.quote_ident(&entity.table),
        );
        // One text of comma-separated ids: the client's array literals lack
        // the type information Spark 4.3 asks of them
        // (CONNECT_INVALID_PLAN.ARRAY_LITERAL_MISSING_DATA_TYPE).
        let list = ids
            .iter()
            .map(|id| id.hyphenated().to_string())
            .collect::<Vec<_>>()
            .join(",");
        let list = LiteralExpression::String(list);
        let args = HashMap::from([("ids".to_string(), Expression::Literal(list))]);
        let query = SqlQuery {
            sql: text,
            params: Vec::new(),
            integer_sums: Vec::new(),
            settings: Vec::new(),
        };
        self.rows(&query.sql, &query, args)?
            .iter()
            .map(|row| {
                (0..fields.len())
                    .map(|i| stored_text(row.get(i).unwrap_or(&Value::Null)))
                    .collect()
            })
            .collect()
    }

    fn load_store(&mut self, _schema: &Schema, _plan: Option<&Plan>) -> Result<Store> {
        Err(Error::Unavailable {
            message: "the memory engine loads SQLite databases; on Spark use --engine sqlite \
                      (the SQL engine, the default)"
                .into(),
        })
    }
}

/// The Spark types segql reads a field's column as, the dialect's storage
/// type first (as Spark's `simpleString` names them).
fn catalog_types(ty: &FieldType) -> Vec<&'static str> {
    match ty {
        FieldType::Uuid | FieldType::Text => vec!["string"],
        FieldType::Integer => vec!["bigint", "int", "smallint", "tinyint"],
        FieldType::Choice(_) => vec!["int", "bigint", "smallint", "tinyint"],
        FieldType::Decimal => vec!["double"],
        FieldType::Bool => vec!["boolean"],
        FieldType::Date => vec!["date"],
        FieldType::DateTime => vec!["timestamp"],
    }
}

/// The named arguments of a compiled query: `params[0]` as `p1`, and so on
/// (the markers of [`sql::Spark`]'s `placeholder`). Dates and date-times go
/// as their ISO text, which the SQL casts.
fn args(params: &[SqlParam]) -> HashMap<String, Expression> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("p{}", i + 1), Expression::Literal(literal(p))))
        .collect()
}

fn literal(param: &SqlParam) -> LiteralExpression {
    match param {
        SqlParam::Bool(b) => LiteralExpression::Boolean(*b),
        SqlParam::Integer(i) => LiteralExpression::Long(*i),
        SqlParam::Real(x) => LiteralExpression::Double(*x),
        SqlParam::Text(s) => LiteralExpression::String(s.clone()),
        SqlParam::Uuid(u) => LiteralExpression::String(u.hyphenated().to_string()),
        SqlParam::Date(d) => LiteralExpression::String(d.format("%Y-%m-%d").to_string()),
        SqlParam::DateTime(t) => {
            LiteralExpression::String(t.format(sql::sqlite::DATETIME_FORMAT).to_string())
        }
    }
}

fn uuid_at(row: &Row, i: usize) -> Result<Uuid> {
    match row.get(i) {
        Some(Value::String(text)) => Uuid::parse_str(text).map_err(|_| Error::Database {
            message: format!("Spark returned '{text}' where a uuid was expected"),
        }),
        other => Err(Error::Database {
            message: format!("Spark returned {other:?} where a uuid (as text) was expected"),
        }),
    }
}

fn integer_at(row: &Row, i: usize) -> Result<i64> {
    match row.get(i) {
        Some(Value::Long(v)) => Ok(*v),
        Some(Value::Integer(v)) => Ok(i64::from(*v)),
        Some(Value::Short(v)) => Ok(i64::from(*v)),
        Some(Value::Byte(v)) => Ok(i64::from(*v)),
        other => Err(Error::Database {
            message: format!("Spark returned {other:?} where an integer was expected"),
        }),
    }
}

/// A value in the text form the SQLite layout stores (what
/// [`Backend::records`] promises): date-times as `YYYY-MM-DDTHH:MM:SSZ`.
fn stored_text(value: &Value) -> Result<Option<String>> {
    let unexpected = || Error::Database {
        message: format!("Spark returned {value:?}, which segql does not read"),
    };
    Ok(Some(match value {
        Value::Null => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Byte(v) => v.to_string(),
        Value::Short(v) => v.to_string(),
        Value::Integer(v) => v.to_string(),
        Value::Long(v) => v.to_string(),
        Value::Float(v) => v.to_string(),
        Value::Double(v) => v.to_string(),
        Value::Date(days) => NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(*days))))
            .ok_or_else(unexpected)?
            .format("%Y-%m-%d")
            .to_string(),
        Value::Timestamp(micros) => {
            let at = DateTime::from_timestamp_micros(*micros).ok_or_else(unexpected)?;
            if micros % 1_000_000 == 0 {
                at.format(sql::sqlite::DATETIME_FORMAT).to_string()
            } else {
                at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            }
        }
        _ => return Err(unexpected()),
    }))
}

/// A Spark error as a database error: its first line (the error class and
/// message; the plan Spark appends is left out).
fn error(e: &SparkError) -> Error {
    Error::Database {
        message: first_line(e),
    }
}

fn first_line(e: &SparkError) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default().trim();
    // The client prefixes the class to a message that already starts with it.
    let class = format!("[{}] ", e.error_class);
    match line.strip_prefix(&class) {
        Some(rest) if !e.error_class.is_empty() && rest.starts_with(&class) => rest.to_string(),
        _ => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_named_and_dates_sent_as_text() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let at = day.and_hms_opt(12, 0, 0).unwrap().and_utc();
        let args = args(&[
            SqlParam::Integer(3),
            SqlParam::Date(day),
            SqlParam::DateTime(at),
        ]);
        let get = |k: &str| match &args[k] {
            Expression::Literal(l) => l.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(get("p1"), LiteralExpression::Long(3));
        assert_eq!(get("p2"), LiteralExpression::String("2026-01-15".into()));
        assert_eq!(
            get("p3"),
            LiteralExpression::String("2026-01-15T12:00:00Z".into())
        );
    }

    #[test]
    fn values_come_back_in_the_stored_text_forms() {
        let text = |v: Value| stored_text(&v).unwrap();
        assert_eq!(text(Value::Null), None);
        assert_eq!(text(Value::Date(20468)).as_deref(), Some("2026-01-15"));
        assert_eq!(
            text(Value::Timestamp(1_714_521_600_000_000)).as_deref(),
            Some("2024-05-01T00:00:00Z")
        );
        assert_eq!(text(Value::Bool(true)).as_deref(), Some("true"));
        assert_eq!(text(Value::Double(0.5)).as_deref(), Some("0.5"));
        assert!(stored_text(&Value::List(Vec::new())).is_err());
    }

    #[test]
    fn nothing_listening_fails_at_once() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let started = std::time::Instant::now();
        let err = SparkBackend::connect(&format!("sc://127.0.0.1:{port}"))
            .err()
            .unwrap();
        assert!(started.elapsed() < CONNECT_WAIT, "{:?}", started.elapsed());
        let message = err.to_string();
        assert!(
            message.contains("cannot connect to Spark Connect"),
            "{message}"
        );
        assert!(message.contains("start-connect-server.sh"), "{message}");
    }
}
