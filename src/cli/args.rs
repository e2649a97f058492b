//! The command-line grammar (clap derive). Every command's help ends with
//! examples that run on the built-in demo data (or on `crm.db` made by
//! `segql demo`); `tests/it/cli/help_examples.rs` runs every one of them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "segql",
    version,
    about = "Segments for CRM and marketing data: check, compile to SQL, run",
    after_help = "A QUERY is given as an argument, with -f FILE, or as - to read standard input.\n\
                  Exit codes: 0 success, 1 query error, 2 usage or I/O error.\n\
                  The language: docs/language.md in the source repository.\n\
                  \n\
                  Examples:\n  \
                  segql schema contact\n  \
                  segql check 'contact where role = \"decision maker\" and has lead(score >= 50)'\n  \
                  segql run --count 'contact where has lead(status = \"Open\") and not do_not_email'"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Schema file (TOML); the built-in CRM schema when absent.
    #[arg(long, global = true, value_name = "FILE")]
    pub schema: Option<PathBuf>,

    /// Segment library file with `segment NAME = query` definitions, for `in NAME`.
    #[arg(long, global = true, value_name = "FILE")]
    pub library: Option<PathBuf>,

    /// Print no notes on standard error (e.g. that the built-in demo data is used).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and check a query, a library or a scoring model file; prints nothing but errors.
    #[command(after_help = "Examples:\n  \
        segql check 'contact where role = \"decision maker\" and has lead(topic = \"Contoso Ltd Conference\")'\n  \
        segql check 'lead where contact.account.industry = \"Retail\" and score >= 50'\n  \
        segql check 'contact where count(lead(source = \"Trade Show\")) >= 2 and birth_date < 1990-01-01'")]
    Check(CheckArgs),
    /// Print the canonical formatting of a query or library.
    #[command(after_help = "Examples:\n  \
        segql fmt 'CONTACT WHERE Role=\"employee\" AND NOT do_not_email'\n  \
        segql fmt 'lead where STATUS in [\"open\",\"qualified\",] and has contact'")]
    Fmt(QueryInput),
    /// Compile a query to SQL with bind parameters.
    #[command(after_help = "Examples:\n  \
        segql compile 'contact where has lead(status = \"Open\")'\n  \
        segql compile --dialect postgres --format json 'lead where created_on >= now - 30d'\n  \
        segql compile --count --guard email 'contact where consent_level >= \"Marketing\"'")]
    Compile(CompileArgs),
    /// Evaluate a query against a database (the built-in demo data without --db).
    #[command(after_help = "Examples:\n  \
        segql run --limit 5 'contact where role = \"Decision Maker\" and city is not null'\n  \
        segql run --count --now 2026-01-15T12:00:00Z 'contact where max(interaction(type = \"Email Opened\").occurred_on) < now - 90d'\n  \
        segql run --engine memory --format ids --guard email --limit 3 'contact where has at least 2 lead'")]
    Run(RunArgs),
    /// Show the plan before and after optimization, and the SQL.
    #[command(after_help = "Examples:\n  \
        segql explain 'contact where not (has lead or has lead(score > 10))'\n  \
        segql explain --format json 'lead where contact.account.industry = \"Retail\"'\n  \
        segql explain --db crm.db --counts 'contact where role = \"Decision Maker\" and has lead(status = \"Open\")'")]
    Explain(ExplainArgs),
    /// Say whether one record is in a segment, and why: each node's verdict and the facts.
    #[command(
        after_help = "The first line is `in` or `out` (exit 0 for both); then the optimized plan\n\
        as a tree, each node true or false for the record, with the field's value or,\n\
        for `has` and aggregates, the count or value and up to three related ids.\n\
        \n\
        Examples (crm.db as made by `segql demo --out crm.db`):\n  \
        segql why --db crm.db 007dbdd2-5f5f-4935-a29d-bea0cd1c8e24 'contact where role = \"Decision Maker\" or has lead(status = \"Open\")'\n  \
        segql why --db crm.db --format json 007dbdd2-5f5f-4935-a29d-bea0cd1c8e24 'contact where count(lead) >= 2'"
    )]
    Why(WhyArgs),
    /// Print the indexes (and ANALYZE) a database needs for segments; changes nothing.
    #[command(
        after_help = "Prints SQL to run on the database: a `CREATE INDEX IF NOT EXISTS` per index\n\
        the segments would search and the database lacks, each after comments naming the\n\
        segments and predicates that need it, then `ANALYZE;` when the planner lacks\n\
        statistics. Indexes: the foreign key of every relationship walked; for a `has` or\n\
        aggregate with field tests, the child's equality-tested fields, one range-tested\n\
        field, then the foreign key; a top-level field test of the segment keeping at most\n\
        5% of the rows. With no QUERY: every segment of --library, or without one the\n\
        foreign keys of every relationship. The database is opened read-only.\n\
        \n\
        Examples (crm.db as made by `segql demo --out crm.db`):\n  \
        segql advise --db crm.db 'contact where has at least 3 interaction(type = \"Email Opened\" and occurred_on >= now - 30d)'\n  \
        segql advise --db crm.db --format json 'contact where has lead(topic = \"Contoso Ltd Conference\")' 'lead where score >= 90'"
    )]
    Advise(AdviseArgs),
    /// Write a deterministic demo database in the default layout.
    #[command(after_help = "Examples:\n  \
        segql demo --out crm.db --contacts 200\n  \
        segql demo --out crm.db --contacts 200 --leads-csv leads.csv --leads-csv-rows 50\n  \
        segql demo --out crm.db --contacts 200 --seed 7 --now 2026-01-15T12:00:00Z")]
    Demo(DemoArgs),
    /// Give every orphaned lead (no parent contact) a contact.
    #[command(
        after_help = "A lead with no contact is linked to a contact with the same email\n\
        (trimmed, any ASCII case; one that is not marketing-only first, then the oldest),\n\
        or else to a new marketing-only contact made from the lead; leads without an\n\
        email are left alone and counted. One transaction; a second run changes nothing.\n\
        \n\
        Examples (crm.db as made by `segql demo --out crm.db`):\n  \
        segql link-orphans --db crm.db --dry-run\n  \
        segql link-orphans --db crm.db --format json"
    )]
    LinkOrphans(LinkOrphansArgs),
    /// Set fields on every record of a segment, in one transaction.
    #[command(
        after_help = "Values are written as in queries; `null` empties a field.\n\
        \n\
        Examples (crm.db as made by `segql demo --out crm.db`):\n  \
        segql update --db crm.db --dry-run --set marketing_only=false 'contact where marketing_only and has lead(status = \"Qualified\")'\n  \
        segql update --db crm.db --set 'role=\"Decision Maker\",city=null' 'contact where job_title contains \"chief\"'"
    )]
    Update(UpdateArgs),
    /// Score every lead by the models of a scoring model file, in one transaction.
    #[command(after_help = "Examples (crm.db from `segql demo --out crm.db`):\n  \
        segql score --db crm.db --models examples/scoring.segql --now 2026-01-15T12:00:00Z\n  \
        segql score --db crm.db --models examples/scoring.segql --dry-run --format json\n\n\
        --explain LEAD_ID prints, for one lead, each rule with its count and points, the total,\n\
        the score, the grade and the threshold.")]
    Score(ScoreArgs),
    /// Keep the members of library segments in a table and record who joined and who left.
    #[command(
        after_help = "Each segment of --library (or each NAME) is computed; its members are kept in\n\
        table segment_member (segment, record_id, since) and every record that joined\n\
        or left since the last refresh is appended to segment_change (seq, segment,\n\
        record_id, change, at), seq increasing. Both tables are created when missing.\n\
        One transaction; a second refresh of the same data and --now changes nothing.\n\
        \n\
        Examples (crm.db as made by `segql demo --out crm.db`):\n  \
        segql refresh --db crm.db --library examples/segments.segql --now 2026-01-15T12:00:00Z\n  \
        segql refresh --db crm.db --library examples/segments.segql --dry-run --format json decision_makers"
    )]
    Refresh(RefreshArgs),
    /// Create or replace a database view holding a segment's records, or drop one.
    #[command(
        after_help = "The view has every column of the segment's entity (stored values: choice\n\
        codes, not labels). Literals are written into it escaped; `now` and `today`\n\
        are the database's clock whenever the view is read (`today` is the UTC\n\
        date), so `now - 30d` slides with time. A name that is a table, and a view\n\
        that other views read, are refused.\n\
        \n\
        Examples (crm.db as made by `segql demo --out crm.db`):\n  \
        segql view --db crm.db sales_contact 'contact where not marketing_only'\n  \
        segql view --db crm.db --guard email recent_contact 'contact where created_on >= now - 30d'\n  \
        segql view --db crm.db --drop recent_contact"
    )]
    View(ViewArgs),
    /// Add leads from a CSV file (updating matching open leads), then give each a contact.
    #[command(
        after_help = "The header names lead fields (any case, any but id); cells are trimmed, an empty\n\
        cell is missing; choices by label, bools true/false, dates and date-times as in\n\
        queries. A row whose email and topic equal an open lead's updates that lead\n\
        (--match). Imported leads without a contact get one as link-orphans gives it.\n\
        One transaction: a bad row (named by line, column and value) writes nothing.\n\
        \n\
        Examples (crm.db from `segql demo --out crm.db --contacts 200`; `segql demo --leads-csv FILE`\n\
        writes a larger list like examples/trade-show-leads.csv from any demo database):\n  \
        segql import-leads --db crm.db --dry-run examples/trade-show-leads.csv\n  \
        segql import-leads --db crm.db --dry-run --match email --format json examples/trade-show-leads.csv"
    )]
    ImportLeads(ImportLeadsArgs),
    /// Copy every table of the schema out as typed Parquet files, one directory per table.
    #[command(
        after_help = "Writes DIR/<table>/part-00000.parquet for every table: uuids and text as\n\
        strings, choices as their integer codes, dates as dates, date-times as UTC\n\
        timestamps, the column types of `compile --dialect spark`. Point Spark at a\n\
        table with `CREATE TABLE contact USING parquet LOCATION 'DIR/contact'`\n\
        (docs/export.md). A progress bar shows on a terminal (not with --quiet).\n\
        \n\
        Examples (crm.db as made by `segql demo --out crm.db`):\n  \
        segql export --db crm.db --out lake\n  \
        segql export --db crm.db --out lake --format parquet --report json"
    )]
    Export(ExportArgs),
    /// Load a database once, then evaluate segment after segment at a prompt.
    #[command(
        after_help = "Examples (crm.db as made by `segql demo --out crm.db`):\n  \
        segql shell\n  \
        segql shell --db crm.db --show 3 --now 2026-01-15T12:00:00Z"
    )]
    Shell(ShellArgs),
    /// List the entities, or one entity's fields, labels, relationships and guards.
    #[command(after_help = "Examples:\n  \
        segql schema\n  \
        segql schema contact\n  \
        segql schema lead --format json")]
    Schema(SchemaArgs),
}

