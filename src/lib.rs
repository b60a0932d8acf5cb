//! ixp-portal: the member portal of an Internet Exchange Point.
pub mod db;
pub mod domain;
