//! Marks a build whose tests can reach PostgreSQL: with
//! `PORTAL_TEST_POSTGRES_URL` unset, the PostgreSQL variants of the
//! integration tests are built as ignored, so the test summary counts them
//! ("N ignored") instead of reporting a pass that never ran (issue 11).
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PORTAL_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(portal_test_postgres)");
    if std::env::var_os("PORTAL_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=portal_test_postgres");
    }
}