/// Where the query text comes from.
#[derive(Args, Debug, Clone)]
pub struct QueryInput {
    /// The query text, or `-` for standard input.
    #[arg(value_name = "QUERY", required_unless_present = "file")]
    pub query: Option<String>,

    /// Read the query from FILE.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "query"
    )]
    pub file: Option<PathBuf>,
}

/// `segql check`: a query (or library, or model file) as every command
/// takes one, or a scoring model file with `--models`.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// The query text, or `-` for standard input.
    #[arg(value_name = "QUERY", required_unless_present_any = ["file", "models"])]
    pub query: Option<String>,

    /// Read the query (or library, or model file) from FILE.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "query"
    )]
    pub file: Option<PathBuf>,

    /// Check a scoring model file (SPEC 6) instead of a query.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["query", "file"])]
    pub models: Option<PathBuf>,
}

impl CheckArgs {
    /// The query input, when the command checks one.
    pub fn query_input(&self) -> QueryInput {
        QueryInput {
            query: self.query.clone(),
            file: self.file.clone(),
        }
    }
}

/// Options shared by the commands that turn a query into a plan.
#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    /// Reference time for `now`/`today` (e.g. 2026-01-15T12:00:00Z); default: the current UTC time.
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,

    /// AND the named audience guard of the schema into the query (repeatable).
    #[arg(long = "guard", value_name = "NAME")]
    pub guards: Vec<String>,

    /// Skip the optimizer.
    #[arg(long)]
    pub no_optimize: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlFormat {
    Sql,
    Json,
}

