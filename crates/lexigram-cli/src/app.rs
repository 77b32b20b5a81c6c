//! An application's own `lexigram` binary: the standard command line plus what only the
//! application's code knows — its entities and its Rust seeders.
//!
//! The standalone `lexigram` binary cannot see an application's `#[derive(Entity)]` types or
//! seed functions. An application that wants them makes a small binary of its own (for
//! example `src/bin/lexigram.rs`):
//!
//! ```no_run
//! use lexigram_cli::App;
//! use lexigram_cli::Manifest;
//! use lexigram_sql::{Database, Entity};
//!
//! #[derive(Debug, Clone, Entity)]
//! struct Invoice {
//!     #[entity(key, generated)]
//!     id: i64,
//!     number: String,
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let manifest = Manifest::from_yaml(
//!         "tables:\n  - name: invoices\n    columns:\n      - { name: id, type: bigint, key: generated }\n      - { name: number, type: string(40) }\n",
//!         "embedded entities.yaml",
//!     );
//!     let manifest = match manifest {
//!         Ok(m) => m,
//!         Err(e) => {
//!             eprintln!("error: {e}");
//!             return std::process::ExitCode::FAILURE;
//!         }
//!     };
//!     App::new()
//!         .entities(manifest)           // `db migrate --auto` without --entities uses it
//!         .entity::<Invoice>()          // checked against the manifest before --auto runs
//!         .seeder("demo_invoices", |db: Database| async move {
//!             db.execute("INSERT INTO invoices (number) VALUES ('INV-1')", &[]).await?;
//!             Ok(())
//!         })
//!         .main()
//! }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use lexigram_sql::Database;
use lexigram_sql::repository::{Entity, EntityMeta};

use crate::entities::Manifest;

/// The future a Rust seeder returns.
pub type SeedFuture = Pin<Box<dyn Future<Output = Result<(), lexigram_sql::Error>> + Send>>;

/// A registered Rust seeder: a name (its record in `schema_seeds` is `rust:<name>`) and the
/// function that seeds, given the database.
#[derive(Clone)]
pub struct Seeder {
    /// The seeder's name.
    pub name: String,
    run: Arc<dyn Fn(Database) -> SeedFuture + Send + Sync>,
}

impl Seeder {
    /// Runs the seeder.
    pub(crate) fn run(&self, db: Database) -> SeedFuture {
        (self.run)(db)
    }
}

impl std::fmt::Debug for Seeder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seeder").field("name", &self.name).finish()
    }
}

/// What an application adds to the command line. [`App::main`] runs it.
#[derive(Debug, Default, Clone)]
pub struct App {
    manifest: Option<Manifest>,
    entities: Vec<&'static EntityMeta>,
    seeders: Vec<Seeder>,
}

static CURRENT: OnceLock<App> = OnceLock::new();

/// The application's additions for this process (empty for the standalone binary).
pub(crate) fn current() -> App {
    CURRENT.get().cloned().unwrap_or_default()
}

impl App {
    /// Nothing added: the standalone command line.
    pub fn new() -> App {
        App::default()
    }

    /// The entities manifest `db migrate --auto` uses when no `--entities FILE` is given
    /// (instead of `entities.yaml` in the current directory).
    pub fn entities(mut self, manifest: Manifest) -> App {
        self.manifest = Some(manifest);
        self
    }

    /// Registers an entity: before `db migrate --auto` runs, the manifest must declare its
    /// table with exactly its columns and key, so the generated DDL fits the Rust type.
    pub fn entity<E: Entity>(mut self) -> App {
        self.entities.push(E::meta());
        self
    }

    /// Registers a Rust seeder, run by `db seed` (and `db reset --seed`) after the SQL seed
    /// files, in registration order, once: recorded as `rust:<name>` in `schema_seeds`
    /// after it succeeds. Use a transaction inside it if it must be all or nothing.
    pub fn seeder<F, Fut>(mut self, name: &str, seed: F) -> App
    where
        F: Fn(Database) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), lexigram_sql::Error>> + Send + 'static,
    {
        self.seeders.push(Seeder {
            name: name.to_string(),
            run: Arc::new(move |db| Box::pin(seed(db))),
        });
        self
    }

    /// Runs the command line of this process's arguments with these additions; returns the
    /// exit status as [`crate::main`] does.
    pub fn main(self) -> ExitCode {
        let _ = CURRENT.set(self);
        crate::main()
    }

    /// The manifest given with [`App::entities`].
    pub(crate) fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// The registered Rust seeders.
    pub(crate) fn seeders(&self) -> &[Seeder] {
        &self.seeders
    }

    /// Every difference between the registered entities and the manifest, as sentences.
    pub(crate) fn entity_mismatches(&self, manifest: &Manifest) -> Vec<String> {
        self.entities
            .iter()
            .flat_map(|meta| manifest.mismatches(meta))
            .collect()
    }
}
