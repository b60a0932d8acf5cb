//! The query plan of a query, for the tests that check that lists use
//! indexes: `EXPLAIN` on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite.
use super::{DbConnection, MultiBackend};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::sql_types::{Integer, Text};
use std::marker::PhantomData;

/// `prefix` + the query, read back as rows of type `ST`.
struct Explain<Q, ST> {
    prefix: &'static str,
    query: Q,
    row: PhantomData<ST>,
}

impl<Q: QueryFragment<MultiBackend>, ST> QueryFragment<MultiBackend> for Explain<Q, ST> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        pass.push_sql(self.prefix);
        self.query.walk_ast(pass.reborrow())
    }
}

impl<Q, ST> QueryId for Explain<Q, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, ST: 'static> Query for Explain<Q, ST> {
    type SqlType = ST;
}

impl<Q, ST> RunQueryDsl<DbConnection> for Explain<Q, ST> {}

/// The plan of `query`, one line per row of the backend's answer.
pub fn explain<Q>(conn: &mut DbConnection, query: Q) -> Result<Vec<String>, Error>
where
    Q: QueryFragment<MultiBackend>,
{
    match conn {
        DbConnection::Pg(_) => Explain::<_, Text> {
            prefix: "EXPLAIN ",
            query,
            row: PhantomData,
        }
        .load::<String>(conn),
        DbConnection::Sqlite(_) => Ok(Explain::<_, (Integer, Integer, Integer, Text)> {
            prefix: "EXPLAIN QUERY PLAN ",
            query,
            row: PhantomData,
        }
        .load::<(i32, i32, i32, String)>(conn)?
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect()),
    }
}
