//! The command line, as clap types. Every doc comment here is `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const CONFIG_HELP: &str = "\
WHERE THE DATABASE URL COMES FROM (first match wins):
  1. --url on the command line
  2. LEX_SQL__BACKEND__URL and other LEX_SQL__* environment variables
     (variables of a .env file in the current directory count too; the
     process environment wins over .env)
  3. the `sql:` section of application.yaml in the current directory
     (or of the file named by --config or LEX_CONFIG_FILE)
  4. DATABASE_URL
  5. the default: sqlite:///data.db (the file data.db in the current directory)

With several `sql.backends`, commands work on the primary one; --backend NAME
picks another, and --all runs migration commands on every backend in turn.

URLs: sqlite:///data.db (relative file), sqlite:////var/app.db (absolute),
      postgresql://user:pass@host:5432/db, mysql://user:pass@host:3306/db
Passwords are never printed (shown as ***).";

/// `lexigram`: the command line of the lexigram application framework.
#[derive(Debug, Parser)]
#[command(name = "lexigram", version, about, propagate_version = true, after_help = CONFIG_HELP)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Database URL; overrides application.yaml, LEX_SQL__* and DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// Migrations directory [default: `sql.migrations.dir`, else `migrations`].
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Configuration file to read instead of application.yaml (overrides LEX_CONFIG_FILE).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Work on the named backend of `sql.backends` instead of the primary one.
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "url")]
    pub backend: Option<String>,
    /// Run the migration command on every backend of `sql.backends`, in order
    /// (upgrade, downgrade, status, history, validate, repair, reset).
    #[arg(long, global = true, conflicts_with_all = ["url", "backend"])]
    pub all: bool,
    /// Print only errors and the data a command exists to show (no progress or summaries).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// No colors in help and error output (NO_COLOR=1 does the same).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Database commands: migrations, health, schema.
    #[command(subcommand)]
    Db(DbCommand),
    /// Print a shell completion script, e.g. `lexigram completions bash > /etc/bash_completion.d/lexigram`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// `lexigram db …`
