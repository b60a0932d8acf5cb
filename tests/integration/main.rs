//! Integration tests: the real application over HTTP, on SQLite and PostgreSQL.
mod common;
mod foundation;
mod peeringdb;
mod staff;
