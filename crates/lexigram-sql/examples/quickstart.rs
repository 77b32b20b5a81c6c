//! The quickstart: an application on the SQLite default, from nothing.
//!
//! Boots an `Application` with `DatabaseModule::configure_default()` (SQLite file `data.db` in
//! the working directory, unless `application.yaml` / `LEX_SQL__*` say otherwise), applies
//! the migrations embedded from `quickstart_migrations/`, creates, reads and updates entities,
//! provokes an optimistic-lock conflict and retries it, runs a unit of work (and drops one
//! without commit), prints the health report and shuts down. Safe to run again: it resets its
//! demo rows first.
//!
//! ```sh
//! cargo run --example quickstart
//! LEX_LOG_LEVEL=debug cargo run --example quickstart   # with lifecycle and SQL logs
//! ```

use lexigram::Application;
use lexigram_sql::migrate::Migrator;
use lexigram_sql::repository::{asc, col};
use lexigram_sql::{
    Database, DatabaseModule, Entity, Error, MigrationSource, Query, Repository, embed_migrations,
};

/// Stored in table `users`.
#[derive(Debug, Clone, Entity)]
struct User {
    #[entity(key, generated)]
    id: i64,
    name: String,
    email: String,
    /// Optimistic locking: 1 on create, +1 on every update.
    #[entity(version)]
    version: i64,
}

impl User {
    fn new(name: &str, email: &str) -> User {
        User {
            id: 0,
            name: name.into(),
            email: email.into(),
            version: 0,
        }
    }
}

/// Stored in table `orders`.
#[derive(Debug, Clone, Entity)]
struct Order {
    #[entity(key, generated)]
    id: i64,
    user_id: i64,
    item: String,
    quantity: i64,
}

fn migrations() -> lexigram_sql::Result<MigrationSource> {
    embed_migrations!("quickstart_migrations")
}

fn step(n: u32, title: &str) {
    println!("\n{n}. {title}");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    step(
        1,
        "Boot the application on the SQLite default, migrating on boot",
    );
    let app = Application::builder("quickstart")
        .logging_from_env()
        .module(DatabaseModule::configure_default().enable_migrations_from(migrations()?))
        .module(DatabaseModule::scope::<(User, Order)>())
        .boot()
        .await?;
    let db = app.resolve::<Database>()?;
    let status = Migrator::new(&db, migrations()?).status().await?;
    println!("   database `{}` at {}", db.name(), db.settings().url);
    println!(
        "   schema at version {}, {} migration(s) pending",
        status.current_version.unwrap_or(0),
        status.pending().len()
    );
    // Idempotent: start from empty demo tables on every run.
    db.execute_batch("DELETE FROM orders; DELETE FROM users;")
        .await?;

    step(2, "Create and read entities");
    let users = app.resolve::<Repository<User>>()?; // bound by DatabaseModule::scope
    let ada = users.create(User::new("ada", "ada@example.com")).await?;
    let grace = users
        .create(User::new("grace", "grace@example.com"))
        .await?;
    println!(
        "   created {} (id {}, version {})",
        ada.name, ada.id, ada.version
    );
    println!(
        "   created {} (id {}, version {})",
        grace.name, grace.id, grace.version
    );
    let found = users.find_one(ada.id).await?;
    println!(
        "   find_one({}) -> {} <{}>",
        ada.id, found.name, found.email
    );
    let everyone = users.find_many(Query::new().order_by(asc("name"))).await?;
    let names: Vec<&str> = everyone.iter().map(|u| u.name.as_str()).collect();
    println!("   all users by name: {names:?}");

    step(3, "Update: the version goes up by one");
    let mut ada = found;
    ada.name = "Ada Lovelace".into();
    users.update(&mut ada).await?;
    println!("   renamed to {:?}, now version {}", ada.name, ada.version);

    step(4, "Optimistic locking: two writers, one stale copy");
    let mut first = users.find_one(grace.id).await?;
    let mut second = users.find_one(grace.id).await?; // read at the same version
    first.name = "Grace Hopper".into();
    users.update(&mut first).await?;
    println!(
        "   writer 1 saved {:?} (version {})",
        first.name, first.version
    );
    second.email = "grace@navy.example".into();
    match users.update(&mut second).await {
        Err(e @ Error::OptimisticLock { .. }) => println!("   writer 2 failed: {e}"),
        other => return Err(format!("expected a version mismatch, got {other:?}").into()),
    }
    let retried = users
        .update_with_retry(grace.id, 3, |u| {
            u.email = "grace@navy.example".into();
            Ok(())
        })
        .await?;
    println!(
        "   writer 2 re-fetched and retried: {} <{}> (version {})",
        retried.name, retried.email, retried.version
    );

    step(5, "A unit of work: several writes, one commit");
    let mut uow = db.unit_of_work().await?;
    let orders = uow.repository::<Order>();
    orders
        .create(Order {
            id: 0,
            user_id: ada.id,
            item: "analytical engine".into(),
            quantity: 1,
        })
        .await?;
    orders
        .create(Order {
            id: 0,
            user_id: ada.id,
            item: "punched cards".into(),
            quantity: 500,
        })
        .await?;
    uow.register_dirty(User {
        name: "Ada, Countess of Lovelace".into(),
        ..ada.clone()
    });
    uow.commit().await?;
    let ada = users.find_one(ada.id).await?;
    let orders = app.resolve::<Repository<Order>>()?;
    let ada_orders = orders
        .count(Query::new().filter(col("user_id").eq(ada.id)))
        .await?;
    println!(
        "   committed: {} has {ada_orders} orders (version {})",
        ada.name, ada.version
    );

    step(6, "A unit of work dropped without commit() is rolled back");
    {
        let uow = db.unit_of_work().await?;
        uow.repository::<Order>()
            .create(Order {
                id: 0,
                user_id: grace.id,
                item: "compiler".into(),
                quantity: 1,
            })
            .await?;
        println!("   inside: order created, then the unit is dropped without commit()");
    }
    tokio::task::yield_now().await; // let the background rollback finish
    let grace_orders = orders
        .count(Query::new().filter(col("user_id").eq(grace.id)))
        .await?;
    println!(
        "   after the drop: {} has {grace_orders} orders (nothing persisted)",
        retried.name
    );

    step(7, "Health report");
    let health = app.health_check().await;
    for line in health.to_string().lines() {
        println!("   {line}");
    }

    step(8, "Shut down (pools closed in reverse order)");
    app.shutdown().await?;
    println!("   closed: {}", db.is_closed());
    Ok(())
}