#[derive(Debug, Clone, Subcommand)]
#[command(after_help = CONFIG_HELP)]
pub enum DbCommand {
    /// Create the migrations directory (default `migrations`).
    Init {
        /// Directory to create [default: --dir, else `sql.migrations.dir`, else `migrations`].
        dir: Option<PathBuf>,
    },
    /// Create a new, empty migration: <version>_<name>.up.sql and .down.sql.
    ///
    /// The version is the current UTC time as YYYYMMDDHHMMSS (e.g. 20261124130501), so
    /// migrations made on different branches sort by creation time. Write the change in the
    /// .up.sql file and how to undo it in the .down.sql file.
    Create {
        /// What the migration does, e.g. `add_users` (letters, digits, `_`).
        name: String,
    },
    /// Apply pending migrations, oldest first, each in its own transaction where the
    /// database allows.
    Upgrade {
        /// Stop after this version (inclusive) instead of applying everything.
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
        /// Only list what would be applied; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Revert applied migrations with their .down.sql scripts (default: the last one).
    Downgrade {
        /// Revert everything applied after VERSION (VERSION stays applied; 0 reverts all).
        #[arg(value_name = "VERSION", conflicts_with = "steps")]
        target: Option<i64>,
        /// Revert the last N migrations.
        #[arg(long, value_name = "N")]
        steps: Option<usize>,
    },
    /// Show the current version and every migration: applied, pending, dirty, changed
    /// since applied (drift) or missing its file.
    Status,
    /// List applied migrations, most recent first, with when and how long they took.
    History {
        /// Show at most N entries.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Check that applied migrations match their files (checksums) and that none is dirty
    /// or missing; exits non-zero if not.
    Validate,
    /// After fixing the database by hand: clear dirty marks (the migration runs again on the
    /// next upgrade) and accept edited files of applied migrations.
    Repair,
    /// Check that the database answers: status, latency and pool figures per backend (with
    /// `--json`, a stable JSON report). Exits 0 when every backend is up and 1 when one is
    /// down or the configuration is invalid: usable as a readiness probe.
    Check,
    /// List tables and their columns.
    Inspect {
        /// Only this table.
        #[arg(long, value_name = "TABLE")]
        table: Option<String>,
    },
    /// Create a new migration pair named NAME; with --auto, write the DDL that brings the
    /// database to the tables declared in the entities manifest.
    ///
    /// Without --auto this is `create NAME`. With --auto the database must be up to date
    /// (no pending migrations); missing tables, columns and indexes are created, and columns
    /// the manifest no longer declares are dropped only with --allow-destructive. The SQL is
    /// written for the configured backend; review it before `lexigram db upgrade`.
    Migrate {
        /// What the migration does, e.g. `add_invoices` (letters, digits, `_`).
        #[arg(short = 'm', long = "message", value_name = "NAME")]
        message: String,
        /// Compare the entities manifest with the live schema and write the DDL.
        #[arg(long)]
        auto: bool,
        /// With --auto: allow changes that lose data (dropping columns).
        #[arg(long, requires = "auto")]
        allow_destructive: bool,
        /// The entities manifest (YAML: tables, columns, indexes; see MIGRATIONS.md)
        /// [default: the one an application's own binary embeds, else entities.yaml].
        #[arg(long, value_name = "FILE")]
        entities: Option<PathBuf>,
    },
    /// Back up the database to FILE with pg_dump, mariadb-dump or SQLite's online backup.
    ///
    /// PostgreSQL: custom format, only the schema a URL pins with `options=-c search_path=S`
    /// if it pins one. MariaDB/MySQL: SQL text. SQLite: a copy of the database file.
    ///
    /// The password is handed to the tools in PGPASSWORD or a private options file, never on
    /// their command line. FILE is written under FILE.partial and renamed when complete.
    Backup {
        /// Where to write the backup.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Restore a backup made by `db backup` into the database.
    ///
    /// Refuses when any table (the migrations table aside) holds rows, unless --force.
    Restore {
        /// The backup file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Replace the data the database holds.
        #[arg(long)]
        force: bool,
    },
    /// Open the database's own client on the configured database: `psql`, `mariadb` (or
    /// `mysql`) or `sqlite3`.
    ///
    /// The password goes to the client in PGPASSWORD or a private options file (deleted when
    /// the client exits), never on its command line. Reads stdin, so scripts can be piped in;
    /// exits with the client's status.
    Shell,
    /// The audit log (`sql.audit`): `lexigram db audit verify` checks its hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Revert every migration (drops what they created) and apply them all again.
    /// Destroys data: refuses to run without --force.
    Reset {
        /// Yes, really: drop and recreate everything the migrations manage.
        #[arg(long)]
        force: bool,
        /// Then apply the seed files again (see `db seed`).
        #[arg(long)]
        seed: bool,
        /// The seeds directory for --seed.
        #[arg(long, value_name = "DIR", default_value = "seeds", requires = "seed")]
        seeds: PathBuf,
    },
    /// Apply SQL seed files, each exactly once: every `.sql` file of the seeds directory in
    /// name order, or one --file.
    ///
    /// Applied seeds are recorded in `schema_seeds` (name, checksum) in the seed's own
    /// transaction; running again skips them. An applied seed whose file changed is reported
    /// and not run again. `reset` forgets the records.
    Seed {
        /// Apply this file only.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// The seeds directory.
        #[arg(
            long,
            value_name = "DIR",
            default_value = "seeds",
            conflicts_with = "file"
        )]
        seeds: PathBuf,
    },
}

/// `lexigram db audit …` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Verify the audit log's hash chain (table `sql.audit.table`, keyed by
    /// `sql.audit.audit_hmac_key`, env LEX_SQL__AUDIT__AUDIT_HMAC_KEY): exits 0 with a summary
    /// when intact, 1 naming the edited and deleted rows when not.
    Verify,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