#[derive(Args, Debug)]
pub struct CompileArgs {
    #[command(flatten)]
    pub input: QueryInput,
    #[command(flatten)]
    pub plan: PlanArgs,
    // The names of `segql::db`'s registry.
    #[arg(long, default_value = "sqlite",
          value_parser = clap::builder::PossibleValuesParser::new(segql::db::dialect_names()))]
    pub dialect: String,
    #[arg(long, value_enum, default_value = "sql")]
    pub format: SqlFormat,
    /// Compile a query that counts the records instead of listing their ids.
    #[arg(long)]
    pub count: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineName {
    Sqlite,
    Memory,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    Table,
    Ids,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: QueryInput,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// SQLite database file or postgresql:// URL; the built-in demo data when absent.
    #[arg(long, value_name = "FILE|URL")]
    pub db: Option<String>,
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: EngineName,
    #[arg(long, value_enum, default_value = "table")]
    pub format: RowFormat,
    /// Print at most N records (the first N by id); default: a screenful for
    /// table, all for the other formats.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = parse_limit)]
    pub limit: Option<usize>,
    /// The fields to show, in order (e.g. id,email,city); default: the key,
    /// identifying fields and the fields the query tests (table), all (json, csv).
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Print only the number of records.
    #[arg(long)]
    pub count: bool,
    /// Print load and evaluation times to standard error.
    #[arg(long)]
    pub timing: bool,
    /// With --engine memory: load from the database, neither reading nor
    /// saving a snapshot of the loaded columns in the cache directory
    /// ($SEGQL_CACHE_DIR, else $XDG_CACHE_HOME/segql, else ~/.cache/segql).
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub input: QueryInput,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[arg(long, value_enum, default_value = "sql")]
    pub format: ExplainFormat,
    /// Show the optimized plan as a tree with the records each node selects
    /// (and the funnel of each `and`) instead of the plans and SQL.
    #[arg(long)]
    pub counts: bool,
    /// SQLite database file or postgresql:// URL to count on; the built-in demo data when absent.
    #[arg(long, value_name = "FILE|URL", requires = "counts")]
    pub db: Option<String>,
    #[arg(long, value_enum, default_value = "sqlite", requires = "counts")]
    pub engine: EngineName,
    /// Print load and counting times to standard error.
    #[arg(long, requires = "counts")]
    pub timing: bool,
    /// With --engine memory: load from the database, neither reading nor
    /// saving a snapshot of the loaded columns in the cache directory.
    #[arg(long, requires = "counts")]
    pub no_cache: bool,
}

