//! `audit verify`: re-computes the audit log's hash chain and names edited and deleted rows.

use std::process::ExitCode;

use lexigram_sql::Database;
use lexigram_sql::audit::{self, AuditLog};

use super::print_json;
use crate::args::GlobalArgs;
use crate::{CliError, settings};

/// `lexigram db audit verify [--json]`: exit 0 and a one-line summary when the chain is
/// intact; exit 1 naming the first edited row, the edited rows and the deleted rows when not.
/// The key comes from `sql.audit.audit_hmac_key` and is never printed.
pub(crate) async fn verify(global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let config = settings::load(global)?;
    let backend = settings::selected(global, &config)?;
    let Some(key) = config.audit.audit_hmac_key.clone() else {
        return Err(CliError::Message(
            "sql.audit.audit_hmac_key is not set, so the audit chain cannot be verified. Fix: set it in application.yaml or LEX_SQL__AUDIT__AUDIT_HMAC_KEY (the key the log was written with)".to_string(),
        ));
    };
    let log = AuditLog::new(&config.audit.table, key)?;
    let db = Database::connect(backend).await?;
    let report = audit::verify(&db, &log).await;
    db.close().await;
    let report = report?;
    if global.json {
        print_json(&serde_json::json!({
            "table": report.table,
            "rows": report.rows,
            "head_seq": report.head_seq,
            "intact": report.is_intact(),
            "first_edited": report.first_edited(),
            "edited": report.edited,
            "deleted": report.deleted,
            "relinked": report.relinked,
        }))?;
    } else if !global.quiet || !report.is_intact() {
        println!("{report}");
    }
    if report.is_intact() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CliError::Message(format!(
            "the audit log '{}' was tampered with (see above). Fix: restore the log from a backup and investigate who edited or deleted the named rows",
            report.table
        )))
    }
}
