//! A streamed query under the same observation as every other statement: its span, echo /
//! slow-statement log, metrics and statistics, recorded when the stream ends, fails or is
//! dropped (with the rows read so far).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::Stream;
use tracing::Span;

use super::Database;
use super::instrument::finished;
use crate::backend::RowStream;
use crate::error::{Error, Result};
use crate::observe::span;
use crate::value::Row;

/// Wraps `rows`, the stream of `sql`, so that it is observed.
pub(crate) fn observed(db: &Database, sql: String, params: usize, rows: RowStream) -> RowStream {
    let span = span::statement(db.observer(), &sql);
    Box::pin(Observed {
        rows,
        db: db.clone(),
        sql,
        params,
        span,
        started: Instant::now(),
        read: 0,
        done: false,
    })
}

struct Observed {
    rows: RowStream,
    db: Database,
    sql: String,
    params: usize,
    span: Span,
    started: Instant,
    read: u64,
    done: bool,
}

impl Observed {
    fn finish(&mut self, error: Option<&Error>) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let outcome = match error {
            Some(e) => Err(e),
            None => Ok(self.read),
        };
        finished(
            &self.db,
            &self.span,
            &self.sql,
            self.params,
            self.started.elapsed(),
            outcome,
        );
    }
}

impl Stream for Observed {
    type Item = Result<Row>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let entered = this.span.enter();
        let polled = this.rows.as_mut().poll_next(cx);
        drop(entered);
        match &polled {
            Poll::Ready(Some(Ok(_))) => this.read += 1,
            Poll::Ready(Some(Err(e))) => this.finish(Some(e)),
            Poll::Ready(None) => this.finish(None),
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        // Dropped before its end: the rows read so far.
        self.finish(None);
    }
}