/// `segql why`: one record's verdict for a segment.
#[derive(Args, Debug)]
pub struct WhyArgs {
    /// SQLite database file or postgresql:// URL; the built-in demo data when absent.
    #[arg(long, value_name = "FILE|URL")]
    pub db: Option<String>,
    /// The record's id (a uuid).
    #[arg(value_name = "ID")]
    pub id: String,
    #[command(flatten)]
    pub input: QueryInput,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: EngineName,
    #[arg(long, value_enum, default_value = "text")]
    pub format: WhyFormat,
    /// With --engine memory: load from the database, neither reading nor
    /// saving a snapshot of the loaded columns in the cache directory.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhyFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainFormat {
    /// Human-readable text.
    Sql,
    Json,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Database file to write; an existing file is replaced only if it is a segql demo database.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1000)]
    pub contacts: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Reference time the demo's dates are spread before (default: 2026-01-15T12:00:00Z, so runs repeat).
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
    /// Replace FILE even if it is not a segql demo database.
    #[arg(long)]
    pub force: bool,
    /// Also write a CSV of leads for `import-leads` made from the demo data (rows that
    /// match open leads, rows with existing contacts' emails, rows with new emails).
    #[arg(long, value_name = "CSV")]
    pub leads_csv: Option<PathBuf>,
    /// Rows of the --leads-csv file; default: as many as contacts.
    #[arg(long, value_name = "N", requires = "leads_csv")]
    pub leads_csv_rows: Option<usize>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
}

/// `segql advise`: indexes for segments.
#[derive(Args, Debug)]
pub struct AdviseArgs {
    /// SQLite database file or postgresql:// URL (only read).
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// The segments (each an argument, `-` for standard input); none: every
    /// segment of --library, or without one every relationship's foreign key.
    #[arg(value_name = "QUERY")]
    pub queries: Vec<String>,
    /// Read a segment from FILE (repeatable).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[arg(long, value_enum, default_value = "sql")]
    pub format: SqlFormat,
}

#[derive(Args, Debug)]
pub struct LinkOrphansArgs {
    /// SQLite database file or postgresql:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// Report what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// `created_on` of new contacts; default: the current UTC time.
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub input: QueryInput,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// SQLite database file or postgresql:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// FIELD=VALUE[,FIELD=VALUE...]
    #[arg(long = "set", value_name = "ASSIGNMENTS")]
    pub set: String,
    /// Report how many records would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub struct ShellArgs {
    /// SQLite database file; the built-in demo data when absent.
    #[arg(long, value_name = "FILE")]
    pub db: Option<String>,
    /// Reference time for `now`/`today`; default: the current UTC time.
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
    /// How results are printed at first (`.format` changes it).
    #[arg(long, value_enum, default_value = "table")]
    pub format: RowFormat,
    /// The fields to show at first (`.columns` changes it); default as for `run`.
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Show at most N records of each result (`.limit` changes it); default: a screenful.
    #[arg(long, visible_alias = "show", value_name = "N", allow_hyphen_values = true,
          value_parser = parse_limit)]
    pub limit: Option<usize>,
}

/// `--limit N`: a whole number; a negative one is refused with a message
/// saying so, rather than clap's hint to write `-- -1`.
pub fn parse_limit(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| format!("--limit must be a whole number ≥ 0, not '{text}'"))
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Show this entity in full (any case); every entity in brief when absent.
    #[arg(value_name = "ENTITY")]
    pub entity: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: SchemaFormat,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// SQLite database file or postgresql:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// The scoring model file.
    #[arg(long, value_name = "FILE")]
    pub models: PathBuf,
    /// Reference time for `now`/`today` in the rules and `scored_on`; default: the current UTC time.
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
    /// Report what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who computes the scores: the database's SQL (sqlite, also for PostgreSQL) or the memory engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: EngineName,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Explain one lead's scores (each rule, its count and points) instead of scoring.
    #[arg(long, value_name = "LEAD_ID")]
    pub explain: Option<String>,
}

/// `segql view`: NAME and a query, or `--drop NAME`.
#[derive(Args, Debug)]
pub struct ViewArgs {
    /// SQLite database file or postgresql:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// The view's name: ASCII letters, digits and underscores.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The segment's query, or `-` for standard input.
    #[arg(value_name = "QUERY", required_unless_present_any = ["file", "drop"],
          conflicts_with = "drop")]
    pub query: Option<String>,
    /// Read the query from FILE.
    #[arg(short = 'f', long = "file", value_name = "FILE",
          conflicts_with_all = ["query", "drop"])]
    pub file: Option<PathBuf>,
    /// Drop the view NAME instead (it must exist).
    #[arg(long)]
    pub drop: bool,
    /// AND the named audience guard of the schema into the query (repeatable).
    #[arg(long = "guard", value_name = "NAME", conflicts_with = "drop")]
    pub guards: Vec<String>,
    /// Skip the optimizer.
    #[arg(long, conflicts_with = "drop")]
    pub no_optimize: bool,
    /// Do everything and report, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
}

impl ViewArgs {
    /// The query input (absent with `--drop`).
    pub fn query_input(&self) -> QueryInput {
        QueryInput {
            query: self.query.clone(),
            file: self.file.clone(),
        }
    }

    /// The planning options `run` takes, minus `--now`: a view's `now` is
    /// the database's clock.
    pub fn plan_args(&self) -> PlanArgs {
        PlanArgs {
            now: None,
            guards: self.guards.clone(),
            no_optimize: self.no_optimize,
        }
    }
}

/// `--match` of `import-leads`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchArg {
    /// Email (trimmed, any ASCII case) and topic (exact) of an open lead.
    #[value(name = "email+topic")]
    EmailTopic,
    /// Email alone.
    Email,
    /// Never match: every row creates a lead.
    None,
}

#[derive(Args, Debug)]
pub struct ImportLeadsArgs {
    /// SQLite database file or postgresql:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// How a row finds the open lead it updates instead of creating one.
    #[arg(long = "match", value_enum, default_value = "email+topic")]
    pub matching: MatchArg,
    /// `created_on` of new leads (when the file gives none) and contacts; default: the current UTC time.
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
    /// Report what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// The CSV file (UTF-8, first line: lead field names).
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,
}

/// `segql export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// SQLite database file or postgresql:// URL to read.
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// Directory to write (created if missing), one subdirectory per table.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// File format of the tables.
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: ExportFormat,
    /// Rows per Parquet row group.
    #[arg(long, value_name = "N", default_value_t = segql::export::ROWS_PER_GROUP as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rows_per_group: u64,
    /// How to print what was written.
    #[arg(long, value_enum, default_value = "table")]
    pub report: ReportFormat,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Parquet,
}

/// `segql refresh`.
#[derive(Args, Debug)]
pub struct RefreshArgs {
    /// SQLite database file or postgresql:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// The segments to refresh (names of the library's segments); all of them when absent.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Reference time for `now`/`today` in the segments, and `since`/`at` of the rows written;
    /// default: the current UTC time.
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
    /// AND the named audience guard of the schema into every segment (repeatable).
    #[arg(long = "guard", value_name = "NAME")]
    pub guards: Vec<String>,
    /// Report what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who computes the members: the database's SQL (sqlite, also for PostgreSQL) or the memory engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: EngineName,
    #[arg(long, value_enum, default_value = "text")]
    pub format: RefreshFormat,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshFormat {
    /// A table: segment, members, joined, left.
    #[value(alias = "table")]
    Text,
    Json,
}
